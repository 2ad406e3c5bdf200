package proxy

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// balancer chooses the endpoints one frontend's connections try.
type balancer struct {
	health *health
	tuning Tuning

	route atomic.Pointer[Route]
	next  atomic.Uint64

	mu       sync.Mutex
	affinity map[netip.Addr]affinityEntry
}

type affinityEntry struct {
	backend  netip.AddrPort
	lastUsed time.Time
}

func newBalancer(h *health, t Tuning, r Route) *balancer {
	b := &balancer{health: h, tuning: t, affinity: map[netip.Addr]affinityEntry{}}
	b.setRoute(r)
	return b
}

// setRoute swaps the backend set; connections already open are untouched.
func (b *balancer) setRoute(r Route) {
	b.route.Store(&r)
	b.mu.Lock()
	defer b.mu.Unlock()
	for client, e := range b.affinity {
		if !r.Affinity || !slices.Contains(r.Backends, e.backend) {
			delete(b.affinity, client)
		}
	}
}

// candidates lists up to Attempts endpoints for a connection from client,
// best first: the client's sticky endpoint when affinity is on, then round
// robin over the endpoints not being skipped; when every endpoint is being
// skipped they are tried anyway rather than failing outright.
func (b *balancer) candidates(client netip.Addr) []netip.AddrPort {
	r := b.route.Load()
	n := len(r.Backends)
	if n == 0 {
		return nil
	}
	out := make([]netip.AddrPort, 0, min(n, b.tuning.Attempts))
	if r.Affinity {
		if ep, ok := b.sticky(client); ok && b.health.usable(ep) {
			out = append(out, ep)
		}
	}
	start := int(b.next.Add(1) - 1)
	var skipped []netip.AddrPort
	for i := 0; i < n && len(out) < b.tuning.Attempts; i++ {
		ep := r.Backends[(start+i)%n]
		switch {
		case slices.Contains(out, ep):
		case b.health.usable(ep):
			out = append(out, ep)
		default:
			skipped = append(skipped, ep)
		}
	}
	if len(out) == 0 {
		out = skipped[:min(len(skipped), b.tuning.Attempts)]
	}
	return out
}

// connected records which endpoint served client (for affinity).
func (b *balancer) connected(client netip.Addr, ep netip.AddrPort) {
	if !b.route.Load().Affinity {
		return
	}
	b.mu.Lock()
	b.affinity[client] = affinityEntry{backend: ep, lastUsed: time.Now()}
	b.mu.Unlock()
}

func (b *balancer) sticky(client netip.Addr) (netip.AddrPort, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.affinity[client]
	if !ok || time.Since(e.lastUsed) > b.tuning.AffinityTimeout {
		delete(b.affinity, client)
		return netip.AddrPort{}, false
	}
	return e.backend, true
}
