package mesh

import (
	"encoding/base64"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
)

var (
	keyB = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("b", 32)))
	keyC = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("c", 32)))
)

func testNode(name, cidr, ip, key, endpoint string) *api.Node {
	n := &api.Node{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.NodeSpec{PodCIDR: cidr}}
	if ip != "" {
		n.Status.Addresses = []api.NodeAddress{{Type: api.NodeInternalIP, Address: ip}}
	}
	if key != "" || endpoint != "" {
		n.Status.Network = &api.NodeNetworkStatus{PublicKey: key, Endpoint: endpoint}
	}
	return n
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

func TestCompute(t *testing.T) {
	self := testNode("a", "10.244.1.0/24", "10.0.0.1", "", "")
	local := []netip.Addr{addr("10.0.0.1"), addr("10.244.1.1")}
	subnets := []netip.Prefix{pfx("10.0.0.0/24"), pfx("10.244.1.0/24")}
	sameSite := testNode("b", "10.244.2.0/24", "10.0.0.2", keyB, "10.0.0.2:51820")
	otherSite := testNode("c", "10.244.3.0/24", "10.9.0.3", keyC, "10.9.0.3:51820")
	hostGWRoute := Route{Node: "b", Dst: pfx("10.244.2.0/24"), Via: addr("10.0.0.2")}
	wgRoute := Route{Node: "c", Dst: pfx("10.244.3.0/24"), Dev: "wg", Src: addr("10.244.1.1")}
	wgPeer := Peer{Node: "c", PublicKey: keyC, Endpoint: netip.MustParseAddrPort("10.9.0.3:51820"), AllowedIPs: []netip.Prefix{pfx("10.244.3.0/24")}}
	wgPeerB := Peer{Node: "b", PublicKey: keyB, Endpoint: netip.MustParseAddrPort("10.0.0.2:51820"), AllowedIPs: []netip.Prefix{pfx("10.244.2.0/24")}}

	cases := []struct {
		name    string
		mode    string
		nodes   []*api.Node
		local   []netip.Addr // default local
		routes  []Route
		peers   []Peer
		skipped []string // node/reason
	}{
		{name: "auto: host-gw on the link, WireGuard beyond it", mode: api.PodNetworkAuto,
			nodes:  []*api.Node{self, otherSite, sameSite},
			routes: []Route{hostGWRoute, wgRoute}, peers: []Peer{wgPeer}},
		{name: "empty mode is auto", nodes: []*api.Node{self, sameSite, otherSite},
			routes: []Route{hostGWRoute, wgRoute}, peers: []Peer{wgPeer}},
		{name: "host-gw: an off-link peer is skipped", mode: api.PodNetworkHostGW,
			nodes:  []*api.Node{self, sameSite, otherSite},
			routes: []Route{hostGWRoute}, skipped: []string{"c/" + SkipNotOnLink}},
		{name: "wireguard: every peer through the mesh", mode: api.PodNetworkWireGuard,
			nodes:  []*api.Node{self, sameSite, otherSite},
			routes: []Route{{Node: "b", Dst: pfx("10.244.2.0/24"), Dev: "wg", Src: addr("10.244.1.1")}, wgRoute},
			peers:  []Peer{wgPeerB, wgPeer}},
		{name: "no gateway on this host yet: no preferred source", mode: api.PodNetworkWireGuard,
			nodes: []*api.Node{self, otherSite}, local: []netip.Addr{addr("10.0.0.1")},
			routes: []Route{{Node: "c", Dst: pfx("10.244.3.0/24"), Dev: "wg"}}, peers: []Peer{wgPeer}},
		{name: "a peer on this host needs no route", mode: api.PodNetworkAuto,
			nodes:   []*api.Node{self, testNode("d", "10.244.4.0/24", "10.0.0.1", "", "")},
			skipped: []string{"d/" + SkipLocal}},
		{name: "maestro up: loopback node addresses are this host's", mode: api.PodNetworkWireGuard,
			nodes:   []*api.Node{self, testNode("e", "10.244.5.0/24", "127.0.1.2", keyB, "127.0.1.2:51820")},
			skipped: []string{"e/" + SkipLocal}},
		{name: "peers without what they need are skipped", mode: api.PodNetworkAuto,
			nodes: []*api.Node{self,
				testNode("n1", "", "10.0.0.5", "", ""),
				testNode("n2", "banana", "10.0.0.5", "", ""),
				testNode("n3", "10.244.1.128/25", "10.0.0.5", "", ""),
				testNode("n4", "10.244.4.0/24", "", "", ""),
				testNode("n5", "10.244.5.0/24", "10.9.0.5", "", ""),
				testNode("n6", "10.244.6.0/24", "10.9.0.6", "not-a-key", "10.9.0.6:51820"),
				testNode("n7", "10.244.7.0/24", "10.9.0.7", keyB, ""),
			},
			skipped: []string{"n1/" + SkipNoPodCIDR, "n2/" + SkipBadPodCIDR, "n3/" + SkipBadPodCIDR, "n4/" + SkipNoAddress,
				"n5/" + SkipNoKey, "n6/" + SkipNoKey, "n7/" + SkipNoEndpoint}},
		{name: "self unknown (deleted): still routes to the others", mode: api.PodNetworkAuto,
			nodes: []*api.Node{sameSite}, routes: []Route{hostGWRoute}},
		{name: "no nodes: nothing", mode: api.PodNetworkAuto},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			loc := tc.local
			if loc == nil {
				loc = local
			}
			plan := Compute(Input{Self: "a", Nodes: tc.nodes, Mode: tc.mode, LocalAddrs: loc, LocalSubnets: subnets, Interface: "wg"})
			if !reflect.DeepEqual(plan.Routes, tc.routes) {
				t.Errorf("routes:\n got %v\nwant %v", plan.Routes, tc.routes)
			}
			if !reflect.DeepEqual(plan.Peers, tc.peers) {
				t.Errorf("peers:\n got %+v\nwant %+v", plan.Peers, tc.peers)
			}
			var skipped []string
			for _, s := range plan.Skipped {
				if s.Message == "" {
					t.Errorf("skip of %s without a message", s.Node)
				}
				skipped = append(skipped, s.Node+"/"+s.Reason)
			}
			if !reflect.DeepEqual(skipped, tc.skipped) {
				t.Errorf("skipped: got %v, want %v", skipped, tc.skipped)
			}
		})
	}
}

// A deleted Node drops out of the plan: its route and peer go.
func TestComputeDeletedNodeDropsOut(t *testing.T) {
	self := testNode("a", "10.244.1.0/24", "10.0.0.1", "", "")
	c := testNode("c", "10.244.3.0/24", "10.9.0.3", keyC, "10.9.0.3:51820")
	in := Input{Self: "a", Nodes: []*api.Node{self, c}, LocalAddrs: []netip.Addr{addr("10.0.0.1")},
		LocalSubnets: []netip.Prefix{pfx("10.0.0.0/24")}, Interface: "wg"}
	if p := Compute(in); len(p.Routes) != 1 || len(p.Peers) != 1 {
		t.Fatalf("before: %+v", p)
	}
	in.Nodes = []*api.Node{self}
	if p := Compute(in); len(p.Routes) != 0 || len(p.Peers) != 0 {
		t.Fatalf("after deletion: %+v", p)
	}
}

func TestChanged(t *testing.T) {
	base := testNode("c", "10.244.3.0/24", "10.9.0.3", keyC, "10.9.0.3:51820")
	edit := func(fn func(n *api.Node)) *api.Node {
		n := testNode("c", "10.244.3.0/24", "10.9.0.3", keyC, "10.9.0.3:51820")
		fn(n)
		return n
	}
	cases := []struct {
		name string
		n    *api.Node
		want bool
	}{
		{"heartbeat", edit(func(n *api.Node) {
			n.Status.Conditions = []api.Condition{{Type: api.NodeReady, Status: api.ConditionTrue}}
		}), false},
		{"label", edit(func(n *api.Node) { n.Labels = map[string]string{"a": "b"} }), false},
		{"pod CIDR", edit(func(n *api.Node) { n.Spec.PodCIDR = "10.244.4.0/24" }), true},
		{"address", edit(func(n *api.Node) { n.Status.Addresses[0].Address = "10.9.0.4" }), true},
		{"key", edit(func(n *api.Node) { n.Status.Network.PublicKey = keyB }), true},
		{"network gone", edit(func(n *api.Node) { n.Status.Network = nil }), true},
	}
	for _, tc := range cases {
		if got := Changed(base, tc.n); got != tc.want {
			t.Errorf("%s: Changed = %v, want %v", tc.name, got, tc.want)
		}
	}
}
