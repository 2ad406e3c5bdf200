package localcluster_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	dcontainer "github.com/docker/docker/api/types/container"

	"github.com/maestro-dev/maestro/engine/agent"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/localcluster"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// readyWatch records when each pod of a namespace is first seen Ready.
type readyWatch struct {
	mu    sync.Mutex
	ready map[string]time.Time
	ch    chan struct{}
}

func watchReady(ctx context.Context, c *client.Client, ns string) *readyWatch {
	w := &readyWatch{ready: map[string]time.Time{}, ch: make(chan struct{}, 1000)}
	inf := client.NewInformer(c.Pods(ns), client.ListOptions{})
	see := func(p *api.Pod) {
		if !api.IsPodReady(p) {
			return
		}
		w.mu.Lock()
		if _, ok := w.ready[p.Name]; !ok {
			w.ready[p.Name] = time.Now()
			w.ch <- struct{}{}
		}
		w.mu.Unlock()
	}
	inf.AddHandler(client.Handler[*api.Pod]{OnAdd: see, OnUpdate: func(_, p *api.Pod) { see(p) }})
	go inf.Run(ctx)
	inf.WaitForSync(ctx)
	return w
}

func (w *readyWatch) wait(b *testing.B, n int, timeout time.Duration) {
	deadline := time.After(timeout)
	for range n {
		select {
		case <-w.ch:
		case <-deadline:
			b.Fatalf("only %d of %d pods ready after %s", len(w.ready), n, timeout)
		}
	}
}

func benchPod(c *lc, name string) *api.Pod {
	d := c.demoDeployment(name, 1)
	return &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "bench", Labels: map[string]string{"app": "bench"}},
		Spec: d.Spec.Template.Spec}
}

func benchNamespace(b *testing.B, c *lc) {
	if _, err := c.Client.Namespaces().Create(c.ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "bench"}}); err != nil && !api.IsAlreadyExists(err) {
		b.Fatal(err)
	}
}

func clearBench(b *testing.B, c *lc) {
	pods, _, _ := c.Client.Pods("bench").List(c.ctx, client.ListOptions{})
	var wg sync.WaitGroup
	for _, p := range pods {
		wg.Go(func() { _ = c.Client.Pods("bench").Delete(c.ctx, p.Name) })
	}
	wg.Wait()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if left, _, _ := c.Client.Pods("bench").List(c.ctx, client.ListOptions{}); len(left) == 0 {
			return
		}
	}
	b.Fatal("bench pods not deleted within 2 minutes")
}

// BenchmarkPodStartupLatency: 100 pods of the demo image created at a
// steady 2 pods/s on 3 nodes; reports created -> Ready p50 and p99.
func BenchmarkPodStartupLatency(b *testing.B) {
	c := startClusterB(b, 3)
	benchNamespace(b, c)
	const n, rate = 100, 2
	var lat []time.Duration
	for iter := range b.N {
		w := watchReady(c.ctx, c.Client, "bench")
		created := map[string]time.Time{}
		tick := time.NewTicker(time.Second / rate)
		for i := range n {
			<-tick.C
			p := benchPod(c, fmt.Sprintf("p-%d-%d", iter, i))
			created[p.Name] = time.Now()
			if _, err := c.Client.Pods("bench").Create(c.ctx, p); err != nil {
				b.Fatal(err)
			}
		}
		tick.Stop()
		w.wait(b, n, 2*time.Minute)
		w.mu.Lock()
		for name, at := range w.ready {
			lat = append(lat, at.Sub(created[name]))
		}
		w.mu.Unlock()
		b.StopTimer()
		clearBench(b, c)
		b.StartTimer()
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPodBurst: 100 pods created at once until all are Ready, next to
// two raw Docker rates measured in the same run, 8 at a time: 100 single
// containers of the same image, and 100 infra+app pairs (what a pod is:
// the Docker engine's own ceiling for pods).
func BenchmarkPodBurst(b *testing.B) {
	c := startClusterB(b, 3)
	benchNamespace(b, c)
	const n = 100
	var podRate, rawRate, pairRate float64
	for iter := range b.N {
		raw := rawDockerRate(b, c, n, false)
		pairRate += rawDockerRate(b, c, n, true)
		w := watchReady(c.ctx, c.Client, "bench")
		start := time.Now()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range n {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if _, err := c.Client.Pods("bench").Create(c.ctx, benchPod(c, fmt.Sprintf("b-%d-%d", iter, i))); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		w.wait(b, n, 3*time.Minute)
		podRate += float64(n) / time.Since(start).Seconds()
		rawRate += raw
		b.StopTimer()
		clearBench(b, c)
		b.StartTimer()
	}
	b.ReportMetric(podRate/float64(b.N), "pods/s")
	b.ReportMetric(rawRate/float64(b.N), "docker-containers/s")
	b.ReportMetric(pairRate/float64(b.N), "docker-pairs/s")
	b.ReportMetric(podRate/rawRate, "ratio-to-containers")
	b.ReportMetric(podRate/pairRate, "ratio-to-pairs")
	b.ReportMetric(0, "ns/op")
}

// rawDockerRate creates and starts n containers of the demo image straight
// through the Docker API, 8 at a time (with pairs, each behind a pause
// container holding its network, as a pod is), and removes them.
func rawDockerRate(b *testing.B, c *lc, n int, pairs bool) float64 {
	ids := make(chan string, 2*n)
	run := func(cfg *dcontainer.Config, hc *dcontainer.HostConfig) string {
		r, err := c.docker.ContainerCreate(c.ctx, cfg, hc, nil, nil, "")
		if err != nil {
			b.Error(err)
			return ""
		}
		ids <- r.ID
		if err := c.docker.ContainerStart(c.ctx, r.ID, dcontainer.StartOptions{}); err != nil {
			b.Error(err)
		}
		return r.ID
	}
	labels := map[string]string{"maestro.bench": "raw"}
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if !pairs {
				run(&dcontainer.Config{Image: c.demo, Labels: labels}, nil)
				return
			}
			infra := run(&dcontainer.Config{Image: c.infra, Labels: labels}, &dcontainer.HostConfig{IpcMode: dcontainer.IPCModeShareable})
			run(&dcontainer.Config{Image: c.demo, Labels: labels}, &dcontainer.HostConfig{
				NetworkMode: dcontainer.NetworkMode("container:" + infra), IpcMode: dcontainer.IpcMode("container:" + infra)})
		})
	}
	wg.Wait()
	rate := float64(n) / time.Since(start).Seconds()
	close(ids)
	for id := range ids {
		_ = c.docker.ContainerRemove(c.ctx, id, dcontainer.RemoveOptions{Force: true})
	}
	return rate
}

// BenchmarkUp: `maestro up --nodes 3` (embedded etcd, control plane, three
// agents joining) until every node is Ready.
func BenchmarkUp(b *testing.B) {
	testenv.RequireDocker(b)
	pause := testenv.PauseImage(b)
	var total time.Duration
	for i := range b.N {
		start := time.Now()
		c, err := localcluster.Start(context.Background(), localcluster.Config{DataDir: b.TempDir(), Nodes: 3, Listen: "127.0.0.1:0",
			ClientConfigPath: "-", InfraImage: pause, NodePrefix: fmt.Sprintf("up%d-", i), AddressPrefix: "127.0.98.", Log: testenv.Logger(b), PodCIDR: testenv.PodCIDR(),
			Agent: func(cfg *agent.Config) { cfg.ServerPort = 0 }})
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		_ = c.Stop(context.Background())
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-ready")
	b.ReportMetric(0, "ns/op")
}
