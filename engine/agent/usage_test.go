package agent

import (
	"context"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// usageRuntime is a runtime that lists fixed containers and serves their
// cumulative usage; nothing else is called by the stats cache.
type usageRuntime struct {
	runtime.Runtime
	containers []runtime.Container
	usage      map[string]runtime.Usage
}

func (r *usageRuntime) ListContainers(context.Context, runtime.Filter) ([]runtime.Container, error) {
	return r.containers, nil
}

func (r *usageRuntime) Stats(_ context.Context, id string) (runtime.Usage, error) {
	u, ok := r.usage[id]
	if !ok {
		return runtime.Usage{}, runtime.ErrNotFound
	}
	return u, nil
}

func fakeContainer(id, ns, pod, uid, name string, state runtime.ContainerState) runtime.Container {
	return runtime.Container{ID: id, PodUID: uid, Name: name, State: state, Labels: map[string]string{
		runtime.LabelPodNamespace: ns, runtime.LabelPodName: pod, runtime.LabelPodUID: uid, runtime.LabelContainerName: name}}
}

func TestUsageReport(t *testing.T) {
	t0 := time.Unix(1000, 0)
	rt := &usageRuntime{containers: []runtime.Container{
		fakeContainer("c1", "shop", "web", "u1", "app", runtime.ContainerRunning),
		fakeContainer("c2", "shop", "web", "u1", "sidecar", runtime.ContainerRunning),
		fakeContainer("c3", "shop", "db", "u2", "db", runtime.ContainerRunning),
		fakeContainer("c4", "shop", "done", "u3", "job", runtime.ContainerExited),
	}}
	sample := func(at time.Time, cpu map[string]time.Duration, mem map[string]uint64) {
		rt.usage = map[string]runtime.Usage{}
		for id, c := range cpu {
			rt.usage[id] = runtime.Usage{CPUUsageNanos: uint64(c), MemoryBytes: mem[id], Timestamp: at}
		}
	}
	s := newStatsCache()
	ctx := context.Background()

	sample(t0, map[string]time.Duration{"c1": time.Second, "c2": 0, "c3": 0, "c4": 0}, map[string]uint64{"c1": 64 << 20, "c2": 8 << 20, "c3": 1 << 30})
	s.sample(ctx, rt, runtime.Filter{})
	if r := s.report("n1", t0, 10*time.Second); len(r.Pods) != 0 {
		t.Errorf("after one sample the report has %d pods, want none (no cpu rate yet)", len(r.Pods))
	}

	// Ten seconds later: c1 used 2.5 s of cpu (250m), c2 0.5 s (50m), c3 none.
	t1 := t0.Add(10 * time.Second)
	sample(t1, map[string]time.Duration{"c1": 3500 * time.Millisecond, "c2": 500 * time.Millisecond, "c3": 0}, map[string]uint64{"c1": 80 << 20, "c2": 8 << 20, "c3": 1 << 30})
	s.sample(ctx, rt, runtime.Filter{})
	r := s.report("n1", t1, 10*time.Second)
	if errs := api.ValidateNodeMetricsReport(r); len(errs) > 0 {
		t.Fatalf("the report is invalid: %v", errs)
	}
	type row struct{ pod, uid, container, cpu, mem string }
	var got []row
	for _, p := range r.Pods {
		for _, c := range p.Containers {
			got = append(got, row{p.Namespace + "/" + p.Name, p.UID, c.Name, c.Usage[api.ResourceCPU].String(), c.Usage[api.ResourceMemory].String()})
		}
	}
	want := []row{
		{"shop/db", "u2", "db", "0", "1Gi"},
		{"shop/web", "u1", "app", "250m", "80Mi"},
		{"shop/web", "u1", "sidecar", "50m", "8Mi"},
	}
	if len(got) != len(want) {
		t.Fatalf("report = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if cpu, mem := r.Usage[api.ResourceCPU], r.Usage[api.ResourceMemory]; cpu.String() != "300m" || mem.Value() != (80+8+1024)<<20 {
		t.Errorf("node usage = cpu %s memory %s, want the sum of its containers' (300m, 1112Mi)", cpu.String(), mem.String())
	}
	if r.Node != "n1" || r.WindowSeconds != 10 || !r.Timestamp.Equal(t1) {
		t.Errorf("report header = %s %d %s", r.Node, r.WindowSeconds, r.Timestamp)
	}

	// A container that is gone drops out of the next report.
	rt.containers = rt.containers[2:]
	sample(t1.Add(10*time.Second), map[string]time.Duration{"c3": time.Second}, map[string]uint64{"c3": 1 << 30})
	s.sample(ctx, rt, runtime.Filter{})
	if r := s.report("n1", t1, 10*time.Second); len(r.Pods) != 1 || r.Pods[0].Name != "db" || r.Pods[0].Containers[0].Usage[api.ResourceCPU].String() != "100m" {
		t.Errorf("after web's containers went: %+v, want db alone at 100m", r.Pods)
	}
}
