//go:build linux

package multihost_test

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	dcontainer "github.com/docker/docker/api/types/container"
	dfilters "github.com/docker/docker/api/types/filters"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/netbench"
	"github.com/maestro-dev/maestro/internal/testbed"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// BenchmarkPodNetwork measures one TCP stream's throughput and the p50
// round trip pod to pod across hosts, against host to host over the same
// emulated links in the same run: h1 -> h2 share site a's link (host-gw),
// h1 -> h3 cross the router between sites (the WireGuard mesh; userspace
// wireguard-go inside the agents here, as this kernel has no WireGuard).
// The sockets are opened by the benchmark inside the pods' own network
// namespaces, so the path is exactly a pod's: veth, bridge, routes, mesh.
//
//	go test -run '^$' -bench BenchmarkPodNetwork -benchtime 1x ./internal/multihost/
func BenchmarkPodNetwork(b *testing.B) {
	bd := newBed(b)
	bd.createDeployment(bd.demoDeployment("bench", 3))
	pods := bd.readyPods("bench", 3, 3*time.Minute)
	podNS := func(h *testbed.Host) (*testbed.Namespace, netip.Addr) {
		p := bd.podOn(pods, h)
		return bd.ProcessNamespace(sandboxPid(b, p)), netip.MustParseAddr(p.Status.PodIP)
	}
	ns1, _ := podNS(bd.h1)
	ns2, ip2 := podNS(bd.h2)
	ns3, ip3 := podNS(bd.h3)
	hostTo2 := serveBench(b, &bd.h2.Namespace, bd.h2.Addr)
	hostTo3 := serveBench(b, &bd.h3.Namespace, bd.h3.Addr)
	podTo2 := serveBench(b, ns2, ip2)
	podTo3 := serveBench(b, ns3, ip3)

	opts := netbench.Options{Duration: 3 * time.Second, Pings: 2000}
	var hostGWBase, hostGW, wgBase, wg netbench.Result
	measure := func(what string, from *testbed.Namespace, to netip.AddrPort) netbench.Result {
		r, err := netbench.Measure(b.Context(), func(ctx context.Context) (net.Conn, error) {
			return from.DialContext(ctx, "tcp", to.String())
		}, opts)
		if err != nil {
			b.Fatalf("%s: %v", what, err)
		}
		return r
	}
	for b.Loop() {
		hostGWBase = measure("host h1 to host h2", &bd.h1.Namespace, hostTo2)
		hostGW = measure("pod on h1 to pod on h2 (host-gw)", ns1, podTo2)
		wgBase = measure("host h1 to host h3", &bd.h1.Namespace, hostTo3)
		wg = measure("pod on h1 to pod on h3 (WireGuard)", ns1, podTo3)
	}
	b.Logf("same link: host to host %v; pod to pod over host-gw %v", hostGWBase, hostGW)
	b.Logf("between sites: host to host %v; pod to pod over WireGuard %v", wgBase, wg)
	netbench.ReportModes(b, hostGWBase, hostGW, wgBase, wg)
}

// serveBench runs a netbench server inside ns on addr.
func serveBench(b *testing.B, ns *testbed.Namespace, addr netip.Addr) netip.AddrPort {
	l, err := ns.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		b.Fatalf("listening on %s in %s: %v", addr, ns.Name(), err)
	}
	b.Cleanup(func() { l.Close() })
	go netbench.Serve(l)
	return l.Addr().(*net.TCPAddr).AddrPort()
}

// sandboxPid is the pid of pod p's infra container, whose network
// namespace is the pod's.
func sandboxPid(b *testing.B, p *api.Pod) int {
	d := testenv.RequireDocker(b)
	list, err := d.ContainerList(b.Context(), dcontainer.ListOptions{Filters: dfilters.NewArgs(
		dfilters.Arg("label", runtime.LabelPodUID+"="+p.UID), dfilters.Arg("label", runtime.LabelRole+"="+runtime.RoleSandbox))})
	if err != nil || len(list) != 1 {
		b.Fatalf("the sandbox of pod %s: %d containers, %v", p.Name, len(list), err)
	}
	info, err := d.ContainerInspect(b.Context(), list[0].ID)
	if err != nil || info.State == nil || info.State.Pid == 0 {
		b.Fatalf("inspecting the sandbox of pod %s: %v", p.Name, err)
	}
	return info.State.Pid
}
