package workqueue_test

import (
	"math"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maestro-dev/maestro/engine/client/workqueue"
)

const ms = time.Millisecond

// whens calls l.When(item) n times.
func whens(l workqueue.RateLimiter, item any, n int) []time.Duration {
	var got []time.Duration
	for range n {
		got = append(got, l.When(item))
	}
	return got
}

func TestItemExponentialFailureRateLimiter(t *testing.T) {
	tests := []struct {
		name      string
		base, max time.Duration
		want      []time.Duration // successive When for one item
	}{
		{"doubles then caps", ms, time.Second, []time.Duration{
			1 * ms, 2 * ms, 4 * ms, 8 * ms, 16 * ms, 32 * ms, 64 * ms, 128 * ms,
			256 * ms, 512 * ms, time.Second, time.Second, time.Second,
		}},
		{"max below base", time.Second, ms, []time.Duration{ms, ms}},
		{"zero base never waits", 0, time.Second, []time.Duration{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := workqueue.NewItemExponentialFailureRateLimiter(tt.base, tt.max)
			if got := whens(l, "a", len(tt.want)); !slices.Equal(got, tt.want) {
				t.Fatalf("When = %v, want %v", got, tt.want)
			}
			if got := l.NumRequeues("a"); got != len(tt.want) {
				t.Errorf("NumRequeues = %d, want %d", got, len(tt.want))
			}
			// Items back off independently.
			if got := l.When("b"); got != tt.want[0] {
				t.Errorf("When(other item) = %v, want %v", got, tt.want[0])
			}
			l.Forget("a")
			if got := l.NumRequeues("a"); got != 0 {
				t.Errorf("NumRequeues after Forget = %d, want 0", got)
			}
			if got := l.When("a"); got != tt.want[0] {
				t.Errorf("When after Forget = %v, want %v", got, tt.want[0])
			}
			if got := l.NumRequeues("b"); got != 1 {
				t.Errorf("Forget(a) changed b: NumRequeues(b) = %d, want 1", got)
			}
		})
	}
}

func TestItemExponentialFailureRateLimiterSaturates(t *testing.T) {
	// 2^n overflows int64 nanoseconds after 63 failures and float64 after
	// 1024; the delay must stay at max throughout, never wrap negative.
	l := workqueue.NewItemExponentialFailureRateLimiter(time.Nanosecond, time.Hour)
	for i, d := range whens(l, "a", 1100) {
		if d <= 0 || d > time.Hour || (i >= 42 && d != time.Hour) {
			t.Fatalf("failure %d: When = %v", i, d)
		}
	}
}

func TestBucketRateLimiter(t *testing.T) {
	type call struct {
		sleep time.Duration // before the call
		want  time.Duration
	}
	burst3 := []call{{0, 0}, {0, 0}, {0, 0}, {0, 100 * ms}, {0, 200 * ms}, {0, 300 * ms}}
	tests := []struct {
		name  string
		qps   float64
		burst int
		calls []call
	}{
		{"burst then one per interval", 10, 3, burst3},
		{"refills to burst, not beyond", 10, 3, slices.Concat(burst3,
			[]call{{time.Hour, 0}, {0, 0}, {0, 0}, {0, 100 * ms}})},
		{"partial refill", 10, 3, slices.Concat(burst3[:3],
			[]call{{150 * ms, 0}, {0, 50 * ms}, {0, 150 * ms}})},
		{"burst 1", 4, 1, []call{{0, 0}, {0, 250 * ms}, {0, 500 * ms}, {time.Second, 0}}},
		{"infinite qps", math.Inf(1), 1, []call{{0, 0}, {0, 0}, {0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := workqueue.NewBucketRateLimiter(tt.qps, tt.burst)
				for i, c := range tt.calls {
					time.Sleep(c.sleep)
					if got := l.When(i); got != c.want {
						t.Fatalf("call %d: When = %v, want %v", i, got, c.want)
					}
				}
				if got := l.NumRequeues(0); got != 0 {
					t.Errorf("NumRequeues = %d, want 0", got)
				}
			})
		})
	}
}

// TestBucketRateLimiterRate checks the sustained rate over many calls, each
// made when the previous one said it could go.
func TestBucketRateLimiterRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const qps, burst, calls = 50, 5, 1000
		l := workqueue.NewBucketRateLimiter(qps, burst)
		start := time.Now()
		for i := range calls {
			time.Sleep(l.When(i))
		}
		elapsed := time.Since(start)
		// The first burst calls are free; the rest arrive at qps.
		if want := time.Second * (calls - burst) / qps; elapsed != want {
			t.Fatalf("%d calls took %v, want %v", calls, elapsed, want)
		}
	})
}

func TestNewBucketRateLimiterRejectsBadArgs(t *testing.T) {
	tests := []struct {
		qps   float64
		burst int
	}{{0, 1}, {-1, 10}, {math.NaN(), 10}, {10, 0}, {10, -1}}
	for _, tt := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewBucketRateLimiter(%v, %d) didn't panic", tt.qps, tt.burst)
				}
			}()
			workqueue.NewBucketRateLimiter(tt.qps, tt.burst)
		}()
	}
}

func TestMaxOfRateLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := workqueue.NewMaxOfRateLimiter(
			workqueue.NewItemExponentialFailureRateLimiter(ms, time.Minute),
			workqueue.NewBucketRateLimiter(1, 2),
		)
		// Exponential wins while the bucket has tokens, then the bucket.
		got := []time.Duration{l.When("a"), l.When("a"), l.When("b")}
		if want := []time.Duration{ms, 2 * ms, time.Second}; !slices.Equal(got, want) {
			t.Fatalf("When = %v, want %v", got, want)
		}
		if n := l.NumRequeues("a"); n != 2 {
			t.Errorf("NumRequeues(a) = %d, want 2", n)
		}
		l.Forget("a")
		if n := l.NumRequeues("a"); n != 0 {
			t.Errorf("NumRequeues(a) after Forget = %d, want 0", n)
		}
		if d := workqueue.NewMaxOfRateLimiter().When("a"); d != 0 {
			t.Errorf("empty MaxOf When = %v, want 0", d)
		}
	})
}

func TestDefaultControllerRateLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := workqueue.DefaultControllerRateLimiter()
		// 100 different keys failing at once: each gets the 5ms base
		// from the burst; the 101st waits for the 10 qps bucket.
		for i := range 100 {
			if d := l.When(i); d != 5*ms {
				t.Fatalf("key %d: When = %v, want 5ms", i, d)
			}
		}
		if d := l.When(100); d != 100*ms {
			t.Fatalf("101st key: When = %v, want 100ms", d)
		}

		// One key failing again and again climbs to the 1000s cap, long
		// after the bucket stops mattering.
		l = workqueue.DefaultControllerRateLimiter()
		got := whens(l, "k", 20)
		if got[0] != 5*ms || got[1] != 10*ms || got[5] != 160*ms {
			t.Errorf("backoff = %v, want 5ms, 10ms, ... 160ms", got[:6])
		}
		if got[19] != 1000*time.Second {
			t.Errorf("backoff after 20 failures = %v, want 1000s", got[19])
		}
		l.Forget("k")
		if d := l.When("k"); d != 5*ms {
			t.Errorf("When after Forget = %v, want 5ms", d)
		}
	})
}
