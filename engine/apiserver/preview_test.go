package apiserver_test

import (
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func readyNode(name, zone, memory string) *api.Node {
	capacity := api.ResourceList{api.ResourceCPU: resource.MustParse("4"), api.ResourceMemory: resource.MustParse(memory),
		api.ResourcePods: resource.MustParse("110")}
	return &api.Node{
		ObjectMeta: api.ObjectMeta{Name: name, Labels: map[string]string{api.LabelZone: zone, api.LabelHostname: name}},
		Status: api.NodeStatus{Capacity: capacity, Allocatable: capacity,
			Conditions: []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue}}},
	}
}

func TestDryRunPlacementPreview(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	for _, n := range []*api.Node{readyNode("a", "zone-a", "8Gi"), readyNode("b", "zone-b", "8Gi")} {
		if _, err := env.Client.Nodes().Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	deps := env.Client.Deployments("default")

	fits := deployment("web", 4)
	var prev api.PlacementPreview
	var warnings []string
	if _, err := deps.Create(ctx, fits, client.WriteOptions{DryRun: true, Placement: &prev, Warnings: &warnings}); err != nil {
		t.Fatal(err)
	}
	if prev.Pods != 4 || prev.Placed != 4 || prev.Nodes["a"] != 2 || prev.Nodes["b"] != 2 || len(warnings) != 0 {
		t.Fatalf("preview of a deployment that fits: %+v warnings %v; want 4 placed, 2 per node", prev, warnings)
	}

	tooBig := deployment("big", 3)
	tooBig.Spec.Template.Spec.Containers[0].Resources.Requests[api.ResourceMemory] = resource.MustParse("6Gi")
	prev, warnings = api.PlacementPreview{}, nil
	if _, err := deps.Create(ctx, tooBig, client.WriteOptions{DryRun: true, Placement: &prev, Warnings: &warnings}); err != nil {
		t.Fatal(err)
	}
	if prev.Placed != 2 || prev.Reason != "0/2 nodes available: 2 insufficient memory" {
		t.Fatalf("preview of a deployment that does not fit: %+v", prev)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "1 of 3 pods of Deployment big could not be placed: 0/2 nodes available: 2 insufficient memory") {
		t.Fatalf("warnings %q", warnings)
	}
	if _, err := deps.Get(ctx, "big"); !api.IsNotFound(err) {
		t.Fatalf("a dry run stored the deployment: %v", err)
	}
}
