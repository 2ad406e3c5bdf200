package controller

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// Shared helpers of the endpoints, node lifecycle, garbage collector and
// namespace tests: a test cluster with simulated nodes and polling.

// ctlCluster is an in-process control plane, optionally with simulated
// nodes, on which tests start controllers.
type ctlCluster struct {
	env   *testenv.Env
	c     *client.Client
	ctx   context.Context
	fleet *simnode.Fleet
	logs  *ctlLogRecorder

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// ctlStart brings up a cluster with the given simulated nodes (heartbeats
// every 500 ms); the fleet and everything started later stop when the
// test ends.
func ctlStart(t *testing.T, nodes ...simnode.NodeSpec) *ctlCluster {
	t.Helper()
	env := testenv.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	cl := &ctlCluster{env: env, c: env.Client, ctx: ctx, cancel: cancel,
		logs: &ctlLogRecorder{next: testenv.Logger(t).Handler(), mu: &sync.Mutex{}, warns: &[]string{}}}
	t.Cleanup(func() {
		cancel()
		cl.wg.Wait() // before the control plane stops (cleanups run last-in first-out)
	})
	if len(nodes) == 0 {
		return cl
	}
	cl.fleet = simnode.NewFleet(simnode.Config{Client: env.Client, Log: testenv.Logger(t), HeartbeatInterval: 500 * time.Millisecond})
	for _, n := range nodes {
		if _, err := cl.fleet.Add(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		cl.fleet.Run(ctx)
	}()
	if !cl.fleet.WaitForSync(ctx) {
		t.Fatal("fleet did not sync")
	}
	return cl
}

// deps returns controller dependencies on the cluster, with one shared
// set of informers, logging to the test (and to cl.logs).
func (cl *ctlCluster) deps(cfg Config) Deps {
	return Deps{Client: cl.c, Log: slog.New(cl.logs), Config: cfg}.withDefaults()
}

// run starts controllers built from d until the test ends and waits until
// their caches are loaded.
func (cl *ctlCluster) run(t *testing.T, d Deps, controllers ...Runnable) {
	t.Helper()
	cl.runUntil(t, cl.ctx, d, controllers...)
}

// runUntil is run with controllers that stop when ctx (a child of cl.ctx) ends.
func (cl *ctlCluster) runUntil(t *testing.T, ctx context.Context, d Deps, controllers ...Runnable) {
	t.Helper()
	cl.wg.Add(1)
	go func() {
		defer cl.wg.Done()
		RunAll(ctx, d, controllers)
	}()
	syncCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if !d.Informers.WaitForSync(syncCtx) {
		t.Fatal("informers did not sync")
	}
}

// ctlWait polls cond every 25 ms until it holds, failing the test after
// timeout with the last state cond described.
func ctlWait(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; last state: %s", timeout, what, state)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// ctlPod is a pod bound to node (unbound when ""), with one container
// exposing port "http" on 8080.
func ctlPod(ns, name, node string, labels map[string]string, mut ...func(*api.Pod)) *api.Pod {
	p := &api.Pod{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: api.PodSpec{NodeName: node, Containers: []api.Container{{Name: "app", Image: "demo:1",
			Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
	}
	for _, m := range mut {
		m(p)
	}
	return p
}

// ctlMust checks a call's error: v := ctlMust(c.Pods(ns).Get(ctx, name))(t).
func ctlMust[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// ctlGone reports whether a Get failed with NotFound.
func ctlGone(t *testing.T, err error) bool {
	t.Helper()
	if err != nil && !api.IsNotFound(err) {
		t.Fatalf("unexpected error: %v", err)
	}
	return api.IsNotFound(err)
}

// ctlLogRecorder keeps the messages of warnings logged through it and
// passes every record on.
type ctlLogRecorder struct {
	next  slog.Handler
	mu    *sync.Mutex
	warns *[]string
}

func (h *ctlLogRecorder) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h *ctlLogRecorder) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.mu.Lock()
		*h.warns = append(*h.warns, r.Message)
		h.mu.Unlock()
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *ctlLogRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &ctlLogRecorder{next: h.next.WithAttrs(as), mu: h.mu, warns: h.warns}
}

func (h *ctlLogRecorder) WithGroup(name string) slog.Handler {
	return &ctlLogRecorder{next: h.next.WithGroup(name), mu: h.mu, warns: h.warns}
}

// count reports how many warnings had this message.
func (h *ctlLogRecorder) count(msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range *h.warns {
		if m == msg {
			n++
		}
	}
	return n
}

// ctlEvents lists the reasons of events about an object.
func ctlEvents(t *testing.T, c *client.Client, ns, kind, name string) []string {
	t.Helper()
	evs, _, err := c.Events(ns).List(context.Background(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range evs {
		if e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name && !slices.Contains(reasons, e.Reason) {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons
}
