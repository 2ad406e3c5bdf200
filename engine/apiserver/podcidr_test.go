package apiserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestNodePodCIDRIsTheControlPlanes: a node can neither register with a
// pod CIDR nor change the one it was given (403 naming spec.podCIDR); no
// one changes it once set (422 naming spec.podCIDR); a writer that omits
// it keeps it; a malformed one is a 422.
func TestNodePodCIDRIsTheControlPlanes(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	admin := env.Client.Nodes()
	nodes := mustJoin(t, env, api.TokenRequest{}, "cidr-1").client.Nodes()
	failsNaming := func(t *testing.T, what string, err error, code int) {
		t.Helper()
		if api.CodeOf(err) != code || !strings.Contains(err.Error(), "spec.podCIDR") {
			t.Fatalf("%s: %v, want %d naming spec.podCIDR", what, err, code)
		}
	}

	_, err := nodes.Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "cidr-1"}, Spec: api.NodeSpec{PodCIDR: "10.244.7.0/24"}})
	failsNaming(t, "node registering with a pod CIDR", err, http.StatusForbidden)
	n, err := nodes.Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "cidr-1"}})
	if err != nil {
		t.Fatal(err)
	}

	n.Spec.PodCIDR = "10.244.7.0/24"
	_, err = nodes.Update(ctx, n)
	failsNaming(t, "node giving itself a pod CIDR", err, http.StatusForbidden)

	bad := *n
	bad.Spec.PodCIDR = "10.244.7.1/24"
	_, err = admin.Update(ctx, &bad)
	failsNaming(t, "admin setting a CIDR with host bits", err, http.StatusUnprocessableEntity)

	// The control plane (an admin credential) assigns it.
	n, err = admin.Update(ctx, n)
	if err != nil || n.Spec.PodCIDR != "10.244.7.0/24" {
		t.Fatalf("assigning: %v (podCIDR %q)", err, n.Spec.PodCIDR)
	}

	changed := *n
	changed.Spec.PodCIDR = "10.244.8.0/24"
	_, err = nodes.Update(ctx, &changed)
	failsNaming(t, "node changing its pod CIDR", err, http.StatusUnprocessableEntity)
	_, err = admin.Update(ctx, &changed)
	failsNaming(t, "admin changing a pod CIDR", err, http.StatusUnprocessableEntity)

	// A node's update that omits it (labels) keeps it; so does a status write.
	omits := *n
	omits.Spec.PodCIDR = ""
	omits.Labels = map[string]string{"custom": "1"}
	got, err := nodes.Update(ctx, &omits)
	if err != nil || got.Spec.PodCIDR != "10.244.7.0/24" || got.Labels["custom"] != "1" {
		t.Fatalf("update omitting the pod CIDR: %v, podCIDR %q, want it kept", err, got.Spec.PodCIDR)
	}
	got.Spec.PodCIDR = "10.244.9.0/24"
	got, err = nodes.UpdateStatus(ctx, got)
	if err != nil || got.Spec.PodCIDR != "10.244.7.0/24" {
		t.Fatalf("status write: %v, podCIDR %q, want the spec untouched", err, got.Spec.PodCIDR)
	}
}
