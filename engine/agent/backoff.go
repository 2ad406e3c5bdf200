package agent

import (
	"sync"
	"time"
)

// backoff tracks exponential delays per key (a container of a pod): after
// each failure the next attempt waits twice as long, up to max; a key left
// alone for twice max starts over, as Kubernetes' kubelet does.
type backoff struct {
	base, max time.Duration
	mu        sync.Mutex
	entries   map[string]*backoffEntry
}

type backoffEntry struct {
	delay time.Duration
	last  time.Time // when the delay was last applied
}

func newBackoff(base, max time.Duration) *backoff {
	return &backoff{base: base, max: max, entries: map[string]*backoffEntry{}}
}

// until returns when key may be tried again (zero: now).
func (b *backoff) until(key string) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	if e == nil {
		return time.Time{}
	}
	return e.last.Add(e.delay)
}

// next records a failure at now: the first failure is retried at once,
// later ones wait base, 2*base, ... up to max.
func (b *backoff) next(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	switch {
	case e == nil || now.Sub(e.last) > 2*b.max:
		e = &backoffEntry{}
		b.entries[key] = e
	case e.delay == 0:
		e.delay = b.base
	default:
		e.delay = min(e.delay*2, b.max)
	}
	e.last = now
	return e.delay
}

// inBackoff reports whether key must still wait at now.
func (b *backoff) inBackoff(key string, now time.Time) bool {
	return now.Before(b.until(key))
}

// forget drops a key's history.
func (b *backoff) forget(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.entries {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			delete(b.entries, k)
		}
	}
}
