package apiserver_test

import (
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// A dry-run create in a namespace that does not exist yet is refused,
// unless the client says the namespace may be new (a plan creating it
// too): then the object is validated and previewed as in an empty
// namespace, and nothing is stored.
func TestDryRunInNewNamespace(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	if _, err := env.Client.Nodes().Create(ctx, readyNode("a", "zone-a", "8Gi")); err != nil {
		t.Fatal(err)
	}
	deps := env.Client.Deployments("fresh")
	big := func() *api.Deployment {
		d := deployment("big", 3)
		d.Namespace = "fresh"
		d.Spec.Template.Spec.Containers[0].Resources.Requests[api.ResourceMemory] = resource.MustParse("3Gi")
		return d
	}

	if _, err := deps.Create(ctx, big(), client.WriteOptions{DryRun: true}); !api.IsNotFound(err) {
		t.Fatalf("dry run in a missing namespace: want not found, got %v", err)
	}
	var prev api.PlacementPreview
	if _, err := deps.Create(ctx, big(), client.WriteOptions{DryRun: true, NamespaceMayBeNew: true, Placement: &prev}); err != nil {
		t.Fatalf("dry run in a namespace that may be new: %v", err)
	}
	if prev.Pods != 3 || prev.Placed != 2 || prev.Reason != "0/1 nodes available: 1 insufficient memory" {
		t.Fatalf("preview in a new namespace: %+v", prev)
	}
	if _, err := deps.Create(ctx, big(), client.WriteOptions{NamespaceMayBeNew: true}); !api.IsNotFound(err) {
		t.Fatalf("a real create in a missing namespace: want not found, got %v", err)
	}
	if _, err := env.Client.Namespaces().Get(ctx, "fresh"); !api.IsNotFound(err) {
		t.Fatalf("the namespace exists after dry runs: %v", err)
	}
}
