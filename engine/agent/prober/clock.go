package prober

import "time"

// clock is the time source of the workers; tests swap in a manual one so
// thresholds and delays run without waiting. Probe timeouts are real time
// (they bound real I/O).
type clock interface {
	Now() time.Time
	NewTimer(d time.Duration) timer
}

type timer interface {
	C() <-chan time.Time
	Reset(d time.Duration)
	Stop()
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }

// Reset needs no drain: since Go 1.23 a stopped or reset timer never
// delivers a stale value.
func (t realTimer) Reset(d time.Duration) { t.t.Reset(d) }

func (t realTimer) Stop() { t.t.Stop() }
