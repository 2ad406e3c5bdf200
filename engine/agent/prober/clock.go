package prober

import "time"

// clock is the time source of the workers; tests swap in a manual one so
// thresholds and delays run without waiting. Probe timeouts are real time
// (they bound real I/O).
//
// Timers take the instant they fire at, not a duration: a duration computed
// from Now() goes stale if the clock moves before the timer is armed (with
// the manual clock, the test advancing between the two calls).
type clock interface {
	Now() time.Time
	NewTimer(at time.Time) timer
}

type timer interface {
	C() <-chan time.Time
	Reset(at time.Time)
	Stop()
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(at time.Time) timer { return realTimer{time.NewTimer(time.Until(at))} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }

// Reset needs no drain: since Go 1.23 a stopped or reset timer never
// delivers a stale value.
func (t realTimer) Reset(at time.Time) { t.t.Reset(time.Until(at)) }

func (t realTimer) Stop() { t.t.Stop() }
