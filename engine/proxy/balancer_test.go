package proxy

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestBalancerRoundRobinSkipsFailingEndpoints(t *testing.T) {
	ap := netip.MustParseAddrPort
	a, b, c := ap("10.0.0.1:80"), ap("10.0.0.2:80"), ap("10.0.0.3:80")
	tun := Tuning{FailuresToSkip: 2, SkipBackoff: time.Second}.withDefaults()
	h := newHealth(tun)
	now := time.Unix(1000, 0)
	h.now = func() time.Time { return now }
	bal := newBalancer(h, tun, Route{Backends: []netip.AddrPort{a, b, c}})
	client := netip.MustParseAddr("172.17.0.9")

	var firsts []netip.AddrPort
	for range 6 {
		firsts = append(firsts, bal.candidates(client)[0])
	}
	if want := []netip.AddrPort{a, b, c, a, b, c}; !slices.Equal(firsts, want) {
		t.Fatalf("round robin: %v, want %v", firsts, want)
	}
	if got := bal.candidates(client); len(got) != 3 || got[0] != a {
		t.Fatalf("candidates %v: want all three, a first", got)
	}

	h.failed(b)
	if !h.usable(b) {
		t.Fatal("one failure must not skip an endpoint")
	}
	h.failed(b)
	for range 3 {
		if got := bal.candidates(client); slices.Contains(got, b) {
			t.Fatalf("candidates %v include b while it is skipped", got)
		}
	}
	now = now.Add(1100 * time.Millisecond)
	if !h.usable(b) {
		t.Fatal("b still skipped after its backoff")
	}
	h.failed(b) // still failing: skipped again, for longer
	now = now.Add(1100 * time.Millisecond)
	if h.usable(b) {
		t.Fatal("backoff did not double for an endpoint that keeps failing")
	}
	h.succeeded(b)
	if !h.usable(b) {
		t.Fatal("a success must clear the skip")
	}

	// Every endpoint skipped: try them anyway rather than fail.
	for _, ep := range []netip.AddrPort{a, b, c} {
		h.failed(ep)
		h.failed(ep)
	}
	if got := bal.candidates(client); len(got) != 3 {
		t.Fatalf("all skipped: candidates %v, want all three", got)
	}
}

func TestBalancerClientIPAffinity(t *testing.T) {
	ap := netip.MustParseAddrPort
	a, b := ap("10.0.0.1:80"), ap("10.0.0.2:80")
	tun := Tuning{}.withDefaults()
	bal := newBalancer(newHealth(tun), tun, Route{Backends: []netip.AddrPort{a, b}, Affinity: true})
	c1, c2 := netip.MustParseAddr("172.17.0.8"), netip.MustParseAddr("172.17.0.9")
	first := bal.candidates(c1)[0]
	bal.connected(c1, first)
	for range 5 {
		if got := bal.candidates(c1)[0]; got != first {
			t.Fatalf("client 1 moved from %s to %s", first, got)
		}
	}
	other := bal.candidates(c2)[0]
	bal.connected(c2, other)
	// The sticky endpoint leaving the route frees the client.
	remaining := a
	if first == a {
		remaining = b
	}
	bal.setRoute(Route{Backends: []netip.AddrPort{remaining}, Affinity: true})
	if got := bal.candidates(c1); len(got) != 1 || got[0] != remaining {
		t.Fatalf("after its endpoint left, client 1 got %v, want [%s]", got, remaining)
	}
}
