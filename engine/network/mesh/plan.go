package mesh

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/netip"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
)

// Input is everything Compute needs; it does no I/O.
type Input struct {
	// Self is this node's name.
	Self string
	// Nodes are all Nodes of the cluster (Self included).
	Nodes []*api.Node
	// Mode is api.PodNetworkAuto ("" means auto), HostGW or WireGuard.
	Mode string
	// LocalAddrs are this host's own addresses: a peer whose InternalIP
	// is one of them (or a loopback address) shares this host (`maestro
	// up`), so its pods are reached through its bridge here and need no
	// route.
	LocalAddrs []netip.Addr
	// LocalSubnets are the subnets directly connected to this host.
	LocalSubnets []netip.Prefix
	// Interface is the WireGuard interface routes to WireGuard peers use.
	Interface string
}

// Route is one route to a peer's pod CIDR.
type Route struct {
	// Node is the peer the route leads to (not part of the kernel's route).
	Node string
	Dst  netip.Prefix
	// Via is the next hop (host-gw); invalid for a WireGuard route.
	Via netip.Addr
	// Dev is the WireGuard interface; "" for host-gw (the kernel picks
	// the link the next hop is on).
	Dev string
	// Src is the preferred source of traffic this host starts: its own
	// pod gateway for WireGuard routes (a peer accepts only sources in
	// this node's pod CIDR); invalid when unset.
	Src netip.Addr
}

func (r Route) String() string {
	if r.Dev != "" {
		s := fmt.Sprintf("%s dev %s", r.Dst, r.Dev)
		if r.Src.IsValid() {
			s += " src " + r.Src.String()
		}
		return s
	}
	return fmt.Sprintf("%s via %s", r.Dst, r.Via)
}

// Peer is one WireGuard peer.
type Peer struct {
	// Node is the peer's node name.
	Node string
	// PublicKey is the peer's base64 public key (its Node's status).
	PublicKey  string
	Endpoint   netip.AddrPort
	AllowedIPs []netip.Prefix
}

// Reasons a Node gets no route.
const (
	SkipNoPodCIDR  = "NoPodCIDR"      // the control plane has not given it one yet
	SkipBadPodCIDR = "InvalidPodCIDR" // not a CIDR, or overlapping this node's
	SkipNoAddress  = "NoInternalIP"   // no (valid) InternalIP address
	SkipNoKey      = "NoPublicKey"    // WireGuard: the peer has published no (valid) key yet
	SkipNoEndpoint = "NoEndpoint"     // WireGuard: the peer has published no (valid) endpoint yet
	SkipNotOnLink  = "NotOnLink"      // host-gw: the peer's address is not on a connected subnet
	SkipLocal      = "SameHost"       // the peer runs on this host: its bridge is local
)

// Skip says why a peer gets no route.
type Skip struct {
	Node, Reason, Message string
}

// Plan is what the host should have.
type Plan struct {
	// Routes are sorted by destination.
	Routes []Route
	// Peers are the WireGuard peers, sorted by node name; the WireGuard
	// device is needed only when there is one.
	Peers []Peer
	// Skipped are the peers without a route, sorted by node name.
	Skipped []Skip
}

// Compute plans the routes and WireGuard peers to every other node.
func Compute(in Input) Plan {
	var plan Plan
	var self *api.Node
	for _, n := range in.Nodes {
		if n.Name == in.Self {
			self = n
		}
	}
	var selfCIDR netip.Prefix
	var src netip.Addr
	if self != nil {
		if p, err := netip.ParsePrefix(self.Spec.PodCIDR); err == nil {
			selfCIDR = p.Masked()
			if gw := selfCIDR.Addr().Next(); slices.Contains(in.LocalAddrs, gw) {
				src = gw
			}
		}
	}
	for _, n := range in.Nodes {
		if n.Name == in.Self {
			continue
		}
		route, peer, skip := planPeer(in, n, selfCIDR)
		switch {
		case skip != nil:
			plan.Skipped = append(plan.Skipped, *skip)
		case peer != nil:
			route.Src = src
			plan.Peers = append(plan.Peers, *peer)
			plan.Routes = append(plan.Routes, route)
		default:
			plan.Routes = append(plan.Routes, route)
		}
	}
	slices.SortFunc(plan.Routes, func(a, b Route) int { return a.Dst.Addr().Compare(b.Dst.Addr()) })
	slices.SortFunc(plan.Peers, func(a, b Peer) int { return cmp.Compare(a.Node, b.Node) })
	slices.SortFunc(plan.Skipped, func(a, b Skip) int { return cmp.Compare(a.Node, b.Node) })
	return plan
}

// planPeer decides one peer: a host-gw route, a WireGuard route and peer,
// or a skip.
func planPeer(in Input, n *api.Node, selfCIDR netip.Prefix) (Route, *Peer, *Skip) {
	skip := func(reason, format string, args ...any) (Route, *Peer, *Skip) {
		return Route{}, nil, &Skip{Node: n.Name, Reason: reason, Message: fmt.Sprintf(format, args...)}
	}
	if n.Spec.PodCIDR == "" {
		return skip(SkipNoPodCIDR, "node has no spec.podCIDR yet")
	}
	cidr, err := netip.ParsePrefix(n.Spec.PodCIDR)
	if err != nil {
		return skip(SkipBadPodCIDR, "spec.podCIDR %q: %v", n.Spec.PodCIDR, err)
	}
	cidr = cidr.Masked()
	if selfCIDR.IsValid() && cidr.Overlaps(selfCIDR) {
		return skip(SkipBadPodCIDR, "spec.podCIDR %s overlaps this node's %s", cidr, selfCIDR)
	}
	ip, err := netip.ParseAddr(api.NodeAddressOf(n, api.NodeInternalIP))
	if err != nil {
		return skip(SkipNoAddress, "no valid InternalIP in status.addresses")
	}
	if ip.IsLoopback() || slices.Contains(in.LocalAddrs, ip) {
		// Loopback: `maestro up` gives its nodes 127.0.1.<i>, all this host's.
		return skip(SkipLocal, "InternalIP %s is this host's: its pod bridge is local", ip)
	}
	onLink := slices.ContainsFunc(in.LocalSubnets, func(p netip.Prefix) bool { return p.Contains(ip) })
	switch in.Mode {
	case api.PodNetworkHostGW:
		if !onLink {
			return skip(SkipNotOnLink, "host-gw: InternalIP %s is on no subnet connected to this host", ip)
		}
		return Route{Node: n.Name, Dst: cidr, Via: ip}, nil, nil
	case api.PodNetworkWireGuard:
	default: // auto
		if onLink {
			return Route{Node: n.Name, Dst: cidr, Via: ip}, nil, nil
		}
	}
	nw := n.Status.Network
	if nw == nil || nw.PublicKey == "" {
		return skip(SkipNoKey, "WireGuard: status.network.publicKey not published yet")
	}
	if k, err := base64.StdEncoding.DecodeString(nw.PublicKey); err != nil || len(k) != 32 {
		return skip(SkipNoKey, "WireGuard: status.network.publicKey is not a base64 32-byte key")
	}
	ep, err := netip.ParseAddrPort(nw.Endpoint)
	if err != nil {
		return skip(SkipNoEndpoint, "WireGuard: status.network.endpoint %q: want address:port", nw.Endpoint)
	}
	peer := &Peer{Node: n.Name, PublicKey: nw.PublicKey, Endpoint: ep, AllowedIPs: []netip.Prefix{cidr}}
	return Route{Node: n.Name, Dst: cidr, Dev: in.Interface}, peer, nil
}

// Changed reports whether a Node update changes anything Compute reads
// (pod CIDR, InternalIP, published key and endpoint): heartbeats, which
// change only conditions, need no sync.
func Changed(old, n *api.Node) bool {
	if old == nil || n == nil {
		return true
	}
	if old.Spec.PodCIDR != n.Spec.PodCIDR ||
		api.NodeAddressOf(old, api.NodeInternalIP) != api.NodeAddressOf(n, api.NodeInternalIP) {
		return true
	}
	var a, b api.NodeNetworkStatus
	if old.Status.Network != nil {
		a = *old.Status.Network
	}
	if n.Status.Network != nil {
		b = *n.Status.Network
	}
	return a != b
}
