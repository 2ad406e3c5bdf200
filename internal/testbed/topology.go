//go:build linux

package testbed

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"time"
)

// Addresses inside a site's /24: hosts count up from .1, the test
// process's uplink end is .253, the router .254.
const (
	uplinkHost = 253
	routerHost = 254
	maxHosts   = 252
)

// Interface names inside the namespaces (namespaces do not share names, so
// only the uplink's root end carries the run's name).
const (
	bridgeName     = "br0" // a site's switch
	switchToRouter = "router"
	switchToUplink = "uplink"
	hostIface      = "eth0" // a host's only link
)

// Site is one L2 network: a bridge in a switch namespace, the hosts on it,
// and a port to the router. Sites share no L2 with each other.
type Site struct {
	// Name is the site's name in the test ("a", "aws").
	Name string
	// Subnet is the site's /24.
	Subnet netip.Prefix
	// Switch is the namespace holding the site's bridge.
	Switch *Namespace

	nextHost int // guarded by the test bed's mutex
}

// Gateway is the router's address on the site (every host's default
// route).
func (s *Site) Gateway() netip.Addr { return hostAddr(s.Subnet, routerHost) }

// RouterInterface is the router's interface on the site, where Capture
// sees the site's traffic to the others.
func (s *Site) RouterInterface() string { return "s-" + s.Name }

// Host is an emulated machine: a network namespace with one interface on
// its site's bridge and a default route through the router.
type Host struct {
	Namespace
	// Name is the host's name in the test ("h1").
	Name string
	// Site is the site the host sits in.
	Site *Site
	// Addr is the host's address (on eth0, in the site's subnet).
	Addr netip.Addr
}

// NodeName is the node name an agent on this host registers:
// <run>-<host>. The run's name in it lets cleanup and the leftover sweep
// find the Docker containers of the host's node (runtime.LabelNode).
func (h *Host) NodeName() string { return h.tb.run + "-" + h.Name }

// Namespace and interface names are short: a switch port is "p-<host>",
// a router interface "s-<site>", both within Linux's 15 characters.
var (
	siteNamePattern = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)
	hostNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,11}[a-z0-9]$|^[a-z]$`)
)

func hostAddr(subnet netip.Prefix, n int) netip.Addr {
	b := subnet.Addr().As4()
	b[3] = byte(n)
	return netip.AddrFrom4(b)
}

// setupRouter brings the router's loopback up and turns forwarding on.
func (tb *Testbed) setupRouter(ctx context.Context) error {
	if _, err := ip(ctx, "-n", tb.router.name, "link", "set", "lo", "up"); err != nil {
		return err
	}
	return tb.router.Do(func() error {
		// /proc/sys/net is the calling thread's namespace's.
		return os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644)
	})
}

// AddSite adds a site: a switch namespace with a bridge, a free /24 of the
// range, and a router port (.254). The first site also gets the uplink from
// the test process (.253 there); later sites are routed from the test
// process through the router.
func (tb *Testbed) AddSite(name string) *Site {
	tb.t.Helper()
	if !siteNamePattern.MatchString(name) {
		tb.t.Fatalf("testbed: site name %q: want a lower-case letter then up to 11 letters or digits", name)
	}
	tb.mu.Lock()
	for _, s := range tb.sites {
		if s.Name == name {
			tb.mu.Unlock()
			tb.t.Fatalf("testbed: site %q exists", name)
		}
	}
	first := len(tb.sites) == 0
	tb.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unlock, err := lockState()
	if err != nil {
		tb.t.Fatal(err)
	}
	subnet, err := claimSubnet(ctx, tb.opts.Range, tb.run, name)
	unlock()
	if err != nil {
		tb.t.Fatal(err)
	}
	s := &Site{Name: name, Subnet: subnet, Switch: &Namespace{tb: tb, name: tb.run + "-site-" + name}}
	if err := tb.buildSite(ctx, s); err != nil {
		tb.t.Fatalf("testbed: adding site %q: %v", name, err)
	}
	if first {
		err = tb.buildUplink(ctx, s)
	} else {
		err = tb.routeFromUplink(ctx, s)
	}
	if err != nil {
		tb.t.Fatalf("testbed: adding site %q: %v", name, err)
	}
	tb.mu.Lock()
	tb.sites = append(tb.sites, s)
	tb.mu.Unlock()
	return s
}

func (tb *Testbed) buildSite(ctx context.Context, s *Site) error {
	sw, r := s.Switch.name, tb.router.name
	gw := netip.PrefixFrom(s.Gateway(), s.Subnet.Bits()).String()
	return ipAll(ctx,
		[]string{"netns", "add", sw},
		[]string{"-n", sw, "link", "set", "lo", "up"},
		[]string{"-n", sw, "link", "add", bridgeName, "type", "bridge"},
		[]string{"-n", sw, "link", "set", bridgeName, "up"},
		[]string{"-n", sw, "link", "add", switchToRouter, "type", "veth", "peer", "name", s.RouterInterface(), "netns", r},
		[]string{"-n", sw, "link", "set", switchToRouter, "master", bridgeName, "up"},
		[]string{"-n", r, "addr", "add", gw, "dev", s.RouterInterface()},
		[]string{"-n", r, "link", "set", s.RouterInterface(), "up"},
	)
}

// buildUplink joins the test process to the first site: a veth pair whose
// root end is named after the run and holds the site's .253.
func (tb *Testbed) buildUplink(ctx context.Context, s *Site) error {
	addr := netip.PrefixFrom(hostAddr(s.Subnet, uplinkHost), s.Subnet.Bits()).String()
	return ipAll(ctx,
		[]string{"link", "add", tb.run, "type", "veth", "peer", "name", switchToUplink, "netns", s.Switch.name},
		[]string{"-n", s.Switch.name, "link", "set", switchToUplink, "master", bridgeName, "up"},
		[]string{"addr", "add", addr, "dev", tb.run},
		[]string{"link", "set", tb.run, "up"},
	)
}

// routeFromUplink routes a later site's subnet from the test process
// through the router's address on the first site.
func (tb *Testbed) routeFromUplink(ctx context.Context, s *Site) error {
	first := tb.Sites()[0]
	_, err := ip(ctx, "route", "add", s.Subnet.String(), "via", first.Gateway().String(), "dev", tb.run)
	return err
}

// UplinkAddr is the test process's address in the test bed (.253 of the
// first site); hosts reach the test process there.
func (tb *Testbed) UplinkAddr() netip.Addr {
	sites := tb.Sites()
	if len(sites) == 0 {
		return netip.Addr{}
	}
	return hostAddr(sites[0].Subnet, uplinkHost)
}

// AddHost adds a host to a site: a namespace with eth0 on the site's
// bridge, the site's next address (.1, .2, ...) and a default route
// through the router.
func (tb *Testbed) AddHost(s *Site, name string) *Host {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := tb.addHost(ctx, s, name)
	if err != nil {
		tb.t.Fatal(err)
	}
	return h
}

// addHost is AddHost returning its error (for any goroutine).
func (tb *Testbed) addHost(ctx context.Context, s *Site, name string) (*Host, error) {
	if !hostNamePattern.MatchString(name) {
		return nil, fmt.Errorf("testbed: host name %q: want up to 13 lower-case letters, digits or dashes, starting with a letter", name)
	}
	tb.mu.Lock()
	if tb.hosts[name] != nil {
		tb.mu.Unlock()
		return nil, fmt.Errorf("testbed: host %q exists", name)
	}
	if s.nextHost >= maxHosts {
		tb.mu.Unlock()
		return nil, fmt.Errorf("testbed: site %q is full (%d hosts)", s.Name, maxHosts)
	}
	s.nextHost++
	h := &Host{Namespace: Namespace{tb: tb, name: tb.run + "-host-" + name}, Name: name, Site: s,
		Addr: hostAddr(s.Subnet, s.nextHost)}
	tb.hosts[name] = h
	tb.mu.Unlock()
	if err := tb.buildHost(ctx, h); err != nil {
		return nil, fmt.Errorf("testbed: adding host %q: %w", name, err)
	}
	return h, nil
}

// removeHost deletes a host's namespace (and with it its interface on the
// site's bridge); its processes must have stopped.
func (tb *Testbed) removeHost(ctx context.Context, h *Host) error {
	if _, err := ip(ctx, "netns", "del", h.name); err != nil {
		return fmt.Errorf("testbed: removing host %q: %w", h.Name, err)
	}
	tb.mu.Lock()
	delete(tb.hosts, h.Name)
	tb.mu.Unlock()
	return nil
}

func (tb *Testbed) buildHost(ctx context.Context, h *Host) error {
	sw, ns := h.Site.Switch.name, h.name
	addr := netip.PrefixFrom(h.Addr, h.Site.Subnet.Bits()).String()
	return ipAll(ctx,
		[]string{"netns", "add", ns},
		[]string{"-n", ns, "link", "set", "lo", "up"},
		[]string{"-n", sw, "link", "add", h.switchPort(), "type", "veth", "peer", "name", hostIface, "netns", ns},
		[]string{"-n", sw, "link", "set", h.switchPort(), "master", bridgeName, "up"},
		[]string{"-n", ns, "addr", "add", addr, "dev", hostIface},
		[]string{"-n", ns, "link", "set", hostIface, "up"},
		[]string{"-n", ns, "route", "add", "default", "via", h.Site.Gateway().String()},
	)
}

// switchPort is the host's port on its site's bridge.
func (h *Host) switchPort() string { return "p-" + h.Name }

// String is the host's name and address, for messages.
func (h *Host) String() string { return fmt.Sprintf("%s (%s)", h.Name, h.Addr) }
