package scheduler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// The shape of Kubernetes' scheduler_perf SchedulingBasic
// 5000Nodes_10000Pods: 5,000 nodes (4 cpu, 32 GiB, 110 pods, 3 zones),
// 1,000 pods already placed, then 10,000 pods measured per iteration.
// Every pod requests 100m cpu and 100Mi memory.
const (
	benchNodes    = 5000
	benchExisting = 1000
	benchPods     = 10000
)

// BenchmarkSchedulingBasic5000Nodes measures the whole scheduling path
// (enqueue, cycle, assume, asynchronous bind) against the cache with the
// in-memory binder.
func BenchmarkSchedulingBasic5000Nodes(b *testing.B) {
	benchmarkScheduling(b, func(i int) *api.Pod {
		return pod(fmt.Sprintf("p%d", i), req("100m", "100Mi"))
	}, func(s *Scheduler) error {
		for _, n := range s.cache.Snapshot().Nodes() {
			if len(n.pods) > 110 {
				return fmt.Errorf("%d pods on %s", len(n.pods), n.Name)
			}
		}
		return nil
	})
}

// BenchmarkSchedulingSpread5000Nodes gives every pod a zone spread
// constraint (maxSkew 1, DoNotSchedule) and a preferred anti-affinity by
// hostname against its own labels.
func BenchmarkSchedulingSpread5000Nodes(b *testing.B) {
	benchmarkScheduling(b, func(i int) *api.Pod {
		return pod(fmt.Sprintf("p%d", i), req("100m", "100Mi"), podLabels("app", "bench"),
			spread(1, api.LabelZone, api.DoNotSchedule, "app", "bench"),
			preferredAntiAffinity(100, term(api.LabelHostname, "app", "bench")))
	}, func(s *Scheduler) error {
		perZone := map[string]int{}
		perNode := map[string]int{}
		for _, n := range s.cache.Snapshot().Nodes() {
			perZone[n.labels[api.LabelZone]] += len(n.pods)
			perNode[n.Name] = len(n.pods)
		}
		lo, hi := benchPods, 0
		for _, c := range perZone {
			lo, hi = min(lo, c), max(hi, c)
		}
		if hi-lo > 1 {
			return fmt.Errorf("zone skew %d > 1: %v", hi-lo, perZone)
		}
		// 11,000 pods over 5,000 nodes: the anti-affinity preference keeps
		// every node at 2 or 3.
		for n, c := range perNode {
			if c < 2 || c > 3 {
				return fmt.Errorf("%d pods on %s, want 2 or 3", c, n)
			}
		}
		return nil
	})
}

// benchmarkScheduling times the scheduling of benchPods pods per
// iteration; check verifies the outcome, outside the timer.
func benchmarkScheduling(b *testing.B, mkPod func(i int) *api.Pod, check func(*Scheduler) error) {
	nodes := zonedNodes(benchNodes, []string{"z1", "z2", "z3"})
	existing := make([]*api.Pod, benchExisting)
	for i := range existing {
		existing[i] = mkPod(benchPods + i)
		existing[i].Name = fmt.Sprintf("existing%d", i)
		existing[i].Spec.NodeName = nodes[i%benchNodes].Name
	}
	pods := make([]*api.Pod, benchPods)
	for i := range pods {
		pods[i] = mkPod(i)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		var bound atomic.Int64
		done := make(chan struct{})
		binder := NewMemoryBinder()
		binder.OnBind = func(*api.Pod, string) {
			if bound.Add(1) == benchPods {
				close(done)
			}
		}
		s := newMemoryScheduler(b, binder, log)
		for _, n := range nodes {
			s.cache.AddNode(n)
		}
		for _, p := range existing {
			s.cache.AddPod(p)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		s.start(ctx, &wg)
		b.StartTimer()

		for _, p := range pods {
			s.enqueue(p)
		}
		select {
		case <-done:
		case <-time.After(5 * time.Minute):
			b.Fatalf("only %d of %d pods bound", bound.Load(), benchPods)
		}

		b.StopTimer()
		cancel()
		s.queue.Close()
		wg.Wait()
		if c := s.queue.Counts(); c.Unschedulable+c.Backoff+c.Active != 0 {
			b.Fatalf("pods left in the queue: %+v", c)
		}
		if err := check(s); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(benchPods*b.N)/b.Elapsed().Seconds(), "pods/s")
}
