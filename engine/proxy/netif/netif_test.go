//go:build linux

package netif

import (
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/maestro-dev/maestro/internal/testreq"
	"github.com/vishvananda/netlink"
)

func requireNetAdmin(t *testing.T) {
	t.Helper()
	testreq.Root(t, "adding addresses to an interface needs CAP_NET_ADMIN")
}

// addrsIn lists the interface's addresses in 10.231.0.0/16, the test's range.
func addrsIn(t *testing.T, name string) []netip.Addr {
	t.Helper()
	link, err := netlink.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	as, err := netlink.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var out []netip.Addr
	for _, a := range as {
		ip, _ := netip.AddrFromSlice(a.IP)
		if netip.MustParsePrefix("10.231.0.0/16").Contains(ip.Unmap()) {
			out = append(out, ip.Unmap())
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out
}

func TestSyncKeepsOnlyOwnedAddresses(t *testing.T) {
	requireNetAdmin(t)
	name := DefaultName
	a, err := Open(name, netip.MustParsePrefix("10.231.1.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Release() })
	b, err := Open(name, netip.MustParsePrefix("10.231.2.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr
	if err := a.Sync([]netip.Addr{ip("10.231.1.1"), ip("10.231.1.2"), ip("10.231.9.9")}); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync([]netip.Addr{ip("10.231.2.1")}); err != nil {
		t.Fatal(err)
	}
	if got, want := addrsIn(t, name), []netip.Addr{ip("10.231.1.1"), ip("10.231.1.2"), ip("10.231.2.1")}; !slices.Equal(got, want) {
		t.Fatalf("addresses %v, want %v (10.231.9.9 is outside a's range)", got, want)
	}
	// A local listener can bind an address once it is on the interface.
	ln, err := net.Listen("tcp", "10.231.1.2:0")
	if err != nil {
		t.Fatalf("listening on a synced address: %v", err)
	}
	ln.Close()
	if err := a.Sync([]netip.Addr{ip("10.231.1.2")}); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	if got, want := addrsIn(t, name), []netip.Addr{ip("10.231.1.2")}; !slices.Equal(got, want) {
		t.Fatalf("after resync and release: %v, want %v", got, want)
	}
}
