//go:build linux

package network

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/maestro-dev/maestro/internal/testreq"
)

// testNS is a named network namespace the test made ("mstt-<run>-<name>").
type testNS struct{ name, path string }

func newNS(t *testing.T, run, name string) testNS {
	t.Helper()
	ns := testNS{name: "mstt-" + run + "-" + name}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns.name, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns.name).Run() })
	ns.path = filepath.Join("/var/run/netns", ns.name)
	return ns
}

// in runs fn on a thread inside ns; sockets fn opens stay in ns.
func (ns testNS) in(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		goruntime.LockOSThread() // never unlocked: the thread dies with the goroutine
		var h netns.NsHandle
		if h, err = netns.GetFromPath(ns.path); err != nil {
			return
		}
		defer h.Close()
		if err = netns.Set(h); err != nil {
			return
		}
		fn()
	}()
	<-done
	if err != nil {
		t.Fatalf("entering %s: %v", ns.name, err)
	}
}

func (ns testNS) exec(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns.name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("in %s: %s: %v: %s", ns.name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func netnsPrereqs(t *testing.T) string {
	t.Helper()
	testreq.Root(t, "network namespaces, bridges and nftables")
	if _, err := exec.LookPath("ip"); err != nil {
		testreq.Missing(t, "iproute2 (ip) to make the test's namespaces")
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sourceSeen listens in ns on addr:port and returns what source address the
// first connection has.
func sourceSeen(t *testing.T, ns testNS, addr string) (net.Listener, <-chan string) {
	t.Helper()
	var ln net.Listener
	ns.in(t, func() {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			t.Errorf("listening on %s in %s: %v", addr, ns.name, err)
		}
	})
	if ln == nil {
		t.FailNow()
	}
	t.Cleanup(func() { ln.Close() })
	seen := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		seen <- c.RemoteAddr().(*net.TCPAddr).IP.String()
		c.Close()
	}()
	return ln, seen
}

func dialFrom(t *testing.T, ns testNS, addr string) {
	t.Helper()
	ns.in(t, func() {
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			t.Errorf("dialing %s from %s: %v", addr, ns.name, err)
			return
		}
		c.Close()
	})
}

func wait(t *testing.T, seen <-chan string, what string) string {
	t.Helper()
	select {
	case ip := <-seen:
		return ip
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no connection arrived", what)
		return ""
	}
}

// TestNodeNetwork sets a node's pod network up in a host namespace the test
// makes, with two pods and an "outside" namespace beyond a veth: pods get
// addresses of the node's CIDR and reach each other with their own source
// address, traffic leaving the cluster CIDR is masqueraded to the host's,
// Setup again (an agent restart) converges, and Detach frees everything.
func TestNodeNetwork(t *testing.T) {
	for _, fw := range []string{FirewallNFTables, FirewallIPTables} {
		t.Run(fw, func(t *testing.T) { testNodeNetwork(t, fw) })
	}
}

func testNodeNetwork(t *testing.T, fw string) {
	run := netnsPrereqs(t)
	if _, err := exec.LookPath("iptables"); err != nil && fw == FirewallIPTables {
		testreq.Missing(t, "the iptables command")
	}
	host, outside := newNS(t, run, "host"), newNS(t, run, "out")
	pod1, pod2 := newNS(t, run, "pod1"), newNS(t, run, "pod2")
	host.exec(t, "ip", "link", "add", "out0", "type", "veth", "peer", "name", "eth0", "netns", outside.name)
	host.exec(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "out0")
	host.exec(t, "ip", "link", "set", "out0", "up")
	outside.exec(t, "ip", "addr", "add", "192.0.2.2/24", "dev", "eth0")
	outside.exec(t, "ip", "link", "set", "eth0", "up")

	cfg := Config{NodeName: "n1", ClusterID: run, PodCIDR: netip.MustParsePrefix("10.244.3.0/24"),
		ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16"), StateDir: t.TempDir(), Firewall: fw}
	var n *Node
	var ip1, ip2 netip.Addr
	host.in(t, func() {
		var err error
		if n, err = Setup(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
		if ip1, err = n.Attach(t.Context(), "sb1", pod1.path); err != nil {
			t.Fatal(err)
		}
		if ip2, err = n.Attach(t.Context(), "sb2", pod2.path); err != nil {
			t.Fatal(err)
		}
	})
	if n.Gateway.String() != "10.244.3.1" || !n.PodCIDR.Contains(ip1) || !n.PodCIDR.Contains(ip2) || ip1 == ip2 {
		t.Fatalf("gateway %s, pod addresses %s %s: want 10.244.3.1 and two distinct addresses of %s", n.Gateway, ip1, ip2, n.PodCIDR)
	}
	if out := pod1.exec(t, "ip", "-4", "addr", "show", "eth0"); !strings.Contains(out, ip1.String()+"/24") {
		t.Errorf("pod1's eth0:\n%s\nwant %s/24", out, ip1)
	}
	if out := pod1.exec(t, "ip", "route"); !strings.Contains(out, "default via 10.244.3.1 dev eth0") {
		t.Errorf("pod1's routes:\n%s\nwant a default route via the gateway", out)
	}

	_, seen := sourceSeen(t, pod2, net.JoinHostPort(ip2.String(), "8080"))
	dialFrom(t, pod1, net.JoinHostPort(ip2.String(), "8080"))
	if got := wait(t, seen, "pod1 to pod2"); got != ip1.String() {
		t.Errorf("pod2 saw pod1 as %s, want its pod address %s (pod to pod is not masqueraded)", got, ip1)
	}
	_, seen = sourceSeen(t, outside, "192.0.2.2:8080")
	dialFrom(t, pod1, "192.0.2.2:8080")
	if got := wait(t, seen, "pod1 to outside"); got != "192.0.2.1" {
		t.Errorf("outside saw pod1 as %s, want the host's 192.0.2.1 (masquerade)", got)
	}
	_, seen = sourceSeen(t, host, "10.244.3.1:8081")
	dialFrom(t, pod1, "10.244.3.1:8081")
	if got := wait(t, seen, "pod1 to the host"); got != ip1.String() {
		t.Errorf("the host saw pod1 as %s, want %s", got, ip1)
	}

	// Host ports: from outside on the host's address, and from the host
	// itself on a loopback address.
	host.exec(t, "ip", "link", "set", "lo", "up")
	host.in(t, func() {
		err := n.SetHostPorts(t.Context(), "sb2", []HostPort{
			{HostIP: netip.MustParseAddr("192.0.2.1"), Port: 9000, PodPort: 8090, Protocol: "tcp", PodIP: ip2},
			{HostIP: netip.MustParseAddr("127.0.0.1"), Port: 9001, PodPort: 8091, Protocol: "tcp", PodIP: ip2},
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	_, seen = sourceSeen(t, pod2, ":8090")
	dialFrom(t, outside, "192.0.2.1:9000")
	if got := wait(t, seen, "outside to the host port"); got != "192.0.2.2" {
		t.Errorf("pod2 saw the outside client as %s, want 192.0.2.2", got)
	}
	_, seen = sourceSeen(t, pod2, ":8091")
	dialFrom(t, host, "127.0.0.1:9001")
	if got := wait(t, seen, "the host to a loopback host port"); got != n.Gateway.String() {
		t.Errorf("pod2 saw the host's loopback client as %s, want the gateway %s", got, n.Gateway)
	}
	host.in(t, func() {
		if err := n.SetHostPorts(t.Context(), "sb2", []HostPort{{HostIP: netip.Addr{}, Port: 1, PodPort: 1, Protocol: "tcp"}}); err == nil {
			t.Error("a host port without a valid hostIP was accepted")
		}
		if err := n.SetHostPorts(t.Context(), "sb2", nil); err != nil {
			t.Fatal(err)
		}
	})
	outside.in(t, func() {
		if c, err := net.DialTimeout("tcp", "192.0.2.1:9000", time.Second); err == nil {
			c.Close()
			t.Error("the host port still answers after it was unpublished")
		}
	})

	// A restarted agent: Setup again over what exists, same addresses.
	host.in(t, func() {
		n2, err := Setup(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := n2.IP("sb1"); !ok || got != ip1 {
			t.Errorf("after a restart sb1 has %v (%v), want %s", got, ok, ip1)
		}
		if rules := masqueradeRules(t, n2); rules != 2 {
			t.Errorf("after Setup twice the postrouting chain has %d rules, want 2", rules)
		}
		if err := n2.Retain(t.Context(), map[string]bool{"sb2": true}); err != nil {
			t.Fatal(err)
		}
		if _, err := netlink.LinkByName(hostVethName("sb1")); err == nil {
			t.Error("sb1's host veth is still there after Retain dropped it")
		}
		if _, ok := n2.IP("sb1"); ok {
			t.Error("sb1 kept its address after Retain dropped it")
		}
		// The node's CIDR changes: the bridge keeps only the new gateway.
		moved := cfg
		moved.PodCIDR = netip.MustParsePrefix("10.244.4.0/24")
		n3, err := Setup(t.Context(), moved)
		if err != nil {
			t.Fatal(err)
		}
		br, err := netlink.LinkByName(n3.Bridge)
		if err != nil {
			t.Fatal(err)
		}
		addrs, _ := netlink.AddrList(br, netlink.FAMILY_V4)
		if len(addrs) != 1 || addrs[0].IPNet.String() != "10.244.4.1/24" {
			t.Errorf("bridge addresses after the CIDR changed: %v, want only 10.244.4.1/24", addrs)
		}
		if err := n3.Remove(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := netlink.LinkByName(n2.Bridge); err == nil {
			t.Error("the bridge is still there after Remove")
		}
	})
	if _, err := os.Stat(pod1.path); err != nil {
		t.Fatal(err)
	}
	if out := pod1.exec(t, "ip", "link"); strings.Contains(out, "eth0") {
		t.Errorf("pod1 still has eth0 after Detach:\n%s", out)
	}
}

// masqueradeRules counts the rules of the node's postrouting chain.
func masqueradeRules(t *testing.T, n *Node) int {
	if n.Firewall == FirewallIPTables {
		out, err := exec.Command("iptables", "-w", "-t", "nat", "-S", iptChains(n.Bridge)[0].name).CombinedOutput()
		if err != nil {
			t.Fatalf("iptables -S: %v: %s", err, out)
		}
		return strings.Count(string(out), "\n-A ")
	}
	bridge := n.Bridge
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := c.GetRules(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: tableName(bridge)},
		&nftables.Chain{Name: "postrouting"})
	if err != nil {
		t.Fatal(err)
	}
	return len(rules)
}

// Repair brings back what someone removed behind the agent's back: the
// bridge with its gateway address, and the node's nftables table.
func TestRepair(t *testing.T) {
	run := netnsPrereqs(t)
	if !nftablesWorks() {
		testreq.Missing(t, "nftables in the kernel")
	}
	host := newNS(t, run, "host")
	host.in(t, func() {
		ctx := t.Context()
		n, err := Setup(ctx, Config{NodeName: "n1", ClusterID: run, PodCIDR: netip.MustParsePrefix("10.244.12.0/24"),
			StateDir: t.TempDir(), Firewall: FirewallNFTables})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = n.Remove(ctx) }()
		if err := errors.Join(deleteLink(n.Bridge), removeNFT(n.Bridge)); err != nil {
			t.Fatal(err)
		}
		if err := n.Repair(ctx); err != nil {
			t.Fatal(err)
		}
		br, err := netlink.LinkByName(n.Bridge)
		if err != nil {
			t.Fatalf("bridge after Repair: %v", err)
		}
		addrs, _ := netlink.AddrList(br, netlink.FAMILY_V4)
		if len(addrs) != 1 || addrs[0].IP.String() != n.Gateway.String() {
			t.Errorf("bridge addresses after Repair = %v, want the gateway %s", addrs, n.Gateway)
		}
		if got := masqueradeRules(t, n); got == 0 {
			t.Error("no masquerade rule after Repair")
		}
	})
}
