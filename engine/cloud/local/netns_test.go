package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// testNetwork returns a bridge name and a /24 of 10.214.0.0/16 no other
// link on this machine uses.
func testNetwork(t *testing.T) *Network {
	t.Helper()
	testreq.Root(t, "machines as emulated hosts need network namespaces")
	if _, err := exec.LookPath("ip"); err != nil {
		testreq.Missing(t, "ip (iproute2): %v", err)
	}
	for range 20 {
		b := make([]byte, 2)
		_, _ = rand.Read(b)
		n := &Network{Bridge: "mlbt" + hex.EncodeToString(b), Prefix: netip.MustParsePrefix(fmt.Sprintf("10.214.%d.0/24", b[0]))}
		out, _ := exec.Command("ip", "-4", "addr").Output()
		if !exists(n.Bridge) && !strings.Contains(string(out), fmt.Sprintf(" 10.214.%d.", b[0])) {
			return n
		}
	}
	t.Fatal("no free test network")
	return nil
}

func newNetCloud(t *testing.T, n *Network, script string) *Cloud {
	t.Helper()
	c, err := New(Options{Root: t.TempDir(), Network: n, StopGrace: time.Second,
		Command: func(s Spec) []string {
			return []string{"/bin/sh", "-c", `echo "` + s.Address + `" > data/address; ` + script}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deleteAll(t, c)
		if exists(n.Bridge) {
			t.Errorf("bridge %s left after every machine was deleted", n.Bridge)
			_ = ipCmd(context.Background(), "link", "del", n.Bridge)
		}
		if exec.Command("iptables", "-C", "FORWARD", "-i", n.Bridge, "-o", n.Bridge, "-j", "ACCEPT").Run() == nil {
			t.Errorf("forward rule for %s left after every machine was deleted", n.Bridge)
			_ = n.forwardRule(context.Background(), "-D")
		}
	})
	return c
}

func TestConformanceEmulatedHosts(t *testing.T) {
	cloudtest.Run(t, func(t *testing.T) cloud.Cloud {
		return newNetCloud(t, testNetwork(t), "exec sleep 120")
	})
}

// TestEmulatedHostsHaveTheirOwnNetwork: each machine has its own address on
// the bridge, reaches the gateway and the other machine, and leaves nothing
// behind when deleted.
func TestEmulatedHostsHaveTheirOwnNetwork(t *testing.T) {
	n := testNetwork(t)
	c := newNetCloud(t, n, "exec sleep 120")
	m1, r1 := mustCreate(t, c, "m1")
	m2, r2 := mustCreate(t, c, "m2")
	if r1.Address == "" || r1.Address == r2.Address {
		t.Fatalf("addresses %q and %q: want two distinct ones", r1.Address, r2.Address)
	}
	if !n.Prefix.Contains(netip.MustParseAddr(r1.Address)) || m1.Addresses[0] != r1.Address {
		t.Fatalf("machine address %q (reported %v), want one of %s", r1.Address, m1.Addresses, n.Prefix)
	}
	waitFor(t, "the process to see its address", func() bool {
		b, _ := os.ReadFile(filepath.Join(c.machineDir(m1.ID), "data", "address"))
		return strings.TrimSpace(string(b)) == r1.Address
	})
	gw := listenIn(t, "", n.Gateway().String())
	peer := listenIn(t, netnsName(m2.ID), r2.Address)
	for _, dst := range []string{gw, peer} {
		script := "echo hello > /dev/tcp/" + strings.Replace(dst, ":", "/", 1)
		out, err := exec.Command("ip", "netns", "exec", netnsName(m1.ID), "timeout", "5", "bash", "-c", script).CombinedOutput()
		if err != nil {
			t.Errorf("machine %s cannot reach %s: %v: %s", r1.Address, dst, err, out)
		}
	}
	// The process runs in the machine's namespace, not this one.
	self, _ := os.Readlink("/proc/self/ns/net")
	theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", r1.PID))
	if theirs == "" || theirs == self {
		t.Errorf("machine process namespace %q, this test's %q: want its own", theirs, self)
	}
	if err := c.Delete(t.Context(), m1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/run/netns/" + netnsName(m1.ID)); err == nil {
		t.Errorf("namespace %s left after Delete", netnsName(m1.ID))
	}
	if exists(vethName(m1.ID)) {
		t.Errorf("veth %s left after Delete", vethName(m1.ID))
	}
	m3, r3 := mustCreate(t, c, "m3")
	if r3.Address != r1.Address {
		t.Errorf("m3 got %s, want the freed %s", r3.Address, r1.Address)
	}
	for _, id := range []string{m2.ID, m3.ID} {
		if err := c.Delete(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if exists(n.Bridge) {
		t.Errorf("bridge %s left after the last machine was deleted", n.Bridge)
	}
}

// listenIn listens on addr:0 inside the named network namespace (this one
// when ns is empty) and accepts in the background; it returns host:port.
func listenIn(t *testing.T, ns, addr string) string {
	t.Helper()
	var l net.Listener
	listen := func() (err error) { l, err = net.Listen("tcp", addr+":0"); return err }
	if ns == "" {
		if err := listen(); err != nil {
			t.Fatal(err)
		}
	} else {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		self, err := netns.Get()
		if err != nil {
			t.Fatal(err)
		}
		defer self.Close()
		target, err := netns.GetFromName(ns)
		if err != nil {
			t.Fatal(err)
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			t.Fatal(err)
		}
		err = listen()
		if serr := netns.Set(self); serr != nil {
			panic(serr) // this thread must not go back to the pool in another namespace
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

func TestNetworkValidate(t *testing.T) {
	for _, tc := range []struct {
		n    Network
		want string
	}{
		{Network{Bridge: "", Prefix: netip.MustParsePrefix("10.0.0.0/24")}, "Bridge"},
		{Network{Bridge: "a-bridge-name-too-long", Prefix: netip.MustParsePrefix("10.0.0.0/24")}, "Bridge"},
		{Network{Bridge: "br0"}, "Prefix"},
		{Network{Bridge: "br0", Prefix: netip.MustParsePrefix("fd00::/64")}, "IPv4"},
		{Network{Bridge: "br0", Prefix: netip.MustParsePrefix("10.0.0.0/30")}, "/29"},
		{Network{Bridge: "br0", Prefix: netip.MustParsePrefix("10.0.0.0/24")}, ""},
	} {
		err := tc.n.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: Validate() = %v, want an error containing %q", tc.n, err, tc.want)
		}
	}
	if got := (Network{Prefix: netip.MustParsePrefix("10.9.8.0/24")}).Gateway(); got.String() != "10.9.8.1" {
		t.Errorf("Gateway = %s, want 10.9.8.1", got)
	}
	if got := lastAddr(netip.MustParsePrefix("10.9.8.0/29")); got.String() != "10.9.8.7" {
		t.Errorf("lastAddr = %s, want 10.9.8.7", got)
	}
}
