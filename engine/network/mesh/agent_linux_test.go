//go:build linux

package mesh_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/network/mesh"
	"github.com/maestro-dev/maestro/internal/testbed"
)

// TestAgentsMeshAcrossSites runs real `maestro agent`s on three emulated
// hosts in two sites: each publishes its WireGuard key and endpoint on its
// Node, routes the others' pod CIDRs (host-gw in its site, WireGuard
// across), reports NetworkUnavailable=False, and drops a deleted Node.
func TestAgentsMeshAcrossSites(t *testing.T) {
	tb := newTestbed(t)
	a, b := tb.AddSite("a"), tb.AddSite("b")
	h1 := &podHost{Host: tb.AddHost(a, "h1")}
	h2 := &podHost{Host: tb.AddHost(a, "h2")}
	h3 := &podHost{Host: tb.AddHost(b, "h3")}
	hosts := []*podHost{h1, h2, h3}
	srv := tb.StartServer(h1.Host, testbed.ServerOptions{})
	agents := map[*podHost]*testbed.Process{}
	for _, h := range hosts {
		agents[h] = h.StartAgent(srv, testbed.AgentOptions{Runtime: "process", Args: []string{"--proxy=false", "--wireguard-implementation", mesh.ImplUserspace}})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	nodes := srv.Client.Nodes()
	for i, h := range hosts {
		if err := srv.WaitNodeReady(ctx, h.Host); err != nil {
			t.Fatal(err)
		}
		h.setPodCIDR(t, podCIDR(t, ctx, srv, h, i))
	}

	for _, h := range hosts {
		eventually(t, h.Name+" publishes its network", time.Minute, func() error {
			n, err := nodes.Get(ctx, h.NodeName())
			if err != nil {
				return err
			}
			nw := n.Status.Network
			if nw == nil || len(nw.PublicKey) != 44 || nw.Endpoint != fmt.Sprintf("%s:%d", h.Addr, mesh.DefaultPort) {
				return fmt.Errorf("status.network %+v", nw)
			}
			cond := api.FindCondition(n.Status.Conditions, api.NodeNetworkUnavailable)
			if cond == nil || cond.Status != api.ConditionFalse {
				return fmt.Errorf("NetworkUnavailable %+v", cond)
			}
			return nil
		})
	}
	// The WireGuard interface is named after the cluster, so agents of
	// two clusters on one host do not share one.
	info, err := srv.Client.ClusterInfo(ctx)
	if err != nil || info.ClusterID == "" {
		t.Fatalf("cluster-info: %+v, %v; want a cluster id", info, err)
	}
	wg := " dev " + mesh.InterfaceName(info.ClusterID)
	want := map[*podHost][]string{
		h1: {h2.cidr.String() + " via " + h2.Addr.String(), h3.cidr.String() + wg},
		h2: {h1.cidr.String() + " via " + h1.Addr.String(), h3.cidr.String() + wg},
		h3: {h1.cidr.String() + wg, h2.cidr.String() + wg},
	}
	for h, routes := range want {
		eventually(t, h.Name+"'s routes", time.Minute, func() error { return hasRoutes(ownedRoutes(t, h.Host), routes) })
	}
	checkPodTraffic(t, h1, h3)
	checkPodTraffic(t, h3, h2)
	checkPodTraffic(t, h2, h1)

	// A deleted Node (its agent gone first, or it would register again)
	// leaves its peers' routes.
	if err := agents[h3].Stop(); err != nil {
		t.Logf("stopping h3's agent: %v", err)
	}
	if err := nodes.Delete(ctx, h3.NodeName()); err != nil {
		t.Fatal(err)
	}
	for _, h := range []*podHost{h1, h2} {
		eventually(t, h.Name+" drops h3's route", time.Minute, func() error {
			if owned := ownedRoutes(t, h.Host); strings.Contains(owned, h3.cidr.String()) {
				return fmt.Errorf("routes:\n%s", owned)
			}
			return nil
		})
	}
	checkPodTraffic(t, h1, h2)

	// Heartbeats (every 3s) rewrite the status: the network stays on it.
	time.Sleep(4 * time.Second)
	n, err := nodes.Get(ctx, h1.NodeName())
	if err != nil {
		t.Fatal(err)
	}
	if cond := api.FindCondition(n.Status.Conditions, api.NodeNetworkUnavailable); n.Status.Network == nil || cond == nil || cond.Status != api.ConditionFalse {
		t.Fatalf("after heartbeats: status.network %+v, NetworkUnavailable %+v", n.Status.Network, cond)
	}
}

// podCIDR is the node's pod CIDR: the control plane's when it assigns
// them, otherwise 10.244.<i+1>.0/24 set by the test (as admin).
func podCIDR(t *testing.T, ctx context.Context, srv *testbed.Server, h *podHost, i int) netip.Prefix {
	t.Helper()
	for {
		n, err := srv.Client.Nodes().Get(ctx, h.NodeName())
		if err != nil {
			t.Fatal(err)
		}
		if n.Spec.PodCIDR != "" {
			return netip.MustParsePrefix(n.Spec.PodCIDR)
		}
		n.Spec.PodCIDR = fmt.Sprintf("10.244.%d.0/24", i+1)
		_, err = srv.Client.Nodes().Update(ctx, n)
		if api.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return netip.MustParsePrefix(n.Spec.PodCIDR)
	}
}
