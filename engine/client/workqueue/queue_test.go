package workqueue_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/maestro-dev/maestro/engine/client/workqueue"
)

// drain Gets and Dones every key that is ready right now, in order.
func drain[T comparable](t *testing.T, q *workqueue.Queue[T]) []T {
	t.Helper()
	var got []T
	for q.Len() > 0 {
		k, shutdown := q.Get()
		if shutdown {
			t.Fatalf("Get: shutdown with Len() > 0")
		}
		got = append(got, k)
		q.Done(k)
	}
	return got
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAddMergesDuplicatesInFIFOOrder(t *testing.T) {
	tests := []struct {
		name string
		adds []string
		want []string
	}{
		{"empty", nil, nil},
		{"fifo", []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"duplicates merge", []string{"a", "b", "a", "c", "b", "a"}, []string{"a", "b", "c"}},
		{"one key many times", []string{"k", "k", "k", "k"}, []string{"k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := workqueue.New[string]()
			defer q.ShutDown()
			for _, k := range tt.adds {
				q.Add(k)
			}
			if got := q.Len(); got != len(tt.want) {
				t.Fatalf("Len() = %d, want %d", got, len(tt.want))
			}
			if got := drain(t, q); !equal(got, tt.want) {
				t.Fatalf("Get order = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAddDuringProcessingRequeuesOnceAfterDone(t *testing.T) {
	tests := []struct {
		name   string
		readds int      // adds of the key while it is being processed
		others []string // other keys added while it is being processed
		want   []string // keys handed out after Done
	}{
		{"no re-add", 0, nil, nil},
		{"one re-add", 1, nil, []string{"k"}},
		{"many re-adds merge", 5, nil, []string{"k"}},
		{"re-add goes to the back", 2, []string{"x", "y"}, []string{"x", "y", "k"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := workqueue.New[string]()
			defer q.ShutDown()
			q.Add("k")
			if k, _ := q.Get(); k != "k" {
				t.Fatalf("Get() = %q, want k", k)
			}
			for range tt.readds {
				q.Add("k")
			}
			for _, o := range tt.others {
				q.Add(o)
			}
			// The key must not be ready while it's in flight, or a
			// second worker could take it.
			if got := q.Len(); got != len(tt.others) {
				t.Fatalf("Len() while processing = %d, want %d", got, len(tt.others))
			}
			q.Done("k")
			if got := drain(t, q); !equal(got, tt.want) {
				t.Fatalf("after Done got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDoneOfKeyNotBeingProcessedIsNoop(t *testing.T) {
	q := workqueue.New[string]()
	defer q.ShutDown()
	q.Add("a")
	q.Done("a") // a is waiting, not processing
	q.Done("b") // never seen
	if got := drain(t, q); !equal(got, []string{"a"}) {
		t.Fatalf("got %q, want [a]", got)
	}
}

// TestNoKeyProcessedConcurrently hammers a few keys from many producers and
// workers. Beyond the in-flight counter, lastSeen is written without
// atomics, so the race detector also flags any overlap; and every key must
// be processed after its final Add, or an update was lost.
func TestNoKeyProcessedConcurrently(t *testing.T) {
	const (
		keys      = 4
		workers   = 32
		producers = 8
		adds      = 2000 // per producer
	)
	q := workqueue.New[int]()
	var (
		inFlight [keys]atomic.Int32
		version  [keys]atomic.Int64 // bumped before every Add
		lastSeen [keys]int64        // version a worker saw when it took the key
		handled  atomic.Int64
	)

	var workersWG sync.WaitGroup
	for range workers {
		workersWG.Go(func() {
			for {
				k, shutdown := q.Get()
				if shutdown {
					return
				}
				if n := inFlight[k].Add(1); n != 1 {
					t.Errorf("key %d processed by %d workers at once", k, n)
				}
				lastSeen[k] = max(lastSeen[k], version[k].Load())
				runtime.Gosched() // widen the window for an overlap
				inFlight[k].Add(-1)
				handled.Add(1)
				q.Done(k)
			}
		})
	}

	var producersWG sync.WaitGroup
	for p := range producers {
		producersWG.Go(func() {
			for i := range adds {
				k := (p + i) % keys
				version[k].Add(1)
				q.Add(k)
				// Let workers run between adds; otherwise nearly every
				// add merges and there is little contention to test.
				runtime.Gosched()
			}
		})
	}
	producersWG.Wait()
	// ShutDown still hands out everything queued, including keys Done
	// re-queues, so the workers see every last Add before exiting.
	q.ShutDown()
	workersWG.Wait()

	for k := range keys {
		if lastSeen[k] != version[k].Load() {
			t.Errorf("key %d: last processed at version %d, final version %d (lost update)", k, lastSeen[k], version[k].Load())
		}
	}
	t.Logf("%d adds merged into %d passes", producers*adds, handled.Load())
}

func TestShutDownUnblocksGet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := workqueue.New[string]()
		const getters = 4
		var returned atomic.Int32
		var wg sync.WaitGroup
		for range getters {
			wg.Go(func() {
				if k, shutdown := q.Get(); !shutdown {
					t.Errorf("Get() = %q, false; want shutdown", k)
				}
				returned.Add(1)
			})
		}
		synctest.Wait() // all getters blocked in Get
		if n := returned.Load(); n != 0 {
			t.Fatalf("%d Gets returned before ShutDown", n)
		}
		q.ShutDown()
		wg.Wait()
		if !q.ShuttingDown() {
			t.Fatal("ShuttingDown() = false after ShutDown")
		}
	})
}

func TestShutDownDrainsQueuedKeysAndIgnoresAdds(t *testing.T) {
	q := workqueue.New[string]()
	q.Add("a")
	q.Add("b")
	if k, _ := q.Get(); k != "a" {
		t.Fatalf("Get() = %q, want a", k)
	}
	q.Add("a") // re-added while in flight, before shutdown: must survive it
	q.ShutDown()
	q.ShutDown() // idempotent
	q.Add("c")
	q.AddAfter("d", 0)
	q.AddRateLimited("e")
	q.Done("a")

	var got []string
	for {
		k, shutdown := q.Get()
		if shutdown {
			break
		}
		got = append(got, k)
		q.Done(k)
	}
	if want := []string{"b", "a"}; !equal(got, want) {
		t.Fatalf("after ShutDown got %q, want %q", got, want)
	}
	if n := q.NumRequeues("e"); n != 0 {
		t.Fatalf("AddRateLimited after ShutDown counted a requeue: NumRequeues = %d", n)
	}
}

func TestShutDownWithDrain(t *testing.T) {
	type step struct {
		do          func(q *workqueue.Queue[string])
		wantDrained bool // whether ShutDownWithDrain has returned after do
	}
	done := func(k string) func(*workqueue.Queue[string]) {
		return func(q *workqueue.Queue[string]) { q.Done(k) }
	}
	tests := []struct {
		name     string
		inFlight []string // taken with Get before the drain starts
		steps    []step
	}{
		{"nothing in flight", nil, nil},
		{"waits for every Done", []string{"a", "b"}, []step{
			{done("a"), false},
			{done("zzz"), false}, // a stray Done doesn't end it
			{done("b"), true},
		}},
		{"ShutDown ends the wait", []string{"a"}, []step{
			{(*workqueue.Queue[string]).ShutDown, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := workqueue.New[string]()
				for _, k := range tt.inFlight {
					q.Add(k)
					q.Get()
				}
				var drained atomic.Bool
				go func() {
					q.ShutDownWithDrain()
					drained.Store(true)
				}()
				// synctest.Wait returns once ShutDownWithDrain has either
				// returned or blocked, so these checks are exact.
				synctest.Wait()
				if !q.ShuttingDown() {
					t.Error("ShuttingDown() = false during drain")
				}
				if got, want := drained.Load(), len(tt.inFlight) == 0; got != want {
					t.Fatalf("drained before any Done = %v, want %v", got, want)
				}
				if len(tt.inFlight) > 0 {
					if k, shutdown := q.Get(); !shutdown {
						t.Fatalf("Get() during drain = %q, false; want shutdown", k)
					}
				}
				for i, s := range tt.steps {
					s.do(q)
					synctest.Wait()
					if got := drained.Load(); got != s.wantDrained {
						t.Fatalf("step %d: drained = %v, want %v", i, got, s.wantDrained)
					}
				}
			})
		})
	}
}

func TestShutDownWithDrainKeepsReaddedKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := workqueue.New[string]()
		q.Add("a")
		q.Get()
		q.Add("a") // due for another pass
		done := make(chan struct{})
		go func() {
			q.ShutDownWithDrain()
			close(done)
		}()
		synctest.Wait()
		q.Done("a") // re-queues a; nothing is in flight any more
		<-done
		if k, shutdown := q.Get(); shutdown || k != "a" {
			t.Fatalf("Get() = %q, %v; want a, false", k, shutdown)
		}
		q.Done("a")
		if _, shutdown := q.Get(); !shutdown {
			t.Fatal("Get() after drain: want shutdown")
		}
	})
}
