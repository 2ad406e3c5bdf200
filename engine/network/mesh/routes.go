//go:build linux

package mesh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RouteProtocol marks the routes maestro owns in the main table (the
// rtm_protocol field, `proto 77` in `ip route`): the agent lists, replaces
// and deletes only these, so a restarted agent finds and removes its stale
// routes and never touches anyone else's.
const RouteProtocol netlink.RouteProtocol = 77

// netlinkRoutes manages the owned routes through netlink, in the network
// namespace enter switches to.
type netlinkRoutes struct {
	enter func(func() error) error
}

// list returns the routes maestro owns in the main table.
func (r netlinkRoutes) list(ctx context.Context) ([]Route, error) {
	var out []Route
	err := r.enter(func() error {
		filter := &netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN}
		rs, err := netlink.RouteListFiltered(netlink.FAMILY_V4, filter, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
		if err != nil {
			return err
		}
		for _, nr := range rs {
			rt, err := fromNetlink(nr)
			if err != nil {
				return err
			}
			out = append(out, rt)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mesh: listing owned routes: %w", err)
	}
	return out, ctx.Err()
}

func fromNetlink(nr netlink.Route) (Route, error) {
	var rt Route
	if nr.Dst != nil {
		ones, _ := nr.Dst.Mask.Size()
		a, _ := netip.AddrFromSlice(nr.Dst.IP.To4())
		rt.Dst = netip.PrefixFrom(a, ones)
	}
	rt.Via, _ = netip.AddrFromSlice(nr.Gw.To4())
	rt.Src, _ = netip.AddrFromSlice(nr.Src.To4())
	if !rt.Via.IsValid() && nr.LinkIndex > 0 {
		l, err := netlink.LinkByIndex(nr.LinkIndex)
		if err != nil {
			return rt, fmt.Errorf("route %s: link %d: %w", rt.Dst, nr.LinkIndex, err)
		}
		rt.Dev = l.Attrs().Name
	}
	return rt, nil
}

// replace adds the route or changes the one to the same destination.
func (r netlinkRoutes) replace(ctx context.Context, rt Route) error {
	err := r.enter(func() error {
		nr := &netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN,
			Dst: &net.IPNet{IP: rt.Dst.Addr().AsSlice(), Mask: net.CIDRMask(rt.Dst.Bits(), 32)}}
		if rt.Dev != "" {
			l, err := netlink.LinkByName(rt.Dev)
			if err != nil {
				return err
			}
			nr.LinkIndex, nr.Scope = l.Attrs().Index, netlink.SCOPE_LINK
		} else {
			nr.Gw = rt.Via.AsSlice()
		}
		if rt.Src.IsValid() {
			nr.Src = rt.Src.AsSlice()
		}
		return netlink.RouteReplace(nr)
	})
	if err != nil {
		return fmt.Errorf("mesh: route %s (node %s): %w", rt, rt.Node, err)
	}
	return ctx.Err()
}

// remove deletes an owned route.
func (r netlinkRoutes) remove(ctx context.Context, rt Route) error {
	err := r.enter(func() error {
		// Scope nowhere matches a route of any scope (host-gw routes are
		// universe, WireGuard ones link).
		return netlink.RouteDel(&netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN, Scope: netlink.SCOPE_NOWHERE,
			Dst: &net.IPNet{IP: rt.Dst.Addr().AsSlice(), Mask: net.CIDRMask(rt.Dst.Bits(), 32)}})
	})
	if err != nil {
		return fmt.Errorf("mesh: deleting route %s: %w", rt, err)
	}
	return ctx.Err()
}

// hostAddrs are this host's IPv4 addresses and the subnets they are on
// (the directly connected ones), loopback excluded.
func hostAddrs(enter func(func() error) error) ([]netip.Addr, []netip.Prefix, error) {
	var addrs []netip.Addr
	var subnets []netip.Prefix
	err := enter(func() error {
		as, err := netlink.AddrList(nil, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range as {
			ip, ok := netip.AddrFromSlice(a.IP.To4())
			if !ok || ip.IsLoopback() {
				continue
			}
			ones, _ := a.Mask.Size()
			addrs = append(addrs, ip)
			if ones < 32 {
				subnets = append(subnets, netip.PrefixFrom(ip, ones).Masked())
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("mesh: listing this host's addresses: %w", err)
	}
	return addrs, subnets, nil
}

// linkExists reports whether the interface is there (errors other than
// "not found" count as there: the next netlink call reports them).
func linkExists(enter func(func() error) error, name string) bool {
	err := enter(func() error {
		_, err := netlink.LinkByName(name)
		return err
	})
	var nf netlink.LinkNotFoundError
	return !errors.As(err, &nf)
}
