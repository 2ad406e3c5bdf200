package flowcontrol

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func small(seats, perIdentity, queue int, wait time.Duration) Config {
	lc := LevelConfig{Seats: seats, PerIdentity: perIdentity, QueueLength: queue, QueueWait: wait}
	return Config{Levels: map[Level]LevelConfig{System: lc, Node: lc, Workload: lc}, MaxLongRunningPerIdentity: 2}
}

func mustAcquire(t *testing.T, c *Controller, l Level, id string) func() {
	t.Helper()
	release, err := c.Acquire(context.Background(), l, id)
	if err != nil {
		t.Fatalf("%s %s: %v", l, id, err)
	}
	return release
}

// TestLevelsAreIndependent: a full workload level leaves the system and
// node levels untouched.
func TestLevelsAreIndependent(t *testing.T) {
	c := New(small(2, 0, 0, time.Second), nil)
	mustAcquire(t, c, Workload, "user-a")
	mustAcquire(t, c, Workload, "user-b")
	if _, err := c.Acquire(context.Background(), Workload, "user-c"); !isRejection(err, ReasonQueueFull) {
		t.Fatalf("third workload request: %v, want a queue-full rejection", err)
	}
	for _, l := range []Level{System, Node} {
		start := time.Now()
		mustAcquire(t, c, l, "controller")
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("%s waited %s behind the workload level", l, d)
		}
	}
}

// TestOneIdentityCannotTakeEverySeat: an identity at its share waits; the
// others still get seats at once.
func TestOneIdentityCannotTakeEverySeat(t *testing.T) {
	c := New(small(4, 2, 10, 5*time.Second), nil)
	releaseA := mustAcquire(t, c, Workload, "hog")
	mustAcquire(t, c, Workload, "hog")
	got := make(chan error, 1)
	go func() {
		release, err := c.Acquire(context.Background(), Workload, "hog")
		if err == nil {
			release()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("third request of the hog: %v, want it to wait", err)
	case <-time.After(100 * time.Millisecond):
	}
	mustAcquire(t, c, Workload, "admin")
	mustAcquire(t, c, Workload, "other")
	releaseA()
	if err := <-got; err != nil {
		t.Fatalf("the hog's queued request after it freed a seat: %v", err)
	}
}

// TestFreedSeatsGoRoundRobin: one seat, a long backlog from one identity
// and one request from another: the other is served next, not last.
func TestFreedSeatsGoRoundRobin(t *testing.T) {
	c := New(small(1, 0, 10, 10*time.Second), nil)
	release := mustAcquire(t, c, Workload, "first")
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	enqueue := func(id string) {
		wg.Go(func() {
			rel, err := c.Acquire(context.Background(), Workload, id)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, id)
			mu.Unlock()
			rel()
		})
		time.Sleep(20 * time.Millisecond) // queue in this order
	}
	for range 4 {
		enqueue("backlog")
	}
	enqueue("late")
	release()
	wg.Wait()
	if strings.Join(order, ",") != "backlog,late,backlog,backlog,backlog" {
		t.Errorf("served in order %v, want the late identity second", order)
	}
}

func TestQueueWaitAndCancel(t *testing.T) {
	c := New(small(1, 0, 5, 200*time.Millisecond), nil)
	mustAcquire(t, c, Node, "a")
	start := time.Now()
	_, err := c.Acquire(context.Background(), Node, "b")
	if !isRejection(err, ReasonTimeout) {
		t.Fatalf("waiting past the queue wait: %v, want a time-out rejection", err)
	}
	var rej *Rejection
	if errors.As(err, &rej); rej.RetryAfter <= 0 || rej.Level != Node {
		t.Errorf("rejection %+v: want a Retry-After and the node level", rej)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("refused after %s, want about the queue wait (200ms)", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := c.Acquire(ctx, Node, "b"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while waiting: %v", err)
	}
	l := c.levels[Node]
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queues) != 0 || len(l.ring) != 0 || l.inUse != 1 {
		t.Errorf("after the waiters left: queues %v ring %v in use %d", l.queues, l.ring, l.inUse)
	}
}

func TestLongRunningLimit(t *testing.T) {
	c := New(small(1, 0, 0, time.Second), nil)
	r1, err := c.AcquireLongRunning(Workload, "viewer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AcquireLongRunning(Workload, "viewer"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AcquireLongRunning(Workload, "viewer"); !isRejection(err, ReasonTooMany) || !strings.Contains(err.Error(), "too many open watches") {
		t.Fatalf("third watch: %v, want a long-running-limit rejection", err)
	}
	if _, err := c.AcquireLongRunning(Workload, "other"); err != nil {
		t.Fatalf("another identity's watch: %v", err)
	}
	r1()
	r1() // twice is once
	if _, err := c.AcquireLongRunning(Workload, "viewer"); err != nil {
		t.Fatalf("after closing one: %v", err)
	}
	for i := range 10 {
		if _, err := c.AcquireLongRunning(System, "controller-manager"); err != nil {
			t.Fatalf("system watch %d: %v", i, err)
		}
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := New(small(1, 0, 0, time.Second), reg)
	release := mustAcquire(t, c, Workload, "a")
	_, _ = c.Acquire(context.Background(), Workload, "b")
	if got := gauge(t, reg, "maestro_apiserver_flowcontrol_inflight_requests", "workload", ""); got != 1 {
		t.Errorf("workload in flight %v, want 1", got)
	}
	release()
	for _, l := range Levels {
		if got := gauge(t, reg, "maestro_apiserver_flowcontrol_inflight_requests", string(l), ""); got != 0 {
			t.Errorf("%s in flight after release: %v", l, got)
		}
		if got := gauge(t, reg, "maestro_apiserver_flowcontrol_seats", string(l), ""); got != 1 {
			t.Errorf("%s seats %v, want 1", l, got)
		}
	}
	if n := gauge(t, reg, "maestro_apiserver_flowcontrol_rejected_requests_total", "workload", ReasonQueueFull); n != 1 {
		t.Errorf("rejected (queue-full) %v, want 1", n)
	}
}

// gauge reads one sample of a gathered metric (a gauge or counter) by its
// priority level and, when given, reason.
func gauge(t *testing.T, reg *prometheus.Registry, name, level, reason string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["priority_level"] != level || (reason != "" && labels["reason"] != reason) {
				continue
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s{priority_level=%q,reason=%q}", name, level, reason)
	return 0
}

// TestSeatsNeverOverbooked: under concurrent use no level exceeds its
// seats, no identity its share, and every seat comes back.
func TestSeatsNeverOverbooked(t *testing.T) {
	const seats, share = 8, 3
	c := New(small(seats, share, 20, 2*time.Second), nil)
	var inUse atomic.Int64
	var perID [5]atomic.Int64
	var wg sync.WaitGroup
	for g := range 40 {
		wg.Go(func() {
			for range 50 {
				i := rand.IntN(len(perID))
				release, err := c.Acquire(context.Background(), Workload, fmt.Sprint("id-", i))
				if err != nil {
					continue
				}
				if n := inUse.Add(1); n > seats {
					t.Errorf("goroutine %d: %d seats in use", g, n)
				}
				if n := perID[i].Add(1); n > share {
					t.Errorf("identity %d holds %d seats", i, n)
				}
				time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
				perID[i].Add(-1)
				inUse.Add(-1)
				release()
			}
		})
	}
	wg.Wait()
	l := c.levels[Workload]
	if l.inUse != 0 || len(l.held) != 0 || len(l.queues) != 0 {
		t.Errorf("after all released: in use %d, held %v, queues %v", l.inUse, l.held, l.queues)
	}
}

func isRejection(err error, reason string) bool {
	var r *Rejection
	return errors.As(err, &r) && r.Reason == reason
}
