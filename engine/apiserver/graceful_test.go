package apiserver_test

import (
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func TestGracefulPodDeletion(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)
	if _, err := env.Client.Nodes().Create(ctx, readyNode("node-1", "zone-a", "8Gi")); err != nil {
		t.Fatal(err)
	}
	pods := env.Client.Pods("default")
	for _, p := range []*api.Pod{pod("running", "node-1"), pod("unbound", ""), pod("orphan", "no-such-node")} {
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// A pod on a node gets its grace period: it is marked, not deleted.
	before := time.Now()
	if err := pods.Delete(ctx, "running"); err != nil {
		t.Fatal(err)
	}
	marked, err := pods.Get(ctx, "running")
	if err != nil {
		t.Fatalf("a running pod vanished at once: %v", err)
	}
	if g := marked.DeletionGracePeriodSeconds; g == nil || *g != 30 || marked.DeletionTimestamp == nil ||
		marked.DeletionTimestamp.Before(before.Add(29*time.Second)) {
		t.Fatalf("marked pod: grace %v deadline %v, want 30 s from now", g, marked.DeletionTimestamp)
	}
	// A later delete may shorten the grace period, not lengthen it.
	if err := pods.Delete(ctx, "running", client.DeleteOptions{GracePeriodSeconds: api.Ptr[int64](5)}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Delete(ctx, "running", client.DeleteOptions{GracePeriodSeconds: api.Ptr[int64](60)}); err != nil {
		t.Fatal(err)
	}
	if p, _ := pods.Get(ctx, "running"); *p.DeletionGracePeriodSeconds != 5 {
		t.Fatalf("grace after shortening and a longer request: %d, want 5", *p.DeletionGracePeriodSeconds)
	}
	// The agent's final delete (grace 0) removes it.
	if err := pods.Delete(ctx, "running", client.DeleteOptions{GracePeriodSeconds: api.Ptr[int64](0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, "running"); !api.IsNotFound(err) {
		t.Fatalf("after the final delete: %v, want NotFound", err)
	}
	// Pods that run nowhere go at once.
	for _, name := range []string{"unbound", "orphan"} {
		if err := pods.Delete(ctx, name); err != nil {
			t.Fatal(err)
		}
		if _, err := pods.Get(ctx, name); !api.IsNotFound(err) {
			t.Errorf("%s pod: %v, want deleted at once", name, err)
		}
	}
}
