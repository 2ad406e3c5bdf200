package proxy

import (
	"net/netip"
	"sync"
	"time"
)

// health remembers endpoints that refuse connections, across every
// frontend of the host: after FailuresToSkip failures in a row an endpoint
// is skipped for a backoff that doubles while it keeps failing; one
// success clears it.
type health struct {
	tuning Tuning
	now    func() time.Time

	mu sync.Mutex
	m  map[netip.AddrPort]*endpointHealth
}

type endpointHealth struct {
	failures  int
	backoff   time.Duration
	skipUntil time.Time
}

func newHealth(t Tuning) *health {
	return &health{tuning: t, now: time.Now, m: map[netip.AddrPort]*endpointHealth{}}
}

// usable reports whether an endpoint is not being skipped.
func (h *health) usable(ep netip.AddrPort) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.m[ep]
	return s == nil || !h.now().Before(s.skipUntil)
}

func (h *health) failed(ep netip.AddrPort) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.m[ep]
	if s == nil {
		s = &endpointHealth{}
		h.m[ep] = s
	}
	s.failures++
	if s.failures < h.tuning.FailuresToSkip {
		return
	}
	switch {
	case s.backoff == 0:
		s.backoff = h.tuning.SkipBackoff
	case s.backoff < h.tuning.MaxSkipBackoff:
		s.backoff = min(2*s.backoff, h.tuning.MaxSkipBackoff)
	}
	s.skipUntil = h.now().Add(s.backoff)
}

func (h *health) succeeded(ep netip.AddrPort) {
	h.mu.Lock()
	if h.m[ep] != nil {
		delete(h.m, ep)
	}
	h.mu.Unlock()
}

// forget drops endpoints that no frontend uses any more.
func (h *health) forget(keep map[netip.AddrPort]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ep := range h.m {
		if !keep[ep] {
			delete(h.m, ep)
		}
	}
}
