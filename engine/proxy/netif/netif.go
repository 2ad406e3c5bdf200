//go:build linux

// Package netif keeps the host addresses the service proxy and cluster DNS
// listen on: cluster IPs live as /32 (or /128) addresses on an interface of
// the host (the loopback interface by default, or a dummy interface like
// kube-proxy's kube-ipvs0 where the kernel has the dummy driver), so
// connections to them from host processes are local and packets from
// containers on a bridge are delivered to the host's own stack. It needs
// CAP_NET_ADMIN.
package netif

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Dummy is a dummy interface and the addresses one owner keeps on it.
type Dummy struct {
	name string
	// owned limits Sync to addresses inside these prefixes, so clusters
	// sharing the interface leave each other's addresses alone.
	owned []netip.Prefix

	mu   sync.Mutex
	link netlink.Link
}

// Open finds the interface, creating a dummy interface of that name when
// missing, and brings it up. owned are the
// prefixes whose addresses this owner manages.
func Open(name string, owned ...netip.Prefix) (*Dummy, error) {
	if name == "" {
		name = DefaultName
	}
	d := &Dummy{name: name, owned: owned}
	if err := d.ensure(); err != nil {
		return nil, err
	}
	return d, nil
}

// Name is the interface's name.
func (d *Dummy) Name() string { return d.name }

func (d *Dummy) ensure() error {
	link, err := netlink.LinkByName(d.name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = d.name
		if err := netlink.LinkAdd(&netlink.Dummy{LinkAttrs: attrs}); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("netif: creating dummy interface %s: %w (binding service addresses needs CAP_NET_ADMIN)", d.name, err)
		}
		link, err = netlink.LinkByName(d.name)
	}
	if err != nil {
		return fmt.Errorf("netif: finding interface %s: %w", d.name, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("netif: bringing %s up: %w", d.name, err)
	}
	d.mu.Lock()
	d.link = link
	d.mu.Unlock()
	return nil
}

// Sync makes the owned addresses on the interface exactly want (addresses
// outside the owned prefixes are neither added nor removed).
func (d *Dummy) Sync(want []netip.Addr) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	have, err := netlink.AddrList(d.link, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("netif: listing addresses of %s: %w", d.name, err)
	}
	wanted := map[netip.Addr]bool{}
	for _, a := range want {
		if d.owns(a) {
			wanted[a.Unmap()] = true
		}
	}
	var errs []error
	for _, a := range have {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if wanted[ip] {
			delete(wanted, ip)
			continue
		}
		if d.owns(ip) {
			if err := netlink.AddrDel(d.link, &a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
				errs = append(errs, fmt.Errorf("netif: removing %s from %s: %w", ip, d.name, err))
			}
		}
	}
	for ip := range wanted {
		if err := netlink.AddrAdd(d.link, hostAddr(ip)); err != nil && !errors.Is(err, unix.EEXIST) {
			errs = append(errs, fmt.Errorf("netif: adding %s to %s: %w", ip, d.name, err))
		}
	}
	return errors.Join(errs...)
}

// Release removes every owned address (the owner is shutting down).
func (d *Dummy) Release() error { return d.Sync(nil) }

func (d *Dummy) owns(ip netip.Addr) bool {
	for _, p := range d.owned {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

func hostAddr(ip netip.Addr) *netlink.Addr {
	bits := 32
	if ip.Is6() {
		bits = 128
	}
	return &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(bits, bits)}}
}
