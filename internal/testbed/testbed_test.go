//go:build linux

package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// dialFunc opens a connection from somewhere: a host, or the test process.
type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

var fromTestProcess dialFunc = (&net.Dialer{}).DialContext

// serveEcho runs a TCP and a UDP echo server on the host's address and
// returns their address (same port for both is not guaranteed, so two).
func serveEcho(t *testing.T, h *Host) (tcpAddr, udpAddr string) {
	t.Helper()
	l, err := h.Listen("tcp", netip.AddrPortFrom(h.Addr, 0).String())
	if err != nil {
		t.Fatalf("listening in %s: %v", h, err)
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
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	pc, err := h.ListenPacket("udp", netip.AddrPortFrom(h.Addr, 0).String())
	if err != nil {
		t.Fatalf("listening for UDP in %s: %v", h, err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	return l.Addr().String(), pc.LocalAddr().String()
}

// echo sends msg over network to an echo server and checks it comes back,
// within timeout.
func echo(dial dialFunc, network, addr string, msg []byte, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := dial(ctx, network, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	_ = c.SetDeadline(deadline)
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("echo: got %q, want %q", got, msg)
	}
	return nil
}

// reaches checks TCP and UDP both work from dial to the echo servers.
func reaches(dial dialFunc, tcpAddr, udpAddr string) error {
	if err := echo(dial, "tcp", tcpAddr, []byte("hello over tcp"), 5*time.Second); err != nil {
		return fmt.Errorf("tcp %s: %w", tcpAddr, err)
	}
	// UDP may lose the first datagram while ARP resolves: try a few times.
	var err error
	for range 5 {
		if err = echo(dial, "udp", udpAddr, []byte("hello over udp"), time.Second); err == nil {
			return nil
		}
	}
	return fmt.Errorf("udp %s: %w", udpAddr, err)
}

// blocked checks a TCP connection to addr does not get through in a
// second (a partitioned or cut path drops packets: the dial times out).
func blocked(dial dialFunc, addr string) error {
	err := echo(dial, "tcp", addr, []byte("should not arrive"), time.Second)
	if err == nil {
		return fmt.Errorf("tcp %s: got through", addr)
	}
	if !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
		return fmt.Errorf("tcp %s: want a timeout (packets dropped), got %v", addr, err)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestHostsInOneSite(t *testing.T) {
	tb := New(t, Options{})
	a := tb.AddSite("a")
	h1, h2 := tb.AddHost(a, "h1"), tb.AddHost(a, "h2")
	if !a.Subnet.Contains(h1.Addr) || !a.Subnet.Contains(h2.Addr) || h1.Addr == h2.Addr {
		t.Fatalf("host addresses %s and %s: want two distinct addresses in %s", h1.Addr, h2.Addr, a.Subnet)
	}
	tcp1, udp1 := serveEcho(t, h1)
	if err := reaches(h2.DialContext, tcp1, udp1); err != nil {
		t.Errorf("h2 -> h1: %v", err)
	}
	tcp2, udp2 := serveEcho(t, h2)
	if err := reaches(h1.DialContext, tcp2, udp2); err != nil {
		t.Errorf("h1 -> h2: %v", err)
	}
	if err := reaches(fromTestProcess, tcp1, udp1); err != nil {
		t.Errorf("test process -> h1 through the uplink: %v", err)
	}
	// Same L2: h2 reaches h1 directly, not through the router.
	out, err := h2.Exec(context.Background(), "ip", "route", "get", h1.Addr.String())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, " via ") || !strings.Contains(out, "dev "+hostIface) {
		t.Errorf("route from h2 to h1 = %q, want a direct route on %s", out, hostIface)
	}
}

func TestSitesMeetOnlyThroughTheRouter(t *testing.T) {
	tb := New(t, Options{})
	a, b := tb.AddSite("a"), tb.AddSite("b")
	if a.Subnet.Overlaps(b.Subnet) {
		t.Fatalf("site subnets %s and %s overlap", a.Subnet, b.Subnet)
	}
	h1, h2 := tb.AddHost(a, "h1"), tb.AddHost(b, "h2")
	tcp1, udp1 := serveEcho(t, h1)
	tcp2, udp2 := serveEcho(t, h2)

	c, err := tb.Capture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte("crossing-sites-" + tb.Run())
	if err := echo(h2.DialContext, "tcp", tcp1, payload, 5*time.Second); err != nil {
		t.Fatalf("h2 (site b) -> h1 (site a): %v", err)
	}
	if err := reaches(h1.DialContext, tcp2, udp2); err != nil {
		t.Errorf("h1 (site a) -> h2 (site b): %v", err)
	}
	if err := reaches(fromTestProcess, tcp2, udp2); err != nil {
		t.Errorf("test process -> h2 (site b) through the uplink and the router: %v", err)
	}
	c.Stop()
	seenOn := map[string]bool{}
	for _, f := range c.Containing(payload) {
		seenOn[f.Interface] = true
	}
	if !seenOn[a.RouterInterface()] || !seenOn[b.RouterInterface()] {
		t.Errorf("the router saw the payload on %v, want both %s and %s", seenOn, a.RouterInterface(), b.RouterInterface())
	}

	// No shared L2: told that h1 is on its own link, h2 cannot reach it.
	ctx := context.Background()
	if _, err := h2.Exec(ctx, "ip", "route", "add", h1.Addr.String()+"/32", "dev", hostIface); err != nil {
		t.Fatal(err)
	}
	if err := blocked(h2.DialContext, tcp1); err != nil {
		t.Errorf("h2 -> h1 over L2 only: %v", err)
	}
	_ = udp1
}

func TestCutLinkAndRestore(t *testing.T) {
	tb := New(t, Options{})
	a := tb.AddSite("a")
	h1, h2 := tb.AddHost(a, "h1"), tb.AddHost(a, "h2")
	tcp1, udp1 := serveEcho(t, h1)
	tcp2, udp2 := serveEcho(t, h2)
	if err := reaches(h1.DialContext, tcp2, udp2); err != nil {
		t.Fatalf("before the cut: %v", err)
	}
	ctx := context.Background()
	if err := h2.CutLink(ctx); err != nil {
		t.Fatal(err)
	}
	if err := blocked(h1.DialContext, tcp2); err != nil {
		t.Errorf("h1 -> h2 with h2's link cut: %v", err)
	}
	if err := blocked(h2.DialContext, tcp1); err != nil {
		t.Errorf("h2 -> h1 with h2's link cut: %v", err)
	}
	if err := blocked(fromTestProcess, tcp2); err != nil {
		t.Errorf("test process -> h2 with h2's link cut: %v", err)
	}
	// The host keeps its address, as a machine whose network failed.
	if out, err := h2.Exec(ctx, "ip", "-4", "addr", "show", hostIface); err != nil || !strings.Contains(out, h2.Addr.String()) {
		t.Errorf("h2's address with its link cut: %q, %v; want %s kept", out, err, h2.Addr)
	}
	if err := h2.RestoreLink(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reaches(h1.DialContext, tcp2, udp2); err != nil {
		t.Errorf("h1 -> h2 after restoring the link: %v", err)
	}
	if err := reaches(h2.DialContext, tcp1, udp1); err != nil {
		t.Errorf("h2 -> h1 after restoring the link: %v", err)
	}
}

func TestPartitionAndHeal(t *testing.T) {
	tb := New(t, Options{})
	a, b, c := tb.AddSite("a"), tb.AddSite("b"), tb.AddSite("c")
	h1, h2, h3 := tb.AddHost(a, "h1"), tb.AddHost(b, "h2"), tb.AddHost(c, "h3")
	tcp1, udp1 := serveEcho(t, h1)
	tcp2, udp2 := serveEcho(t, h2)
	tcp3, udp3 := serveEcho(t, h3)
	ctx := context.Background()
	if err := tb.Partition(ctx, b, c); err != nil {
		t.Fatal(err)
	}
	if err := tb.Partition(ctx, c, b); err != nil {
		t.Fatalf("partitioning the same pair again: %v", err)
	}
	if err := blocked(h2.DialContext, tcp3); err != nil {
		t.Errorf("b -> c while partitioned: %v", err)
	}
	if err := blocked(h3.DialContext, tcp2); err != nil {
		t.Errorf("c -> b while partitioned: %v", err)
	}
	for _, p := range []struct {
		name     string
		from     dialFunc
		tcp, udp string
	}{
		{"a -> b", h1.DialContext, tcp2, udp2},
		{"a -> c", h1.DialContext, tcp3, udp3},
		{"b -> a", h2.DialContext, tcp1, udp1},
		{"c -> a", h3.DialContext, tcp1, udp1},
		{"test process -> c", fromTestProcess, tcp3, udp3},
	} {
		if err := reaches(p.from, p.tcp, p.udp); err != nil {
			t.Errorf("%s while b and c are partitioned: %v", p.name, err)
		}
	}
	if err := tb.Heal(ctx, c, b); err != nil {
		t.Fatal(err)
	}
	if err := reaches(h2.DialContext, tcp3, udp3); err != nil {
		t.Errorf("b -> c after healing: %v", err)
	}
	if err := reaches(h3.DialContext, tcp2, udp2); err != nil {
		t.Errorf("c -> b after healing: %v", err)
	}
	if err := tb.Heal(ctx, b, c); err != nil {
		t.Errorf("healing a healed pair: %v", err)
	}
}
