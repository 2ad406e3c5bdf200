package manager_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// BenchmarkSchedulingEndToEnd creates pods through the API and measures,
// from the first create to the last binding seen through a watch, how fast
// the whole control plane places them: API server, embedded etcd,
// scheduler (informers, pipeline, binding by compare-and-swap through the
// API) and simulated nodes reporting the pods running. Reports pods/s.
func BenchmarkSchedulingEndToEnd(b *testing.B) {
	for _, tc := range []struct {
		name  string
		fsync bool
	}{{"nofsync", false}, {"fsync", true}} {
		b.Run(tc.name, func(b *testing.B) { benchEndToEnd(b, 1000, 5000, tc.fsync) })
	}
}

func benchEndToEnd(b *testing.B, nodes, pods int, fsync bool) {
	c := cluster.Start(b, func(o *cluster.Options) {
		o.Fsync = fsync
		o.Heartbeat = time.Minute
		o.Manager.Controllers.NodeMonitorGracePeriod = time.Hour
	})
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := c.Fleet.Add(c.Ctx, simnode.NodeSpec{Name: fmt.Sprintf("node-%d", i), Zone: zones[i%3]}); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	waitPodCIDRs(b, c, nodes)

	// Count bindings as the API reports them.
	var boundCount atomic.Int64
	done := make(chan struct{}, 1)
	target := atomic.Int64{}
	inf := client.NewInformer(c.Client.Pods("bench"), client.ListOptions{})
	onChange := func(old, p *api.Pod) {
		if p.Spec.NodeName != "" && (old == nil || old.Spec.NodeName == "") {
			if boundCount.Add(1) == target.Load() {
				select {
				case done <- struct{}{}:
				default:
				}
			}
		}
	}
	inf.AddHandler(client.Handler[*api.Pod]{OnAdd: func(p *api.Pod) { onChange(nil, p) }, OnUpdate: onChange})
	ctx, cancel := context.WithCancel(c.Ctx)
	defer cancel()
	go inf.Run(ctx)
	if _, err := c.Client.Namespaces().Create(c.Ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "bench"}}); err != nil {
		b.Fatal(err)
	}
	inf.WaitForSync(ctx)

	var elapsed time.Duration
	for iter := 0; iter < b.N; iter++ {
		boundCount.Store(0)
		target.Store(int64(pods))
		start := time.Now()
		var next atomic.Int64
		var cw sync.WaitGroup
		for range 64 {
			cw.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= int64(pods) {
						return
					}
					p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("p-%d-%d", iter, i), Namespace: "bench"},
						Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "demo:1", Resources: api.ResourceRequirements{
							Requests: api.ResourceList{api.ResourceCPU: resource.MustParse("100m"), api.ResourceMemory: resource.MustParse("100Mi")}}}}}}
					if _, err := c.Client.Pods("bench").Create(c.Ctx, p); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		cw.Wait()
		created := time.Since(start)
		select {
		case <-done:
		case <-time.After(5 * time.Minute):
			b.Fatalf("only %d of %d pods bound after 5 minutes", boundCount.Load(), pods)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		b.Logf("created %d pods in %s, all bound after %s", pods, created.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		// Clear the pods so every iteration starts from the same cluster.
		list, _, _ := c.Client.Pods("bench").List(c.Ctx, client.ListOptions{})
		var dw sync.WaitGroup
		for _, p := range list {
			sem <- struct{}{}
			dw.Go(func() {
				defer func() { <-sem }()
				_ = c.Client.Pods("bench").Delete(c.Ctx, p.Name)
			})
		}
		dw.Wait()
		b.StartTimer()
	}
	b.ReportMetric(float64(pods*b.N)/elapsed.Seconds(), "pods/s")
	b.ReportMetric(0, "ns/op")
}

// waitPodCIDRs waits until every node has its pod CIDR, as a cluster's
// nodes have soon after they register, so the allocator's writes are not
// measured as scheduling (and the test cluster's range holds them all).
func waitPodCIDRs(b *testing.B, c *cluster.Cluster, nodes int) {
	start := time.Now()
	cluster.Eventually(b, 2*time.Minute, "every node has a pod CIDR", func() (bool, string) {
		list, _, err := c.Client.Nodes().List(c.Ctx, client.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		with := 0
		for _, n := range list {
			if n.Spec.PodCIDR != "" {
				with++
			}
		}
		return with == nodes, fmt.Sprintf("%d of %d nodes have one", with, nodes)
	})
	b.Logf("%d nodes had their pod CIDRs %v after the last registered", nodes, time.Since(start).Round(time.Millisecond))
}
