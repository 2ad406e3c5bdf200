package allocator

import (
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
)

// TestCreate covers what a create of a service gets or is refused: each
// case runs on a fresh store holding one service "taken" with 10.0.0.5
// and node port 30005.
func TestCreate(t *testing.T) {
	cases := []struct {
		name string
		svc  *api.Service
		// check inspects a successful create; field and msg name the
		// expected 422 cause instead.
		check      func(t *testing.T, sv *server, got *api.Service)
		field, msg string
	}{
		{name: "cluster IP allocated", svc: svc("web"), check: func(t *testing.T, sv *server, got *api.Service) {
			ip := netip.MustParseAddr(got.Spec.ClusterIP)
			off, ok := sv.alloc.ips.parse(ip.String())
			if !ok || sv.alloc.ips.reserved(off) || sv.alloc.ips.unusable(off) || ip.String() == "10.0.0.5" {
				t.Errorf("allocated %s: outside the range, reserved or taken", ip)
			}
		}},
		{name: "requested cluster IP", svc: svc("web", clusterIP("10.0.0.7")), check: func(t *testing.T, sv *server, got *api.Service) {
			if got.Spec.ClusterIP != "10.0.0.7" {
				t.Errorf("clusterIP %s, want the requested 10.0.0.7", got.Spec.ClusterIP)
			}
		}},
		{name: "the DNS address may be requested", svc: svc("dns", clusterIP("10.0.0.10")), check: func(t *testing.T, sv *server, got *api.Service) {
			if got.Spec.ClusterIP != "10.0.0.10" {
				t.Errorf("clusterIP %s", got.Spec.ClusterIP)
			}
		}},
		{name: "headless", svc: svc("db", clusterIP("None")), check: func(t *testing.T, sv *server, got *api.Service) {
			if got.Spec.ClusterIP != "None" {
				t.Errorf("clusterIP %s, want None", got.Spec.ClusterIP)
			}
			if n := len(claims(t, sv.alloc.store, ServiceIPsPrefix)); n != 1 {
				t.Errorf("%d IP claims, want only the one of service taken", n)
			}
		}},
		{name: "cluster IP outside the range", svc: svc("web", clusterIP("10.1.0.7")),
			field: "spec.clusterIP", msg: "must be in the service IP range 10.0.0.0/28"},
		{name: "cluster IP of another family", svc: svc("web", clusterIP("fd00::7")),
			field: "spec.clusterIP", msg: "must be in the service IP range"},
		{name: "network address", svc: svc("web", clusterIP("10.0.0.0")),
			field: "spec.clusterIP", msg: "network or broadcast address"},
		{name: "broadcast address", svc: svc("web", clusterIP("10.0.0.15")),
			field: "spec.clusterIP", msg: "network or broadcast address"},
		{name: "cluster IP taken", svc: svc("web", clusterIP("10.0.0.5")),
			field: "spec.clusterIP", msg: "already allocated to another service"},
		{name: "node ports allocated", svc: svc("web", nodePorts(0, 0)), check: func(t *testing.T, sv *server, got *api.Service) {
			a, b := got.Spec.Ports[0].NodePort, got.Spec.Ports[1].NodePort
			if a == b || !sv.alloc.portRng.Contains(a) || !sv.alloc.portRng.Contains(b) || a == 30005 || b == 30005 {
				t.Errorf("node ports %d, %d: want two distinct free ones in range", a, b)
			}
		}},
		{name: "requested node port", svc: svc("web", nodePorts(30007, 0)), check: func(t *testing.T, sv *server, got *api.Service) {
			if got.Spec.Ports[0].NodePort != 30007 || got.Spec.Ports[1].NodePort == 30007 {
				t.Errorf("ports %+v", got.Spec.Ports)
			}
		}},
		{name: "load balancers get node ports", svc: svc("lb", func(s *api.Service) { s.Spec.Type = api.ServiceTypeLoadBalancer }),
			check: func(t *testing.T, sv *server, got *api.Service) {
				if got.Spec.Ports[0].NodePort == 0 {
					t.Error("no node port")
				}
			}},
		{name: "one node port for TCP and UDP", svc: svc("dns", func(s *api.Service) {
			s.Spec.Type = api.ServiceTypeNodePort
			s.Spec.Ports = []api.ServicePort{{Name: "tcp", Port: 53, NodePort: 30003}, {Name: "udp", Port: 53, Protocol: api.ProtocolUDP, NodePort: 30003}}
		}), check: func(t *testing.T, sv *server, got *api.Service) {
			if c := claims(t, sv.alloc.store, NodePortsPrefix); c["30003"] != "default/dns" {
				t.Errorf("claims %v", c)
			}
		}},
		{name: "node port outside the range", svc: svc("web", nodePorts(0, 8080)),
			field: "spec.ports[1].nodePort", msg: "must be in the node port range 30000-30009"},
		{name: "node port taken", svc: svc("web", nodePorts(30005)),
			field: "spec.ports[0].nodePort", msg: "already allocated to another service"},
		{name: "node port twice for one protocol", svc: svc("web", nodePorts(30006, 30006)),
			field: "spec.ports[1].nodePort", msg: "duplicate value 30006"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			sv := newServer(t, st, withCIDR("10.0.0.0/28"), withPorts(30000, 30009))
			sv.mustCreate(t, svc("taken", clusterIP("10.0.0.5"), nodePorts(30005)))
			ipsBefore, portsBefore := claims(t, st, ServiceIPsPrefix), claims(t, st, NodePortsPrefix)
			got, err := sv.create(t, tc.svc)
			if tc.field != "" {
				wantFieldError(t, err, tc.field, tc.msg)
				// A refused create leaves no claim behind.
				if ips, ports := claims(t, st, ServiceIPsPrefix), claims(t, st, NodePortsPrefix); len(ips) != len(ipsBefore) || len(ports) != len(portsBefore) {
					t.Errorf("claims after a refused create: %v %v, before %v %v", ips, ports, ipsBefore, portsBefore)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, sv, got)
			// Everything the service holds is claimed in its name.
			ips, ports := claims(t, st, ServiceIPsPrefix), claims(t, st, NodePortsPrefix)
			if ip := got.Spec.ClusterIP; ip != "None" && ips[ip] != "default/"+got.Name {
				t.Errorf("cluster IP %s claimed by %q", ip, ips[ip])
			}
			for _, p := range got.Spec.Ports {
				if p.NodePort != 0 && ports[portString(p.NodePort)] != "default/"+got.Name {
					t.Errorf("node port %d claimed by %q", p.NodePort, ports[portString(p.NodePort)])
				}
			}
		})
	}
}

// TestConcurrentAllocationsAreUnique: two API servers on one store, eight
// writers filling a /28 and a ten-port range at once: every allocatable
// value is handed out exactly once, then creates fail saying the range
// is full.
func TestConcurrentAllocationsAreUnique(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	servers := []*server{
		newServer(t, st, withCIDR("10.0.0.0/28"), withPorts(31000, 31009)),
		newServer(t, st, withCIDR("10.0.0.0/28"), withPorts(31000, 31009)),
	}
	const writers, perWriter = 8, 4 // 32 attempts for 12 addresses
	var (
		mu    sync.Mutex
		ips   = map[string]string{}
		ports = map[int32]string{}
		fulls int
		wg    sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			sv := servers[w%2]
			for i := range perWriter {
				name := "svc-" + string(rune('a'+w)) + string(rune('a'+i))
				got, err := sv.create(t, svc(name, nodePorts(0)))
				mu.Lock()
				switch {
				case err == nil:
					if prev, dup := ips[got.Spec.ClusterIP]; dup {
						t.Errorf("%s handed to %s and %s", got.Spec.ClusterIP, prev, name)
					}
					ips[got.Spec.ClusterIP] = name
					if prev, dup := ports[got.Spec.Ports[0].NodePort]; dup {
						t.Errorf("node port %d handed to %s and %s", got.Spec.Ports[0].NodePort, prev, name)
					}
					ports[got.Spec.Ports[0].NodePort] = name
				case api.IsInvalid(err) && strings.Contains(err.Error(), "is full"):
					fulls++
				default:
					t.Errorf("create %s: %v", name, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// Ten node ports run out before twelve addresses.
	if len(ports) != 10 || fulls != writers*perWriter-10 {
		t.Errorf("%d services created, %d refused as full; want 10 and %d", len(ports), fulls, writers*perWriter-10)
	}
	for ip := range ips {
		if ip == "10.0.0.1" || ip == "10.0.0.10" {
			t.Errorf("reserved address %s handed out", ip)
		}
	}
	// Claims match the services exactly: no leftovers of refused creates.
	if c := claims(t, st, ServiceIPsPrefix); len(c) != len(ips) {
		t.Errorf("%d IP claims for %d services", len(c), len(ips))
	}

	// Now the addresses run out first.
	for i := range 2 {
		servers[0].mustCreate(t, svc("extra-"+string(rune('a'+i))))
	}
	_, err := servers[1].create(t, svc("one-too-many"))
	wantFieldError(t, err, "spec.clusterIP", "no free cluster IP: the service IP range 10.0.0.0/28 is full (12 allocatable, all allocated)")
	_, err = servers[1].create(t, svc("headless", clusterIP("None")))
	if err != nil {
		t.Errorf("a headless service needs no address: %v", err)
	}
}

// TestReleaseOnDelete: deleting a service frees its values at once.
func TestReleaseOnDelete(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	sv := newServer(t, st, withCIDR("10.0.0.0/28"), withPorts(30000, 30000))
	first := sv.mustCreate(t, svc("first", nodePorts(0)))
	if _, err := sv.create(t, svc("second", nodePorts(0))); err == nil || !strings.Contains(err.Error(), "node port range 30000-30000 is full") {
		t.Fatalf("second node port: %v, want the range to be full", err)
	}
	if _, _, err := sv.reg.Delete(t.Context(), serviceKind, "default", "first", registry.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if c := claims(t, st, ServiceIPsPrefix); len(c) != 0 {
		t.Errorf("IP claims after delete: %v", c)
	}
	again := sv.mustCreate(t, svc("again", nodePorts(0), clusterIP(first.Spec.ClusterIP)))
	if again.Spec.Ports[0].NodePort != 30000 {
		t.Errorf("node port %d, want the freed 30000", again.Spec.Ports[0].NodePort)
	}

	// A claim that changed hands is not the deleted service's to free.
	sv.alloc.Released(t.Context(), first)
	if c := claims(t, st, NodePortsPrefix); c["30000"] != "default/again" {
		t.Errorf("releasing a stale copy freed another service's claim: %v", c)
	}
}

// TestDryRunClaimsNothing: dry runs check requested values and allocate
// nothing.
func TestDryRunClaimsNothing(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	sv := newServer(t, st, withCIDR("10.0.0.0/28"), withPorts(30000, 30009))
	sv.mustCreate(t, svc("taken", clusterIP("10.0.0.5"), nodePorts(30005)))
	dry := registry.WriteOptions{DryRun: true}

	out, err := sv.reg.Create(t.Context(), svc("web", nodePorts(0, 30006)), dry)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*api.Service)
	if got.Spec.ClusterIP != "" || got.Spec.Ports[0].NodePort != 0 || got.Spec.Ports[1].NodePort != 30006 {
		t.Errorf("dry run answered %q %+v; want nothing allocated, the requested port kept", got.Spec.ClusterIP, got.Spec.Ports)
	}
	_, err = sv.reg.Create(t.Context(), svc("web", clusterIP("10.0.0.5")), dry)
	wantFieldError(t, err, "spec.clusterIP", "already allocated")
	_, err = sv.reg.Create(t.Context(), svc("web", nodePorts(30005)), dry)
	wantFieldError(t, err, "spec.ports[0].nodePort", "already allocated")
	_, err = sv.reg.Create(t.Context(), svc("web", clusterIP("192.168.0.1")), dry)
	wantFieldError(t, err, "spec.clusterIP", "must be in")

	// A dry-run update adding node ports claims nothing either.
	stored := sv.mustCreate(t, svc("plain"))
	up := deepCopy(t, stored)
	up.Spec.Type = api.ServiceTypeNodePort
	if _, err := sv.reg.Update(t.Context(), up, dry); err != nil {
		t.Fatal(err)
	}
	if c := claims(t, st, NodePortsPrefix); len(c) != 1 {
		t.Errorf("node port claims after dry runs: %v, want only the one of taken", c)
	}
	if c := claims(t, st, ServiceIPsPrefix); len(c) != 2 {
		t.Errorf("IP claims after dry runs: %v, want those of taken and plain", c)
	}
}

// TestUpdate: values a client omits are kept, new ports and type changes
// get node ports, allocated values cannot change.
func TestUpdate(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	sv := newServer(t, st, withCIDR("10.0.0.0/28"), withPorts(30000, 30009))
	sv.mustCreate(t, svc("other", nodePorts(30001)))
	stored := sv.mustCreate(t, svc("web", nodePorts(0)))
	ip, np := stored.Spec.ClusterIP, stored.Spec.Ports[0].NodePort
	update := func(mut func(*api.Service)) (*api.Service, error) {
		t.Helper()
		cur, err := sv.reg.Get(t.Context(), serviceKind, "default", "web")
		if err != nil {
			t.Fatal(err)
		}
		s := deepCopy(t, cur.(*api.Service))
		mut(s)
		out, err := sv.reg.Update(t.Context(), s, registry.WriteOptions{})
		if err != nil {
			return nil, err
		}
		return out.(*api.Service), nil
	}

	// A manifest re-sent without the allocated values keeps them and
	// writes nothing new.
	got, err := update(func(s *api.Service) {
		s.Spec.ClusterIP = ""
		s.Spec.Ports[0].NodePort = 0
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.ClusterIP != ip || got.Spec.Ports[0].NodePort != np || got.ResourceVersion != stored.ResourceVersion {
		t.Errorf("omitting values: %s %d rv %d; want %s %d unchanged rv %d", got.Spec.ClusterIP, got.Spec.Ports[0].NodePort, got.ResourceVersion, ip, np, stored.ResourceVersion)
	}

	// A new port gets a node port; the old one stays.
	got, err = update(func(s *api.Service) {
		s.Spec.Ports = append(s.Spec.Ports, api.ServicePort{Name: "p1", Port: 443})
	})
	if err != nil {
		t.Fatal(err)
	}
	added := got.Spec.Ports[1].NodePort
	if got.Spec.Ports[0].NodePort != np || added == 0 || added == np || added == 30001 {
		t.Errorf("ports after adding one: %+v", got.Spec.Ports)
	}

	// Another service's node port cannot be taken over.
	_, err = update(func(s *api.Service) { s.Spec.Ports[1].NodePort = 30001 })
	wantFieldError(t, err, "spec.ports[1].nodePort", "already allocated")

	// The cluster IP is immutable (the allocation is random: pick another).
	other := "10.0.0.9"
	if ip == other {
		other = "10.0.0.8"
	}
	_, err = update(func(s *api.Service) { s.Spec.ClusterIP = other })
	wantFieldError(t, err, "spec.clusterIP", "immutable")

	// ClusterIP drops the node ports (repair frees them); back to NodePort
	// allocates new ones.
	got, err = update(func(s *api.Service) {
		s.Spec.Type = api.ServiceTypeClusterIP
		for i := range s.Spec.Ports {
			s.Spec.Ports[i].NodePort = 0
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.Ports[0].NodePort != 0 || got.Spec.ClusterIP != ip {
		t.Errorf("as ClusterIP: %s %+v", got.Spec.ClusterIP, got.Spec.Ports)
	}
	got, err = update(func(s *api.Service) { s.Spec.Type = api.ServiceTypeNodePort })
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got.Spec.Ports {
		if !sv.alloc.portRng.Contains(p.NodePort) {
			t.Errorf("back to NodePort: %+v", got.Spec.Ports)
		}
	}

	// A status write passes the allocator untouched.
	cur := deepCopy(t, got)
	cur.Status.LoadBalancer.Ingress = []api.LoadBalancerIngress{{IP: "192.0.2.1"}}
	if _, err := sv.reg.Update(t.Context(), cur, registry.WriteOptions{Subresource: "status"}); err != nil {
		t.Fatal(err)
	}
}

// TestIPv6: an IPv6 range allocates IPv6 addresses, and a requested one is
// stored and claimed in canonical form.
func TestIPv6(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	sv := newServer(t, st, withCIDR("fd00:10:96::/112"))
	got := sv.mustCreate(t, svc("web"))
	if ip := netip.MustParseAddr(got.Spec.ClusterIP); !ip.Is6() || !netip.MustParsePrefix("fd00:10:96::/112").Contains(ip) {
		t.Errorf("allocated %s", ip)
	}
	got = sv.mustCreate(t, svc("named", clusterIP("FD00:10:96::AB")))
	if got.Spec.ClusterIP != "fd00:10:96::ab" {
		t.Errorf("stored %s, want the canonical fd00:10:96::ab", got.Spec.ClusterIP)
	}
	if c := claims(t, st, ServiceIPsPrefix); c["fd00:10:96::ab"] != "default/named" {
		t.Errorf("claims %v", c)
	}
	_, err := sv.create(t, svc("again", clusterIP("fd00:10:96:0::ab")))
	wantFieldError(t, err, "spec.clusterIP", "already allocated")
}
