//go:build linux

package mesh_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/network/mesh"
)

// TestMeshAcrossSites runs the agent's mesh reconciler on three emulated
// hosts in two sites (h1, h2 in site a; h3 in site b) in mode auto:
// host-gw inside site a, userspace WireGuard across sites. It checks pod
// traffic (TCP, UDP, source addresses) in both modes, that nothing crosses
// between sites in plain text (and that the capture does see plain text
// when the mesh is in host-gw mode and the router routes the pod CIDRs),
// the NetworkUnavailable condition while WireGuard's port is taken, stale
// route removal on restart, and that a deleted Node's route and peer go.
func TestMeshAcrossSites(t *testing.T) {
	tb := newTestbed(t)
	a, b := tb.AddSite("a"), tb.AddSite("b")
	h1 := addPodHost(t, tb, a, "h1", "10.244.1.0/24")
	h2 := addPodHost(t, tb, a, "h2", "10.244.2.0/24")
	h3 := addPodHost(t, tb, b, "h3", "10.244.3.0/24")
	hosts := []*podHost{h1, h2, h3}
	c := newCluster()
	c.change(func(nodes map[string]*api.Node) {
		for _, h := range hosts {
			nodes[h.NodeName()] = h.node()
		}
	})

	// Forwarding off (new namespaces may inherit it on): the mesh turns it on.
	for _, h := range hosts {
		if _, err := h.Exec(t.Context(), "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward"); err != nil {
			t.Fatal(err)
		}
	}

	// WireGuard's port is taken on h3: its node reports NetworkUnavailable
	// until the port is free.
	blocker, err := h3.ListenPacket("udp4", fmt.Sprintf(":%d", mesh.DefaultPort))
	if err != nil {
		t.Fatal(err)
	}
	recs := map[string]*runningReconciler{}
	for _, h := range hosts {
		recs[h.Name] = startReconciler(t, t, c, h, api.PodNetworkAuto)
	}
	eventually(t, "h3 reports its WireGuard port taken", 20*time.Second, func() error {
		cond := c.condition(h3.NodeName())
		if cond == nil || cond.Status != api.ConditionTrue || cond.Reason != mesh.ReasonWireGuardUnavailable {
			return fmt.Errorf("condition %+v", cond)
		}
		if !strings.Contains(cond.Message, "51820") {
			return fmt.Errorf("message %q does not name the port", cond.Message)
		}
		return nil
	})
	blocker.Close()
	for _, h := range hosts {
		eventually(t, h.Name+" reports its mesh ready", 20*time.Second, func() error {
			if cond := c.condition(h.NodeName()); cond == nil || cond.Status != api.ConditionFalse || cond.Reason != mesh.ReasonMeshReady {
				return fmt.Errorf("condition %+v", cond)
			}
			return nil
		})
	}

	// Routes: host-gw to the same site, the WireGuard interface across.
	wantRoutes := map[*podHost][]string{
		h1: {"10.244.2.0/24 via " + h2.Addr.String(), "10.244.3.0/24 dev maestro-wg"},
		h2: {"10.244.1.0/24 via " + h1.Addr.String(), "10.244.3.0/24 dev maestro-wg"},
		h3: {"10.244.1.0/24 dev maestro-wg", "10.244.2.0/24 dev maestro-wg"},
	}
	for h, want := range wantRoutes {
		eventually(t, h.Name+"'s routes", 20*time.Second, func() error { return hasRoutes(ownedRoutes(t, h.Host), want) })
	}

	// Forwarding is on: real pods sit behind the bridge.
	for _, h := range hosts {
		if out, err := h.Exec(t.Context(), "cat", "/proc/sys/net/ipv4/ip_forward"); err != nil || strings.TrimSpace(out) != "1" {
			t.Errorf("%s: ip_forward %q, %v; want 1", h.Name, out, err)
		}
	}

	// Pod to pod, every pair, both ways, TCP and UDP, sources preserved.
	for _, from := range hosts {
		for _, to := range hosts {
			if from != to {
				checkPodTraffic(t, from, to)
			}
		}
	}

	// Between sites, a known payload never crosses in plain text.
	payload := "mesh-secret-payload-" + tb.Run()
	tcp, _ := serveWhoAmI(t, h3.Host, h3.pod)
	capture, err := tb.Capture(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := askTCP(t.Context(), h1.Host, h1.pod, tcp, payload); err != nil || !strings.Contains(got, payload) {
		t.Fatalf("payload h1 -> h3: %q, %v", got, err)
	}
	capture.AssertNotSeen(t, []byte(payload))

	whole := t
	t.Run("restart removes stale routes and keeps the key", func(t *testing.T) {
		key := recs["h1"].PublicKey()
		recs["h1"].stop()
		// A route left by an earlier run (its node is long gone), a
		// route someone else owns, and one of maestro's protocol outside
		// this cluster's pod range (another cluster's agent on this host).
		proto := fmt.Sprint(int(mesh.RouteProtocol))
		for _, argv := range [][]string{
			{"ip", "route", "add", "10.244.99.0/24", "via", h2.Addr.String(), "proto", proto},
			{"ip", "route", "add", "10.244.98.0/24", "via", h2.Addr.String(), "proto", "static"},
			{"ip", "route", "add", "10.245.7.0/24", "via", h2.Addr.String(), "proto", proto},
		} {
			if _, err := h1.Exec(t.Context(), argv...); err != nil {
				t.Fatal(err)
			}
		}
		recs["h1"] = startReconciler(t, whole, c, h1, api.PodNetworkAuto)
		if recs["h1"].PublicKey() != key {
			t.Fatal("the node's public key changed across a restart")
		}
		eventually(t, "stale route removed", 20*time.Second, func() error {
			owned := ownedRoutes(t, h1.Host)
			if strings.Contains(owned, "10.244.99.0/24") {
				return fmt.Errorf("stale route still there:\n%s", owned)
			}
			return hasRoutes(owned, append([]string{"10.245.7.0/24"}, wantRoutes[h1]...))
		})
		all, _ := h1.Exec(t.Context(), "ip", "route")
		if !strings.Contains(all, "10.244.98.0/24") {
			t.Errorf("the reconciler removed a route it does not own:\n%s", all)
		}
		if _, err := h1.Exec(t.Context(), "ip", "route", "del", "10.245.7.0/24"); err != nil {
			t.Errorf("another cluster's route (outside the pod range) is gone: %v", err)
		}
		checkPodTraffic(t, h1, h3)
	})
	if t.Failed() {
		return
	}

	t.Run("a deleted WireGuard interface comes back", func(t *testing.T) {
		if _, err := h3.Exec(t.Context(), "ip", "link", "del", "maestro-wg"); err != nil {
			t.Fatal(err)
		}
		c.change(func(map[string]*api.Node) {}) // a Node event, or the resync, notices
		eventually(t, "h3's routes back", 20*time.Second, func() error { return hasRoutes(ownedRoutes(t, h3.Host), wantRoutes[h3]) })
		checkPodTraffic(t, h3, h1)
	})
	if t.Failed() {
		return
	}

	t.Run("host-gw mode routes no site it is not on, so plain text crosses", func(t *testing.T) {
		for _, r := range recs {
			r.SetMode(api.PodNetworkHostGW)
		}
		c.change(func(map[string]*api.Node) {})
		eventually(t, "h1 without a route to h3 in host-gw mode", 20*time.Second, func() error {
			owned := ownedRoutes(t, h1.Host)
			if strings.Contains(owned, "10.244.3.0/24") {
				return fmt.Errorf("routes:\n%s", owned)
			}
			if peers, err := recs["h1"].Peers(); err != nil || len(peers) > 0 {
				return fmt.Errorf("WireGuard peers %v, %v", peers, err)
			}
			return nil
		})
		// host-gw cannot cross sites by itself: an operator's routes on
		// the router carry the pod CIDRs (each host's default route is the
		// router). Then the payload crosses, and the capture sees it.
		for _, h := range []*podHost{h1, h3} {
			if _, err := tb.Router().Exec(t.Context(), "ip", "route", "add", h.cidr.String(), "via", h.Addr.String()); err != nil {
				t.Fatal(err)
			}
		}
		capture, err := tb.Capture(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := askTCP(t.Context(), h1.Host, h1.pod, tcp, payload); err != nil || !strings.Contains(got, payload) {
			t.Fatalf("payload h1 -> h3 through the router: %q, %v", got, err)
		}
		capture.Stop()
		if len(capture.Containing([]byte(payload))) == 0 {
			t.Fatal("in host-gw mode the payload crossed the router, but the capture did not see it: the WireGuard check above proves nothing")
		}
		for _, h := range []*podHost{h1, h3} {
			if _, err := tb.Router().Exec(t.Context(), "ip", "route", "del", h.cidr.String()); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range recs {
			r.SetMode(api.PodNetworkAuto)
		}
		c.change(func(map[string]*api.Node) {})
		eventually(t, "h1's routes back in auto mode", 20*time.Second, func() error { return hasRoutes(ownedRoutes(t, h1.Host), wantRoutes[h1]) })
		checkPodTraffic(t, h1, h3)
	})

	t.Run("a deleted Node's route and peer go", func(t *testing.T) {
		recs["h3"].stop()
		c.change(func(nodes map[string]*api.Node) { delete(nodes, h3.NodeName()) })
		for _, h := range []*podHost{h1, h2} {
			eventually(t, h.Name+" drops h3", 20*time.Second, func() error {
				owned := ownedRoutes(t, h.Host)
				if strings.Contains(owned, h3.cidr.String()) {
					return fmt.Errorf("routes:\n%s", owned)
				}
				if peers, err := recs[h.Name].Peers(); err != nil || len(peers) > 0 {
					return fmt.Errorf("WireGuard peers %v, %v", peers, err)
				}
				return nil
			})
		}
		if _, err := askTCP(t.Context(), h1.Host, h1.pod, tcp, "after deletion"); err == nil {
			t.Error("h1 still reaches h3's pod after h3's Node was deleted")
		}
		checkPodTraffic(t, h1, h2)
	})
}

func hasRoutes(owned string, want []string) error {
	for _, w := range want {
		if !strings.Contains(owned, w) {
			return fmt.Errorf("no route %q in:\n%s", w, owned)
		}
	}
	if n := len(strings.Split(owned, "\n")); n != len(want) {
		return fmt.Errorf("%d routes, want %d:\n%s", n, len(want), owned)
	}
	return nil
}
