//go:build linux

package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// podIfName is the pod's end of its veth pair, inside its namespace.
const podIfName = "eth0"

// ensureBridge creates the bridge if missing, gives it the gateway address
// and alias and brings it up. Idempotent.
func ensureBridge(name, alias string, gw netip.Prefix, mtu int) error {
	link, err := netlink.LinkByName(name)
	if isLinkNotFound(err) {
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.MTU = name, mtu
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs}); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("network: creating bridge %s: %w (needs CAP_NET_ADMIN)", name, err)
		}
		link, err = netlink.LinkByName(name)
	}
	if err != nil {
		return fmt.Errorf("network: bridge %s: %w", name, err)
	}
	if _, ok := link.(*netlink.Bridge); !ok {
		return fmt.Errorf("network: %s exists and is a %s, not a bridge", name, link.Type())
	}
	if err := netlink.AddrReplace(link, &netlink.Addr{IPNet: ipNet(gw)}); err != nil {
		return fmt.Errorf("network: address %s on bridge %s: %w", gw, name, err)
	}
	// Only the gateway: an address of an earlier CIDR would keep routing
	// that range here.
	addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("network: addresses of bridge %s: %w", name, err)
	}
	for _, a := range addrs {
		if a.IPNet.String() != ipNet(gw).String() {
			if err := netlink.AddrDel(link, &a); err != nil {
				return fmt.Errorf("network: removing the old address %s from bridge %s: %w", a.IPNet, name, err)
			}
		}
	}
	if link.Attrs().Alias != alias {
		if err := netlink.LinkSetAlias(link, alias); err != nil {
			return fmt.Errorf("network: alias of bridge %s: %w", name, err)
		}
	}
	// Host ports on a loopback address are DNATed from 127.x to pods
	// through the bridge, which the kernel allows only with this.
	if err := os.WriteFile("/proc/sys/net/ipv4/conf/"+name+"/route_localnet", []byte("1"), 0o644); err != nil {
		return fmt.Errorf("network: route_localnet on bridge %s: %w", name, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("network: bringing bridge %s up: %w", name, err)
	}
	return nil
}

// bridgesByAlias lists this namespace's bridges whose alias has prefix.
func bridgesByAlias(prefix string) (map[string]string, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("network: listing links: %w", err)
	}
	out := map[string]string{}
	for _, l := range links {
		if _, ok := l.(*netlink.Bridge); ok && strings.HasPrefix(l.Attrs().Alias, prefix) {
			out[l.Attrs().Name] = l.Attrs().Alias
		}
	}
	return out, nil
}

// deleteLink removes a link of this namespace; a missing one is no error.
func deleteLink(name string) error {
	link, err := netlink.LinkByName(name)
	if isLinkNotFound(err) {
		return nil
	}
	if err == nil {
		err = netlink.LinkDel(link)
	}
	if err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("network: deleting %s: %w", name, err)
	}
	return nil
}

// attach makes the pod's veth pair: eth0 in the namespace with the address
// and a default route via the gateway (lo up), the host end on the bridge.
// It starts from scratch each time (an earlier, partial attach is undone),
// so calling it again converges.
func attach(s attachSpec) error {
	ns, err := netns.GetFromPath(s.NetNS)
	if err != nil {
		return fmt.Errorf("network: opening the pod's network namespace %s: %w", s.NetNS, err)
	}
	defer ns.Close()
	if err := checkPodNS(ns, s.NetNS); err != nil {
		return err
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("network: netlink in %s: %w", s.NetNS, err)
	}
	defer h.Close()
	if old, err := h.LinkByName(podIfName); err == nil {
		// Only an earlier attach's veth: any other eth0 means this is not
		// a pod's namespace (a reused pid), and it is not ours to delete.
		if _, ok := old.(*netlink.Veth); !ok {
			return fmt.Errorf("network: %s in %s is a %s, not a pod's veth: not a pod's network namespace", podIfName, s.NetNS, old.Type())
		}
		if err := h.LinkDel(old); err != nil {
			return fmt.Errorf("network: removing the old %s of %s: %w", podIfName, s.NetNS, err)
		}
	}
	if err := deleteLink(s.HostVeth); err != nil {
		return err
	}
	br, err := netlink.LinkByName(s.Bridge)
	if err != nil {
		return fmt.Errorf("network: bridge %s: %w", s.Bridge, err)
	}
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.MTU, attrs.MasterIndex = s.HostVeth, s.MTU, br.Attrs().Index
	veth := &netlink.Veth{LinkAttrs: attrs, PeerName: podIfName, PeerNamespace: netlink.NsFd(ns)}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("network: creating veth %s: %w", s.HostVeth, err)
	}
	if err := setupPodSide(h, s); err != nil {
		_ = deleteLink(s.HostVeth)
		return err
	}
	host, err := netlink.LinkByName(s.HostVeth)
	if err == nil {
		err = netlink.LinkSetUp(host)
	}
	if err != nil {
		_ = deleteLink(s.HostVeth)
		return fmt.Errorf("network: bringing %s up: %w", s.HostVeth, err)
	}
	return nil
}

// checkPodNS refuses the namespace the agent itself is in (the host's): a
// sandbox whose pid was reused by a host process, or a runtime passing the
// wrong path, must not have its "old eth0" deleted and replaced.
func checkPodNS(ns netns.NsHandle, path string) error {
	self, err := netns.Get()
	if err != nil {
		return fmt.Errorf("network: this thread's network namespace: %w", err)
	}
	defer self.Close()
	if ns.Equal(self) {
		return fmt.Errorf("network: %s is the host's network namespace, not a pod's", path)
	}
	return nil
}

// setupPodSide configures the namespace's end through a handle into it.
func setupPodSide(h *netlink.Handle, s attachSpec) error {
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("network: lo in %s: %w", s.NetNS, err)
	}
	eth, err := h.LinkByName(podIfName)
	if err != nil {
		return fmt.Errorf("network: %s in %s: %w", podIfName, s.NetNS, err)
	}
	if err := h.AddrReplace(eth, &netlink.Addr{IPNet: ipNet(s.Addr)}); err != nil {
		return fmt.Errorf("network: address %s in %s: %w", s.Addr, s.NetNS, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("network: bringing %s up in %s: %w", podIfName, s.NetNS, err)
	}
	route := &netlink.Route{LinkIndex: eth.Attrs().Index, Gw: net.IP(s.Gateway.AsSlice())}
	if err := h.RouteReplace(route); err != nil {
		return fmt.Errorf("network: default route via %s in %s: %w", s.Gateway, s.NetNS, err)
	}
	return nil
}

func isLinkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
