//go:build linux

package mesh_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/network/mesh"
	"github.com/maestro-dev/maestro/internal/testbed"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// newTestbed is a test bed whose hosts can run userspace WireGuard.
func newTestbed(t testing.TB) *testbed.Testbed {
	t.Helper()
	tb := testbed.New(t, testbed.Options{})
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		testreq.Missing(t, "/dev/net/tun for userspace WireGuard: %v", err)
	}
	return tb
}

// cluster stands in for the API server and the agents' Node informers:
// a Node table whose changes trigger every reconciler, as the agent's
// informer handlers do.
type cluster struct {
	mu    sync.Mutex
	nodes map[string]*api.Node
	recs  map[string]*mesh.Reconciler
}

func newCluster() *cluster {
	return &cluster{nodes: map[string]*api.Node{}, recs: map[string]*mesh.Reconciler{}}
}

// List returns copies, as an informer's objects are not shared with writers.
func (c *cluster) List() []*api.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*api.Node
	for _, n := range c.nodes {
		cp := *n
		if n.Status.Network != nil {
			nw := *n.Status.Network
			cp.Status.Network = &nw
		}
		cp.Status.Conditions = append([]api.Condition(nil), n.Status.Conditions...)
		out = append(out, &cp)
	}
	return out
}

func (c *cluster) change(fn func(map[string]*api.Node)) {
	c.mu.Lock()
	fn(c.nodes)
	recs := make([]*mesh.Reconciler, 0, len(c.recs))
	for _, r := range c.recs {
		recs = append(recs, r)
	}
	c.mu.Unlock()
	for _, r := range recs {
		r.Trigger()
	}
}

func (c *cluster) condition(node string) *api.Condition {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.nodes[node]; n != nil {
		if cond := api.FindCondition(n.Status.Conditions, api.NodeNetworkUnavailable); cond != nil {
			cp := *cond // the table changes under its lock only
			return &cp
		}
	}
	return nil
}

// publisher writes a node's status into the table.
type publisher struct {
	c    *cluster
	node string
}

func (p publisher) Publish(_ context.Context, nw *api.NodeNetworkStatus, cond *api.Condition) error {
	p.c.change(func(nodes map[string]*api.Node) {
		n := nodes[p.node]
		if n == nil {
			return
		}
		n.Status.Network = nw
		if cond != nil {
			api.SetCondition(&n.Status.Conditions, *cond, time.Now())
		}
	})
	return nil
}

// podHost is an emulated host with a stand-in pod bridge: a bridge
// interface holding the first address of the node's pod CIDR (what the
// agent's bridge holds), so "pods" are that address.
type podHost struct {
	*testbed.Host
	cidr netip.Prefix
	pod  netip.Addr
	dir  string // the agent data dir (the WireGuard key)
}

func addPodHost(t testing.TB, tb *testbed.Testbed, site *testbed.Site, name, cidr string) *podHost {
	t.Helper()
	h := &podHost{Host: tb.AddHost(site, name), dir: t.TempDir()}
	h.setPodCIDR(t, netip.MustParsePrefix(cidr))
	return h
}

// setPodCIDR puts the first address of cidr on the stand-in bridge.
func (h *podHost) setPodCIDR(t testing.TB, cidr netip.Prefix) {
	t.Helper()
	h.cidr, h.pod = cidr, cidr.Addr().Next()
	for _, argv := range [][]string{
		{"ip", "link", "add", "mstpod", "type", "bridge"},
		{"ip", "addr", "add", netip.PrefixFrom(h.pod, h.cidr.Bits()).String(), "dev", "mstpod"},
		{"ip", "link", "set", "mstpod", "up"},
	} {
		if _, err := h.Exec(t.Context(), argv...); err != nil {
			t.Fatal(err)
		}
	}
}

func (h *podHost) node() *api.Node {
	return &api.Node{ObjectMeta: api.ObjectMeta{Name: h.NodeName()}, Spec: api.NodeSpec{PodCIDR: h.cidr.String()},
		Status: api.NodeStatus{Addresses: []api.NodeAddress{{Type: api.NodeInternalIP, Address: h.Addr.String()}}}}
}

// runningReconciler is a mesh reconciler running in a host, as the agent
// runs it, until stop.
type runningReconciler struct {
	*mesh.Reconciler
	stop func()
}

// It stops at owner's cleanup (the whole test's, also when started in a
// subtest).
func startReconciler(t, owner testing.TB, c *cluster, h *podHost, mode string) *runningReconciler {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("host", h.Name)
	r, err := mesh.New(mesh.Config{NodeName: h.NodeName(), Address: h.Addr, Nodes: c, Publisher: publisher{c, h.NodeName()},
		ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16"), DataDir: h.dir, Implementation: mesh.ImplAuto, Resync: 2 * time.Second, Enter: h.Do, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	r.SetMode(mode)
	c.mu.Lock()
	c.recs[h.Name] = r
	c.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		<-done
		c.mu.Lock()
		delete(c.recs, h.Name)
		c.mu.Unlock()
	})
	owner.Cleanup(stop)
	return &runningReconciler{Reconciler: r, stop: stop}
}

// eventually polls cond until it returns nil or the time is up.
func eventually(t testing.TB, what string, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ownedRoutes are the host's routes with maestro's protocol, one per line.
func ownedRoutes(t testing.TB, h *testbed.Host) string {
	t.Helper()
	out, err := h.Exec(t.Context(), "ip", "-4", "route", "show", "proto", fmt.Sprint(int(mesh.RouteProtocol)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// serveWhoAmI answers every TCP connection and UDP datagram on addr with
// "from <source ip>: <what it got>", so the sender sees whether its
// source address arrived unchanged.
func serveWhoAmI(t *testing.T, h *testbed.Host, addr netip.Addr) (tcp, udp netip.AddrPort) {
	t.Helper()
	l, err := h.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 1024)
				n, _ := c.Read(buf)
				fmt.Fprintf(c, "from %s: %s", c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr(), buf[:n])
			}()
		}
	}()
	pc, err := h.ListenPacket("udp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			msg := fmt.Sprintf("from %s: %s", from.(*net.UDPAddr).AddrPort().Addr(), buf[:n])
			_, _ = pc.WriteTo([]byte(msg), from)
		}
	}()
	return l.Addr().(*net.TCPAddr).AddrPort(), pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// askTCP sends payload from src (an address of host h) to dst over TCP
// and returns the answer.
func askTCP(ctx context.Context, h *testbed.Host, src netip.Addr, dst netip.AddrPort, payload string) (string, error) {
	c, err := dialFrom(h, src, dst)(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, payload); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// dialFrom dials TCP from host h, from address src (any when invalid).
func dialFrom(h *testbed.Host, src netip.Addr, dst netip.AddrPort) func(context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var c net.Conn
		err := h.Do(func() error {
			d := net.Dialer{Timeout: 5 * time.Second}
			if src.IsValid() {
				d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))
			}
			var err error
			c, err = d.DialContext(ctx, "tcp", dst.String())
			return err
		})
		return c, err
	}
}

// askUDP sends payload from src to dst over UDP (a few tries: the first
// datagrams may wait for a WireGuard handshake) and returns the answer.
func askUDP(h *testbed.Host, src netip.Addr, dst netip.AddrPort, payload string) (string, error) {
	pc, err := h.ListenPacket("udp", netip.AddrPortFrom(src, 0).String())
	if err != nil {
		return "", err
	}
	defer pc.Close()
	buf := make([]byte, 2048)
	var lastErr error
	for range 10 {
		if _, err := pc.WriteTo([]byte(payload), net.UDPAddrFromAddrPort(dst)); err != nil {
			return "", err
		}
		pc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, _, err := pc.ReadFrom(buf)
		if err == nil {
			return string(buf[:n]), nil
		}
		lastErr = err
	}
	return "", lastErr
}

// checkPodTraffic sends TCP and UDP from one host's pod address to
// another's and checks the answer, including the source address the
// receiver saw.
func checkPodTraffic(t *testing.T, from, to *podHost) {
	t.Helper()
	tcp, udp := serveWhoAmI(t, to.Host, to.pod)
	want := fmt.Sprintf("from %s: hello from %s", from.pod, from.Name)
	got, err := askTCP(t.Context(), from.Host, from.pod, tcp, "hello from "+from.Name)
	if err != nil || got != want {
		t.Errorf("TCP %s -> %s: got %q, %v; want %q", from.pod, tcp, got, err, want)
	}
	got, err = askUDP(from.Host, from.pod, udp, "hello from "+from.Name)
	if err != nil || got != want {
		t.Errorf("UDP %s -> %s: got %q, %v; want %q", from.pod, udp, got, err, want)
	}
}
