package simnode_test

import (
	"context"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func TestUsageReport(t *testing.T) {
	q := resource.MustParse
	pod := func(name, node string, ann map[string]string, phase api.PodPhase, requests api.ResourceList) *api.Pod {
		return &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name, UID: name + "-uid", Annotations: ann},
			Spec:   api.PodSpec{NodeName: node, Containers: []api.Container{{Name: "app", Resources: api.ResourceRequirements{Requests: requests}}}},
			Status: api.PodStatus{Phase: phase}}
	}
	cases := []struct {
		name    string
		pod     *api.Pod
		cpu     string
		memory  string
		omitted bool
	}{
		{name: "half the requests", pod: pod("req", "n1", nil, api.PodRunning, api.ResourceList{api.ResourceCPU: q("500m"), api.ResourceMemory: q("256Mi")}), cpu: "250m", memory: "128Mi"},
		{name: "annotations win", pod: pod("ann", "n1", map[string]string{simnode.AnnotationCPU: "900m", simnode.AnnotationMemory: "1Gi"}, api.PodRunning,
			api.ResourceList{api.ResourceCPU: q("500m")}), cpu: "900m", memory: "1Gi"},
		{name: "defaults without requests", pod: pod("none", "n1", nil, api.PodRunning, nil), cpu: "10m", memory: "16Mi"},
		{name: "another node's pod", pod: pod("other", "n2", nil, api.PodRunning, nil), omitted: true},
		{name: "a finished pod", pod: pod("done", "n1", nil, api.PodSucceeded, nil), omitted: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := simnode.UsageReport("n1", []*api.Pod{tc.pod}, time.Unix(1000, 0), 10*time.Second)
			if errs := api.ValidateNodeMetricsReport(r); len(errs) > 0 {
				t.Fatalf("invalid report: %v", errs)
			}
			if tc.omitted {
				if len(r.Pods) != 0 {
					t.Fatalf("report has %+v, want no pod", r.Pods)
				}
				return
			}
			u := r.Pods[0].Containers[0].Usage
			if cpu, mem := u[api.ResourceCPU], u[api.ResourceMemory]; cpu.String() != tc.cpu || mem.String() != tc.memory {
				t.Errorf("usage = cpu %s memory %s, want %s %s", cpu.String(), mem.String(), tc.cpu, tc.memory)
			}
			if r.Usage[api.ResourceCPU].Cmp(u[api.ResourceCPU]) != 0 {
				t.Errorf("node cpu %v, want its one pod's %v", r.Usage[api.ResourceCPU], u[api.ResourceCPU])
			}
		})
	}
}

func TestFleetReportsUsage(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fleet := simnode.NewFleet(simnode.Config{Client: env.Client, Log: testenv.Logger(t), MetricsInterval: 100 * time.Millisecond})
	if _, err := fleet.Add(ctx, simnode.NodeSpec{Name: "sim-a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Client.Pods("default").Create(ctx, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "busy", Annotations: map[string]string{simnode.AnnotationCPU: "700m"}},
		Spec: api.PodSpec{NodeName: "sim-a", Containers: []api.Container{{Name: "c", Image: "demo:1"}}}}); err != nil {
		t.Fatal(err)
	}
	go fleet.Run(ctx)
	waitFor(t, "the pod's usage", func() bool {
		m, err := env.Client.PodMetrics("default").Get(ctx, "busy")
		return err == nil && m.Containers[0].Usage[api.ResourceCPU].String() == "700m"
	})
	n, err := env.Client.NodeMetrics().Get(ctx, "sim-a")
	if err != nil || n.Usage[api.ResourceCPU].String() != "700m" {
		t.Errorf("node usage = %v, %v; want 700m", n, err)
	}
}
