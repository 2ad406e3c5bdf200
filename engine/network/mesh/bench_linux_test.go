//go:build linux

package mesh_test

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/netbench"
)

// BenchmarkMeshThroughput compares, on one emulated link between two
// hosts of one site and in the same run, TCP throughput and p50 latency
// host to host, pod address to pod address over host-gw, and over
// userspace WireGuard (the mesh forced to mode wireguard). It reports
// the ratios to host to host (throughput: higher is better, 1 = no cost;
// latency: lower is better).
//
//	go test -run '^$' -bench BenchmarkMeshThroughput -benchtime 1x ./engine/network/mesh
func BenchmarkMeshThroughput(b *testing.B) {
	tb := newTestbed(b)
	site := tb.AddSite("a")
	h1 := addPodHost(b, tb, site, "h1", "10.244.1.0/24")
	h2 := addPodHost(b, tb, site, "h2", "10.244.2.0/24")
	c := newCluster()
	c.change(func(nodes map[string]*api.Node) {
		nodes[h1.NodeName()], nodes[h2.NodeName()] = h1.node(), h2.node()
	})
	r1 := startReconciler(b, b, c, h1, api.PodNetworkHostGW)
	r2 := startReconciler(b, b, c, h2, api.PodNetworkHostGW)

	serve := func(addr netip.Addr) netip.AddrPort {
		l, err := h2.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { l.Close() })
		go netbench.Serve(l)
		return l.Addr().(*net.TCPAddr).AddrPort()
	}
	hostDst, podDst := serve(h2.Addr), serve(h2.pod)
	waitRoute(b, h1, h2.cidr.String()+" via "+h2.Addr.String())

	opts := netbench.Options{Duration: 3 * time.Second, Pings: 2000}
	var host, hostGW, wg netbench.Result
	for b.Loop() {
		ctx := b.Context()
		var err error
		if host, err = netbench.Measure(ctx, dialFrom(h1.Host, netip.Addr{}, hostDst), opts); err != nil {
			b.Fatalf("host to host: %v", err)
		}
		r1.SetMode(api.PodNetworkHostGW)
		r2.SetMode(api.PodNetworkHostGW)
		c.change(func(map[string]*api.Node) {})
		waitRoute(b, h1, h2.cidr.String()+" via "+h2.Addr.String())
		if hostGW, err = netbench.Measure(ctx, dialFrom(h1.Host, h1.pod, podDst), opts); err != nil {
			b.Fatalf("pod to pod over host-gw: %v", err)
		}
		r1.SetMode(api.PodNetworkWireGuard)
		r2.SetMode(api.PodNetworkWireGuard)
		c.change(func(map[string]*api.Node) {})
		waitRoute(b, h1, h2.cidr.String()+" dev maestro-wg")
		waitRoute(b, h2, h1.cidr.String()+" dev maestro-wg")
		if wg, err = netbench.Measure(ctx, dialFrom(h1.Host, h1.pod, podDst), opts); err != nil {
			b.Fatalf("pod to pod over WireGuard: %v", err)
		}
	}
	b.Logf("host to host: %v; host-gw: %v; userspace WireGuard: %v", host, hostGW, wg)
	netbench.ReportModes(b, host, hostGW, host, wg)
}

func waitRoute(b testing.TB, h *podHost, route string) {
	b.Helper()
	eventually(b, h.Name+" has route "+route, 30*time.Second, func() error {
		out := ownedRoutes(b, h.Host)
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, route) {
				return nil
			}
		}
		return fmt.Errorf("routes:\n%s", out)
	})
}
