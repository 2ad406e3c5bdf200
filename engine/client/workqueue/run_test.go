package workqueue_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maestro-dev/maestro/engine/client/workqueue"
)

func TestRunRequeuesWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := workqueue.New[string](workqueue.WithName("test"),
			workqueue.WithRateLimiter(workqueue.NewItemExponentialFailureRateLimiter(10*ms, time.Second)))
		errFlaky := errors.New("not yet")
		start := time.Now()

		var (
			mu       sync.Mutex
			attempts = map[string][]time.Duration{}
			reported []string
		)
		process := func(ctx context.Context, key string) error {
			mu.Lock()
			defer mu.Unlock()
			attempts[key] = append(attempts[key], time.Since(start))
			if key == "flaky" && len(attempts[key]) <= 4 {
				return errFlaky
			}
			return nil
		}
		onError := func(key string, err error) {
			mu.Lock()
			defer mu.Unlock()
			if !errors.Is(err, errFlaky) {
				t.Errorf("onError(%q, %v): unexpected error", key, err)
			}
			reported = append(reported, key)
		}

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			workqueue.Run(ctx, q, 2, process, onError)
			close(done)
		}()
		q.Add("flaky")
		q.Add("steady")
		q.AddAfter("steady", 25*ms) // must not wait behind flaky's backoff

		time.Sleep(time.Second)
		if n := q.NumRequeues("flaky"); n != 0 {
			t.Errorf("NumRequeues(flaky) after success = %d, want 0 (Forget)", n)
		}
		cancel()
		<-done // Run returned, so reading the results below is race-free

		if !q.ShuttingDown() {
			t.Error("queue not shut down after ctx ended")
		}
		// Retries after 10, 20, 40, 80ms of backoff.
		if got, want := attempts["flaky"], []time.Duration{0, 10 * ms, 30 * ms, 70 * ms, 150 * ms}; !slices.Equal(got, want) {
			t.Errorf("flaky attempts at %v, want %v", got, want)
		}
		if got, want := attempts["steady"], []time.Duration{0, 25 * ms}; !slices.Equal(got, want) {
			t.Errorf("steady attempts at %v, want %v", got, want)
		}
		if want := []string{"flaky", "flaky", "flaky", "flaky"}; !slices.Equal(reported, want) {
			t.Errorf("onError saw %q, want %q", reported, want)
		}
	})
}

func TestRunNilOnErrorStillRequeues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := workqueue.New[int](workqueue.WithRateLimiter(
			workqueue.NewItemExponentialFailureRateLimiter(ms, ms)))
		var calls atomic.Int32
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		q.Add(1)
		go workqueue.Run(ctx, q, 0, func(context.Context, int) error {
			if calls.Add(1) == 3 {
				cancel()
			}
			return errors.New("fail")
		}, nil)
		time.Sleep(time.Second)
		if n := calls.Load(); n != 3 {
			t.Fatalf("process called %d times, want 3 (stopping at cancel)", n)
		}
	})
}

func TestRunDropsQueuedKeysAfterCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := workqueue.New[int]()
		for i := range 5 {
			q.Add(i)
		}
		ctx, cancel := context.WithCancel(t.Context())
		var got []int // one worker, read after Run returns
		workqueue.Run(ctx, q, 1, func(_ context.Context, key int) error {
			got = append(got, key)
			cancel()
			return nil
		}, nil)
		// Get still hands out queued keys after ShutDown; Run must not
		// process them with a cancelled context.
		if want := []int{0}; !slices.Equal(got, want) {
			t.Fatalf("processed %v, want %v", got, want)
		}
		if !q.ShuttingDown() {
			t.Error("Run returned before shutting the queue down")
		}
	})
}

func TestRunReturnsWhenQueueShutDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := workqueue.New[int]()
		done := make(chan struct{})
		go func() {
			workqueue.Run(t.Context(), q, 4, func(context.Context, int) error { return nil }, nil)
			close(done)
		}()
		synctest.Wait()
		q.ShutDown()
		<-done
	})
}

func TestRunStopsOnCancelWithoutLeaks(t *testing.T) {
	// Real time and the real goroutine count, as a check independent of
	// synctest's bubble accounting. Not parallel: NumGoroutine is global.
	before := runtime.NumGoroutine()

	q := workqueue.New[string]()
	q.AddAfter("later", time.Hour) // starts the delay goroutine
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	blocked := make(chan struct{})
	var processed atomic.Int32
	process := func(ctx context.Context, key string) error {
		processed.Add(1)
		if key == "block" {
			close(blocked)
			<-ctx.Done() // a reconcile that honours cancellation
			return ctx.Err()
		}
		return nil
	}
	done := make(chan struct{})
	go func() {
		workqueue.Run(ctx, q, 8, process, nil)
		close(done)
	}()
	q.Add("block")
	for i := range 100 {
		q.Add(fmt.Sprint(i))
	}
	<-blocked
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run didn't return after cancel")
	}
	if !q.ShuttingDown() {
		t.Error("queue not shut down after cancel")
	}
	n := processed.Load()
	q.Add("after") // ignored, and nobody is left to process it anyway
	if got := processed.Load(); got != n {
		t.Errorf("processed %d keys after Run returned", got-n)
	}

	// Goroutines that have exited may take a moment to leave the count.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after Run returned\n%s",
				before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
