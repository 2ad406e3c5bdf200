package scheduler

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// popWithin pops a pod or returns nil if none is ready within d.
func popWithin(t *testing.T, q *Queue, d time.Duration) *QueuedPod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	qp, err := q.Pop(ctx)
	if err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Pop: %v", err)
		}
		return nil
	}
	return qp
}

func mustPop(t *testing.T, q *Queue, d time.Duration, want string) *QueuedPod {
	t.Helper()
	qp := popWithin(t, q, d)
	if qp == nil {
		t.Fatalf("no pod ready within %v, want %s", d, want)
	}
	if got := q.Latest(qp).Key; got != want {
		t.Fatalf("popped %s, want %s", got, want)
	}
	return qp
}

func fastQueue() *Queue {
	return NewQueue(QueueOptions{InitialBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
}

func TestQueueOrdersByPriorityThenArrival(t *testing.T) {
	q := fastQueue()
	q.Add(mustPodInfo(t, pod("low1")))
	q.Add(mustPodInfo(t, pod("high", priority(10))))
	q.Add(mustPodInfo(t, pod("low2")))
	q.Add(mustPodInfo(t, pod("low1"))) // merges with the waiting one
	for _, want := range []string{"default/high", "default/low1", "default/low2"} {
		mustPop(t, q, time.Second, want)
	}
	if qp := popWithin(t, q, 20*time.Millisecond); qp != nil {
		t.Errorf("extra pod %s", q.Latest(qp).Key)
	}
}

func TestQueueBackoffDoublesToACap(t *testing.T) {
	q := NewQueue(QueueOptions{})
	var got []time.Duration
	for attempts := 1; attempts <= 9; attempts++ {
		got = append(got, q.backoffFor(attempts))
	}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoffs %v, want %v ms", got, want)
		}
	}
}

// TestQueueUnschedulableWaitsForAnEvent checks that a pod that fit nowhere
// is not retried in a loop, and is retried once a node appears.
func TestQueueUnschedulableWaitsForAnEvent(t *testing.T) {
	q := fastQueue()
	q.Add(mustPodInfo(t, pod("p")))
	qp := mustPop(t, q, time.Second, "default/p")
	q.AddUnschedulable(qp, Reject(ReasonInsufficientCPU))

	// Well past its backoff, nothing happened: it stays parked.
	if got := popWithin(t, q, 150*time.Millisecond); got != nil {
		t.Fatal("unschedulable pod retried without any event")
	}
	if c := q.Counts(); c.Unschedulable != 1 {
		t.Fatalf("counts %+v, want 1 unschedulable", c)
	}
	// A bound pod cannot free cpu: not moved.
	q.MoveAllToActive(PodAddedReasons)
	if got := popWithin(t, q, 50*time.Millisecond); got != nil {
		t.Fatal("moved by an event that cannot help it")
	}
	// A node was added: retried.
	q.MoveAllToActive(AllReasons)
	mustPop(t, q, time.Second, "default/p")
}

func TestQueueMovedPodWaitsOutItsBackoff(t *testing.T) {
	q := NewQueue(QueueOptions{InitialBackoff: 300 * time.Millisecond})
	q.Add(mustPodInfo(t, pod("p")))
	qp := mustPop(t, q, time.Second, "default/p")
	start := time.Now()
	q.AddUnschedulable(qp, Reject(ReasonInsufficientCPU))
	q.MoveAllToActive(AllReasons) // at once: still within the backoff
	if c := q.Counts(); c.Backoff != 1 {
		t.Fatalf("counts %+v, want the pod in backoff", c)
	}
	mustPop(t, q, 2*time.Second, "default/p")
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("retried after %v, before its 300ms backoff", waited)
	}
}

func TestQueueEventDuringSchedulingIsNotLost(t *testing.T) {
	q := fastQueue()
	q.Add(mustPodInfo(t, pod("p")))
	qp := mustPop(t, q, time.Second, "default/p")
	q.MoveAllToActive(FreedReasons) // a pod was deleted while p was being scheduled
	q.AddUnschedulable(qp, Reject(ReasonInsufficientMemory))
	mustPop(t, q, time.Second, "default/p")
}

func TestQueueUpdates(t *testing.T) {
	q := fastQueue()
	p := pod("p", podLabels("app", "web"))
	p.ResourceVersion = 5
	q.Add(mustPodInfo(t, p))
	qp := mustPop(t, q, time.Second, "default/p")
	q.AddUnschedulable(qp, Reject(ReasonPodAffinity))

	// The scheduler's own status write comes back as an update: no move.
	st := *p
	st.ResourceVersion = 6
	st.Status.Conditions = []api.Condition{{Type: api.PodScheduled, Status: api.ConditionFalse}}
	q.Update(mustPodInfo(t, &st))
	if got := popWithin(t, q, 80*time.Millisecond); got != nil {
		t.Fatal("a status update moved the pod")
	}
	if q.Latest(qp).Pod.ResourceVersion != 6 {
		t.Error("update not recorded")
	}
	// An older object never replaces a newer one.
	q.Update(mustPodInfo(t, p))
	if q.Latest(qp).Pod.ResourceVersion != 6 {
		t.Error("stale update recorded")
	}
	// New labels may change its own affinity or spread: moved.
	lb := st
	lb.ResourceVersion = 7
	lb.Labels = map[string]string{"app": "api"}
	q.Update(mustPodInfo(t, &lb))
	mustPop(t, q, time.Second, "default/p")
}

func TestQueueDelete(t *testing.T) {
	q := fastQueue()
	q.Add(mustPodInfo(t, pod("a")))
	q.Add(mustPodInfo(t, pod("b")))
	q.Delete("default/a")
	qp := mustPop(t, q, time.Second, "default/b")
	q.Delete("default/b") // deleted while in flight
	q.AddUnschedulable(qp, Reject(ReasonTaints))
	if c := q.Counts(); c != (QueueCounts{}) {
		t.Errorf("counts %+v after deletes, want empty", c)
	}
}

func TestQueueBackoffAndBinding(t *testing.T) {
	q := fastQueue()
	q.Add(mustPodInfo(t, pod("p")))
	qp := mustPop(t, q, time.Second, "default/p")
	q.Binding(qp)
	if c := q.Counts(); c.InFlight != 1 {
		t.Fatalf("counts %+v, want the binding pod in flight", c)
	}
	q.AddBackoff(qp) // the binding failed: retried without an event
	mustPop(t, q, time.Second, "default/p")
	q.Binding(qp)
	q.Done(qp)
	if c := q.Counts(); c != (QueueCounts{}) {
		t.Errorf("counts %+v after Done, want empty", c)
	}
}

func TestQueuePeriodicFlush(t *testing.T) {
	q := NewQueue(QueueOptions{InitialBackoff: 10 * time.Millisecond, UnschedulableFlush: 200 * time.Millisecond})
	q.Add(mustPodInfo(t, pod("p")))
	qp := mustPop(t, q, time.Second, "default/p")
	start := time.Now()
	q.AddUnschedulable(qp, Reject(ReasonInsufficientCPU))
	mustPop(t, q, 2*time.Second, "default/p")
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("flushed after %v, before the flush interval", waited)
	}
}

func TestQueueClose(t *testing.T) {
	q := fastQueue()
	done := make(chan error, 1)
	go func() {
		_, err := q.Pop(context.Background())
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	q.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrQueueClosed) {
			t.Errorf("Pop after Close: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Close did not wake Pop")
	}
}
