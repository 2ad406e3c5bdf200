package prober

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a manual clock: timers fire only when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*fakeTimer]bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), timers: map[*fakeTimer]bool{}}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(at time.Time) timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	t.Reset(at)
	return t
}

// Advance moves time on and fires the timers that fall due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for t := range c.timers {
		if !t.at.After(c.now) {
			c.fireLocked(t)
		}
	}
}

// Armed is the number of timers waiting to fire.
func (c *fakeClock) Armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitArmed waits until n timers wait to fire.
func (c *fakeClock) WaitArmed(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.Armed() != n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d armed timers (have %d)", n, c.Armed())
		}
		time.Sleep(time.Millisecond)
	}
}

func (c *fakeClock) fireLocked(t *fakeTimer) {
	delete(c.timers, t)
	select {
	case t.ch <- c.now:
	default:
	}
}

type fakeTimer struct {
	c  *fakeClock
	ch chan time.Time
	at time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Reset(at time.Time) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.at = at
	if !at.After(t.c.now) {
		t.c.fireLocked(t)
		return
	}
	t.c.timers[t] = true
}

func (t *fakeTimer) Stop() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	delete(t.c.timers, t)
}
