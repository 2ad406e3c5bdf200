package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// newMemoryScheduler builds a scheduler that runs without an API server:
// tests and benchmarks feed its handlers and cache directly.
func newMemoryScheduler(tb testing.TB, binder Binder, log *slog.Logger) *Scheduler {
	tb.Helper()
	p, err := NewPipeline(PipelineConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	return &Scheduler{
		cfg:      Config{Workers: 2, SchedulerName: DefaultSchedulerName},
		log:      log,
		cache:    NewCache(CacheOptions{Log: log}),
		queue:    NewQueue(QueueOptions{}),
		pipeline: p,
		snapshot: &Snapshot{},
		binder:   binder,
		jobs:     make(chan func(context.Context), 1024),
	}
}

// flakyBinder fails the first failures bindings with err, then binds in memory.
type flakyBinder struct {
	*MemoryBinder
	failures atomic.Int32
	err      error
	calls    atomic.Int32
}

func (b *flakyBinder) Bind(ctx context.Context, p *api.Pod, node string) error {
	b.calls.Add(1)
	if b.failures.Add(-1) >= 0 {
		return b.err
	}
	return b.MemoryBinder.Bind(ctx, p, node)
}

// harness runs a memory scheduler whose bindings come back as watch
// updates, as the API would send them.
type harness struct {
	t      *testing.T
	s      *Scheduler
	binder *MemoryBinder
}

func startHarness(t *testing.T, wrap func(*MemoryBinder) Binder) *harness {
	t.Helper()
	mb := NewMemoryBinder()
	var b Binder = mb
	if wrap != nil {
		b = wrap(mb)
	}
	s := newMemoryScheduler(t, b, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.queue = NewQueue(QueueOptions{InitialBackoff: 10 * time.Millisecond})
	mb.OnBind = func(p *api.Pod, node string) {
		bound := *p
		bound.Spec.NodeName = node
		bound.ResourceVersion++
		s.onPodUpdate(p, &bound)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	s.start(ctx, &wg)
	t.Cleanup(func() {
		cancel()
		s.queue.Close()
		wg.Wait()
	})
	return &harness{t: t, s: s, binder: mb}
}

func (h *harness) addNode(n *api.Node) { h.s.nodeHandler().OnAdd(n) }
func (h *harness) addPod(p *api.Pod)   { h.s.onPodAdd(p) }

// waitBound waits until the pod is bound and returns its node.
func (h *harness) waitBound(key string, within time.Duration) string {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if n, ok := h.binder.Bindings()[key]; ok {
			return n
		}
		time.Sleep(2 * time.Millisecond)
	}
	h.t.Fatalf("%s not bound within %v (queue %+v)", key, within, h.s.queue.Counts())
	return ""
}

func (h *harness) waitUnschedulable(n int) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if h.s.queue.Counts().Unschedulable == n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	h.t.Fatalf("queue %+v, want %d unschedulable", h.s.queue.Counts(), n)
}

func TestSchedulerBindsAndConfirms(t *testing.T) {
	h := startHarness(t, nil)
	for i := range 3 {
		h.addNode(node(fmt.Sprintf("n%d", i), zone("z1")))
	}
	for i := range 6 {
		h.addPod(pod(fmt.Sprintf("p%d", i), req("1", "1Gi"), ownedBy("rs")))
	}
	perNode := map[string]int{}
	for i := range 6 {
		perNode[h.waitBound(fmt.Sprintf("default/p%d", i), 5*time.Second)]++
	}
	for n, c := range perNode {
		if c != 2 {
			t.Errorf("replicas per node %v: want 2 on each (%s)", perNode, n)
		}
	}
	// The watch confirmed every assumption.
	for i := range 6 {
		if h.s.cache.IsAssumed(fmt.Sprintf("default/p%d", i)) {
			t.Errorf("p%d still assumed", i)
		}
	}
}

func TestSchedulerRetriesWhenSomethingChanges(t *testing.T) {
	h := startHarness(t, nil)
	h.addNode(node("small", capacity("1", "1Gi", "110")))
	h.addPod(pod("big", req("2", "1Gi")))
	h.waitUnschedulable(1)

	// Heartbeats change nothing that matters: the pod stays parked.
	old := node("small", capacity("1", "1Gi", "110"))
	beat := node("small", capacity("1", "1Gi", "110"))
	beat.Status.Conditions[0].LastHeartbeatTime = time.Now()
	h.s.nodeHandler().OnUpdate(old, beat)
	time.Sleep(50 * time.Millisecond)
	if c := h.s.queue.Counts(); c.Unschedulable != 1 {
		t.Fatalf("queue %+v after a heartbeat, want the pod still parked", c)
	}

	start := time.Now()
	h.addNode(node("large"))
	if n := h.waitBound("default/big", time.Second); n != "large" {
		t.Errorf("bound to %s", n)
	}
	t.Logf("bound %v after the node appeared", time.Since(start))
}

func TestSchedulerDeletedPodFreesSpace(t *testing.T) {
	h := startHarness(t, nil)
	h.addNode(node("n1", capacity("1", "8Gi", "110")))
	first := pod("first", req("1", "1Gi"))
	h.addPod(first)
	h.waitBound("default/first", 5*time.Second)
	h.addPod(pod("second", req("1", "1Gi")))
	h.waitUnschedulable(1)

	bound := *first
	bound.Spec.NodeName = "n1"
	h.s.onPodDelete(&bound)
	h.waitBound("default/second", 5*time.Second)
}

func TestSchedulerRequeuesFailedBindings(t *testing.T) {
	var fb *flakyBinder
	h := startHarness(t, func(mb *MemoryBinder) Binder {
		fb = &flakyBinder{MemoryBinder: mb, err: errors.New("connection refused")}
		fb.failures.Store(2)
		return fb
	})
	h.addNode(node("n1"))
	h.addPod(pod("p", req("1", "1Gi")))
	h.waitBound("default/p", 5*time.Second)
	if got := fb.calls.Load(); got != 3 {
		t.Errorf("%d binding attempts, want 3", got)
	}
	if cpu, _ := h.s.cache.NodeInfo("n1").Requested(); cpu != 1000 {
		t.Errorf("n1 requests %dm, want the pod counted once", cpu)
	}
}

func TestSchedulerForgetsPodsBoundElsewhere(t *testing.T) {
	var fb *flakyBinder
	h := startHarness(t, func(mb *MemoryBinder) Binder {
		fb = &flakyBinder{MemoryBinder: mb, err: fmt.Errorf("binding: %w", ErrAlreadyBound)}
		fb.failures.Store(1)
		return fb
	})
	h.addNode(node("n1"))
	h.addPod(pod("p", req("1", "1Gi")))
	deadline := time.Now().Add(5 * time.Second)
	for fb.calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if got := fb.calls.Load(); got != 1 {
		t.Errorf("%d binding attempts, want 1 (no retry)", got)
	}
	if h.s.cache.IsAssumed("default/p") {
		t.Error("assumption kept")
	}
	if c := h.s.queue.Counts(); c != (QueueCounts{}) {
		t.Errorf("queue %+v, want empty", c)
	}
}

func TestSchedulerOnlyTakesItsOwnPods(t *testing.T) {
	h := startHarness(t, nil)
	h.addNode(node("n1"))
	other := pod("other")
	other.Spec.SchedulerName = "someone-else"
	h.addPod(other)
	named := pod("named")
	named.Spec.SchedulerName = DefaultSchedulerName
	h.addPod(named)
	h.waitBound("default/named", 5*time.Second)
	time.Sleep(20 * time.Millisecond)
	if _, ok := h.binder.Bindings()["default/other"]; ok {
		t.Error("bound a pod of another scheduler")
	}
}

func TestNewValidatesConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without a client or binder succeeded")
	}
	if _, err := New(Config{Binder: NewMemoryBinder()}); err == nil {
		t.Error("New without a client or informers succeeded")
	}
	if _, err := New(Config{Binder: NewMemoryBinder(), Scoring: "Random"}); err == nil {
		t.Error("New with an unknown scoring succeeded")
	}
}

// TestSchedulerConcurrentEvents races watch events against the scheduling
// loop and the binders (run it with -race): pending pods are updated while
// in flight, bound pods change labels and finish, nodes heartbeat.
func TestSchedulerConcurrentEvents(t *testing.T) {
	h := startHarness(t, nil)
	for i := range 20 {
		h.addNode(node(fmt.Sprintf("n%d", i), zone(fmt.Sprintf("z%d", i%3))))
	}
	const n = 300
	pods := make([]*api.Pod, n)
	for i := range pods {
		pods[i] = pod(fmt.Sprintf("p%d", i), req("100m", "100Mi"), podLabels("app", fmt.Sprintf("a%d", i%5)),
			spread(5, api.LabelZone, api.ScheduleAnyway, "app", fmt.Sprintf("a%d", i%5)),
			preferredAntiAffinity(10, term(api.LabelHostname, "app", fmt.Sprintf("a%d", i%5))))
		pods[i].ResourceVersion = 1
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, p := range pods {
			h.addPod(p)
		}
	})
	wg.Go(func() { // status-only updates of pending pods
		for round := range 3 {
			for _, p := range pods {
				q := *p
				q.ResourceVersion = int64(2 + round)
				h.s.onPodUpdate(p, &q)
			}
		}
	})
	wg.Go(func() { // heartbeats and a label change on the nodes
		for i := range 200 {
			old := node(fmt.Sprintf("n%d", i%20), zone(fmt.Sprintf("z%d", i%20%3)))
			upd := node(old.Name, zone(old.Labels[api.LabelZone]), nodeLabel("round", fmt.Sprint(i)))
			h.s.nodeHandler().OnUpdate(old, upd)
		}
	})
	wg.Wait()
	for _, p := range pods {
		h.waitBound(p.Key(), 10*time.Second)
	}
	// Finish half of them: their space and spread counts are released.
	for i, p := range pods {
		if i%2 == 0 {
			b := *p
			b.Spec.NodeName = h.binder.Bindings()[p.Key()]
			done := b
			done.Status.Phase = api.PodSucceeded
			h.s.onPodUpdate(&b, &done)
		}
	}
	var total int
	for i := range 20 {
		total += len(h.s.cache.NodeInfo(fmt.Sprintf("n%d", i)).Pods())
	}
	if total != n/2 {
		t.Errorf("%d pods counted after half finished, want %d", total, n/2)
	}
}

func TestSchedulerPreviewUsesTheLiveView(t *testing.T) {
	h := startHarness(t, nil)
	h.addNode(node("n1", capacity("2", "8Gi", "110")))
	h.addPod(pod("running", req("1", "1Gi")))
	h.waitBound("default/running", 5*time.Second)

	pls := h.s.Preview([]*api.Pod{pod("a", req("1", "1Gi")), pod("b", req("1", "1Gi"))})
	if pls[0].Node != "n1" || pls[1].Node != "" || pls[1].Reason != "0/1 nodes available: 1 insufficient cpu" {
		t.Errorf("preview %+v", pls)
	}
	if cpu, _ := h.s.cache.NodeInfo("n1").Requested(); cpu != 1000 {
		t.Errorf("preview changed the cache: n1 requests %dm", cpu)
	}
}
