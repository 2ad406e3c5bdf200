package workqueue_test

import (
	"math/rand/v2"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maestro-dev/maestro/engine/client/workqueue"
)

// These tests run in a synctest bubble: time is fake and moves only when
// every goroutine is blocked, so the durations asserted are exact rather than
// bounds, and nothing depends on the machine's speed.

func TestAddAfter(t *testing.T) {
	type add struct {
		key string
		d   time.Duration
	}
	type handout struct {
		key string
		at  time.Duration // since the adds
	}
	tests := []struct {
		name string
		adds []add
		want []handout
	}{
		{"ordered by deadline",
			[]add{{"c", 30 * ms}, {"a", 10 * ms}, {"b", 20 * ms}},
			[]handout{{"a", 10 * ms}, {"b", 20 * ms}, {"c", 30 * ms}}},
		{"later shorter delay wins",
			[]add{{"k", 50 * ms}, {"k", 10 * ms}},
			[]handout{{"k", 10 * ms}}},
		{"later longer delay doesn't postpone",
			[]add{{"k", 10 * ms}, {"k", 50 * ms}},
			[]handout{{"k", 10 * ms}}},
		{"zero and negative add now",
			[]add{{"k", 0}, {"j", -time.Second}},
			[]handout{{"k", 0}, {"j", 0}}},
		{"equal deadlines keep add order",
			[]add{{"b", 10 * ms}, {"a", 10 * ms}, {"c", 10 * ms}},
			[]handout{{"b", 10 * ms}, {"a", 10 * ms}, {"c", 10 * ms}}},
		{"immediate add doesn't cancel a delayed one",
			[]add{{"k", 0}, {"k", 10 * ms}},
			[]handout{{"k", 0}, {"k", 10 * ms}}},
		{"keys due together come out in add order",
			[]add{{"x", 10 * ms}, {"k", 10 * ms}, {"x", 0}},
			[]handout{{"x", 0}, {"x", 10 * ms}, {"k", 10 * ms}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := workqueue.New[string]()
				defer q.ShutDown()
				start := time.Now()
				for _, a := range tt.adds {
					q.AddAfter(a.key, a.d)
				}
				var got []handout
				for range tt.want {
					k, _ := q.Get()
					got = append(got, handout{k, time.Since(start)})
					q.Done(k)
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("handed out %v, want %v", got, tt.want)
				}
				// Nothing else may turn up later.
				time.Sleep(time.Hour)
				if n := q.Len(); n != 0 {
					t.Fatalf("Len() = %d an hour later, want 0", n)
				}
			})
		})
	}
}

func TestAddAfterMergesWithWaitingKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := workqueue.New[string]()
		defer q.ShutDown()
		q.Add("k")
		q.AddAfter("k", 10*time.Millisecond)
		time.Sleep(20 * time.Millisecond) // k comes due while still waiting
		if n := q.Len(); n != 1 {
			t.Fatalf("Len() = %d, want 1 (delayed add merged)", n)
		}
	})
}

// bubbleDelayLoops counts the delay goroutines in the caller's synctest
// bubble. A stack dump is exact where runtime.NumGoroutine is best-effort,
// and limiting it to the bubble ignores queues of earlier tests whose
// goroutines are still on their way out.
var bubbleID = regexp.MustCompile(`synctest bubble (\d+)`)

func bubbleDelayLoops(t *testing.T) int {
	t.Helper()
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	// Each goroutine's header line names its bubble; the caller's own
	// goroutine comes first.
	bubbleOf := func(g string) string {
		header, _, _ := strings.Cut(g, "\n")
		if m := bubbleID.FindStringSubmatch(header); m != nil {
			return m[1]
		}
		return ""
	}
	goroutines := strings.Split(string(buf), "\n\n")
	mine := bubbleOf(goroutines[0])
	if mine == "" {
		t.Fatalf("not in a synctest bubble:\n%s", goroutines[0])
	}
	count := 0
	for _, g := range goroutines {
		if bubbleOf(g) == mine && strings.Contains(g, ").delayLoop(") {
			count++
		}
	}
	return count
}

func TestAddAfterManyKeysUsesOneGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 1000
		q := workqueue.New[int]()
		delays := make([]time.Duration, n)
		for i := range n {
			delays[i] = time.Duration(1+rand.IntN(1000)) * time.Millisecond
			q.AddAfter(i, delays[i])
		}
		synctest.Wait() // the loop has started and is waiting on its timer
		if got := bubbleDelayLoops(t); got != 1 {
			t.Errorf("%d delay goroutines for %d delayed keys, want 1", got, n)
		}
		start := time.Now()
		prev := time.Duration(0)
		for range n {
			k, _ := q.Get()
			at := time.Since(start)
			if at != delays[k] {
				t.Fatalf("key %d handed out at %v, want %v", k, at, delays[k])
			}
			if at < prev {
				t.Fatalf("key %d at %v came after a key at %v", k, at, prev)
			}
			prev = at
			q.Done(k)
		}
		q.ShutDown()
		// ShutDown waits for the delay goroutine to finish; Wait lets it
		// finish exiting too.
		synctest.Wait()
		if got := bubbleDelayLoops(t); got != 0 {
			t.Errorf("%d delay goroutines left after ShutDown", got)
		}
	})
}

func TestShutDownDropsDelayedKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := workqueue.New[string]()
		q.AddAfter("k", 10*time.Millisecond)
		q.ShutDown()
		q.AddAfter("j", 10*time.Millisecond) // ignored; mustn't restart the goroutine
		time.Sleep(time.Second)
		if k, shutdown := q.Get(); !shutdown {
			t.Fatalf("Get() = %q, false; want shutdown", k)
		}
		// synctest.Test itself fails if the delay goroutine outlives this
		// function.
	})
}
