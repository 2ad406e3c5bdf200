package simnode_test

import (
	"context"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFleetRunsPodsAndHeartbeats(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fleet := simnode.NewFleet(simnode.Config{Client: env.Client, Log: testenv.Logger(t), HeartbeatInterval: 200 * time.Millisecond})
	for _, n := range []simnode.NodeSpec{{Name: "sim-a", Zone: "zone-a"}, {Name: "sim-b", Zone: "zone-b"}} {
		if _, err := fleet.Add(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	go fleet.Run(ctx)

	node, err := env.Client.Nodes().Get(ctx, "sim-a")
	if err != nil {
		t.Fatal(err)
	}
	if !api.IsNodeReady(node) || node.Labels[api.LabelZone] != "zone-a" || node.Status.Allocatable[api.ResourcePods].Value() != 110 {
		t.Fatalf("registered node: ready=%v labels=%v allocatable=%v", api.IsNodeReady(node), node.Labels, node.Status.Allocatable)
	}

	pods := env.Client.Pods("default")
	mk := func(name string, ann map[string]string) {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Annotations: ann},
			Spec: api.PodSpec{NodeName: "sim-a", Containers: []api.Container{{Name: "c", Image: "demo:1"}}}}
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	mk("ready", nil)
	mk("unready", map[string]string{simnode.AnnotationReady: "false"})
	waitFor(t, "pods reported", func() bool {
		r, err1 := pods.Get(ctx, "ready")
		u, err2 := pods.Get(ctx, "unready")
		return err1 == nil && err2 == nil && r.Status.Phase == api.PodRunning && u.Status.Phase == api.PodRunning
	})
	r, _ := pods.Get(ctx, "ready")
	u, _ := pods.Get(ctx, "unready")
	if !api.IsPodReady(r) || r.Status.PodIP == "" || r.Status.HostIP == "" || len(r.Status.ContainerStatuses) != 1 {
		t.Fatalf("ready pod status %+v", r.Status)
	}
	if api.IsPodReady(u) || u.Status.PodIP == r.Status.PodIP {
		t.Fatalf("unready pod: ready=%v ip=%s (other %s)", api.IsPodReady(u), u.Status.PodIP, r.Status.PodIP)
	}
	// Turning the annotation off makes it ready.
	u.Annotations = nil
	if _, err := pods.Update(ctx, u); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pod turns ready", func() bool { p, err := pods.Get(ctx, "unready"); return err == nil && api.IsPodReady(p) })

	// A stopped node stops renewing its heartbeat; a running one keeps on.
	fleet.Node("sim-a").Stop()
	time.Sleep(300 * time.Millisecond)
	before, _ := env.Client.Nodes().Get(ctx, "sim-a")
	otherBefore, _ := env.Client.Nodes().Get(ctx, "sim-b")
	time.Sleep(1200 * time.Millisecond)
	after, _ := env.Client.Nodes().Get(ctx, "sim-a")
	otherAfter, _ := env.Client.Nodes().Get(ctx, "sim-b")
	if !api.NodeHeartbeat(after).Equal(api.NodeHeartbeat(before)) {
		t.Errorf("stopped node heartbeat moved %v -> %v", api.NodeHeartbeat(before), api.NodeHeartbeat(after))
	}
	if !api.NodeHeartbeat(otherAfter).After(api.NodeHeartbeat(otherBefore)) {
		t.Errorf("running node heartbeat did not move (%v)", api.NodeHeartbeat(otherAfter))
	}
}
