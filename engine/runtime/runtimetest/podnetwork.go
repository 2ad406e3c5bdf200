package runtimetest

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// testPodNetwork: each pod gets an address of the node's pod CIDR, two pods
// of one node reach each other by address and see each other's real
// address, and a removed pod's address is freed.
func (s *suite) testPodNetwork(t *testing.T) {
	n := s.caps.Network
	if n == nil {
		testreq.Missing(t, "a pod network for this runtime (root)")
	}
	r := s.newRuntime(t)
	a, b := s.pod(t, r), s.pod(t, r)
	for _, sb := range []runtime.Sandbox{a, b} {
		ip, err := netip.ParseAddr(sb.IP)
		if err != nil || !n.PodCIDR.Contains(ip) || ip == n.Gateway {
			t.Fatalf("sandbox IP %q: want a pod address of %s", sb.IP, n.PodCIDR)
		}
		if sb.NetNS == "" {
			t.Errorf("sandbox %s reports no network namespace", sb.ID)
		}
	}
	if a.IP == b.IP {
		t.Fatalf("two pods share the address %s", a.IP)
	}
	sbs, err := r.ListSandboxes(t.Context(), runtime.Filter{PodUID: a.PodUID})
	if err != nil || len(sbs) != 1 || sbs[0].IP != a.IP {
		t.Errorf("ListSandboxes(pod a) = %+v (%v), want its address %s", sbs, err, a.IP)
	}

	srv := Start(t, r, b, s.caps.Container("server", "-listen", ":8080", "-sleep", "1h"))
	WaitForLog(t, r, srv, "listening")
	cli := Start(t, r, a, s.caps.Container("client", "-get", "http://"+net.JoinHostPort(b.IP, "8080")+"/"))
	c := WaitExited(t, r, cli)
	logs := Logs(t, r, cli, runtime.LogOptions{})
	if c.ExitCode != 0 || !strings.Contains(logs, "hello from") || !strings.Contains(logs, "to "+a.IP) {
		t.Errorf("pod a GET pod b by address: exit %d, logs %q; want an answer that saw pod a's own address %s",
			c.ExitCode, logs, a.IP)
	}

	RemovePod(t, r, a)
	if ip, ok := n.IP(a.ID); ok {
		t.Errorf("the removed sandbox still holds %s", ip)
	}
	if _, ok := n.IP(b.ID); !ok {
		t.Errorf("pod b lost its address when pod a was removed")
	}
}
