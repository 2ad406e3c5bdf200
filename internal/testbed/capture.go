//go:build linux

package testbed

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultCaptureLimit bounds the bytes of frames a Capture keeps.
const DefaultCaptureLimit = 64 << 20

// Frame is one Ethernet frame seen on an interface of the router.
type Frame struct {
	// Interface is the router interface it crossed ("s-<site>").
	Interface string
	// Outgoing is true for a frame the router sent, false for one it got
	// (a forwarded packet is seen twice: in on one site, out on the other).
	Outgoing bool
	Data     []byte
}

// CaptureStats counts what a capture saw.
type CaptureStats struct {
	// Frames and Bytes count every frame seen, kept or not.
	Frames, Bytes int
	// CrossSite counts IPv4 frames from one site's subnet to another's.
	CrossSite int
	// NotKept are frames seen but not kept (over the capture's limit).
	NotKept int
	// KernelDrops are frames the kernel dropped before the capture read
	// them (its socket buffer was full).
	KernelDrops int
}

// Capture records the frames crossing the router's interfaces (every link
// between sites, and the first site's uplink traffic to the others)
// through an AF_PACKET socket opened inside the router's namespace.
type Capture struct {
	fd      int
	ifnames map[int]string
	sites   []netip.Prefix
	limit   int

	mu      sync.Mutex
	frames  []Frame
	kept    int
	stats   CaptureStats
	readErr error // why reading stopped early

	stopOnce sync.Once
	stop     chan struct{}
	ended    chan struct{}
}

// Capture starts capturing on every interface of the router; it runs
// until Stop, ctx's end or the test's cleanup. It keeps up to
// DefaultCaptureLimit bytes of frames (keep capture windows short).
func (tb *Testbed) Capture(ctx context.Context) (*Capture, error) {
	c := &Capture{limit: DefaultCaptureLimit, ifnames: map[int]string{}, stop: make(chan struct{}), ended: make(chan struct{})}
	for _, s := range tb.Sites() {
		c.sites = append(c.sites, s.Subnet)
	}
	err := tb.router.Do(func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, i := range ifs {
			c.ifnames[i.Index] = i.Name
		}
		c.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("testbed: opening a packet socket in the router: %w", err)
	}
	if err := c.configure(); err != nil {
		unix.Close(c.fd)
		return nil, fmt.Errorf("testbed: configuring the packet socket: %w", err)
	}
	go c.read()
	go func() {
		select {
		case <-ctx.Done():
			c.Stop()
		case <-c.ended:
		}
	}()
	tb.t.Cleanup(func() { c.Stop() })
	return c, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// configure sets a large receive buffer, so bursts are not dropped, and a
// read timeout, so the reader notices Stop.
func (c *Capture) configure() error {
	// FORCE passes net.core.rmem_max (the test bed runs as root).
	if err := unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20); err != nil {
		if err := unix.SetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20); err != nil {
			return err
		}
	}
	tv := unix.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
	return unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
}

func (c *Capture) read() {
	defer close(c.ended)
	defer unix.Close(c.fd)
	buf := make([]byte, 256<<10) // a GSO packet on a veth is up to 64 KiB
	flags := 0
	for {
		select {
		case <-c.stop:
			// Frames already queued on the socket were seen before Stop:
			// read them without waiting, then end.
			if flags == 0 {
				flags = unix.MSG_DONTWAIT
				continue
			}
		default:
		}
		n, from, err := unix.Recvfrom(c.fd, buf, flags)
		if errors.Is(err, unix.EAGAIN) && flags != 0 {
			c.readDrops()
			return
		}
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		ll, ok := from.(*unix.SockaddrLinklayer)
		if !ok || c.ifnames[ll.Ifindex] == "lo" {
			continue
		}
		c.add(Frame{Interface: c.ifnames[ll.Ifindex], Outgoing: ll.Pkttype == unix.PACKET_OUTGOING,
			Data: bytes.Clone(buf[:n])})
	}
}

func (c *Capture) add(f Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Frames++
	c.stats.Bytes += len(f.Data)
	if c.crossSite(f.Data) {
		c.stats.CrossSite++
	}
	if c.kept+len(f.Data) > c.limit {
		c.stats.NotKept++
		return
	}
	c.kept += len(f.Data)
	c.frames = append(c.frames, f)
}

func (c *Capture) readDrops() {
	st, err := unix.GetsockoptTpacketStats(c.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return
	}
	c.mu.Lock()
	c.stats.KernelDrops += int(st.Drops)
	c.mu.Unlock()
}

// crossSite reports whether an Ethernet frame carries IPv4 from one site's
// subnet to another's.
func (c *Capture) crossSite(frame []byte) bool {
	src, dst, ok := ipv4Addrs(frame)
	if !ok {
		return false
	}
	from, to := -1, -1
	for i, s := range c.sites {
		if s.Contains(src) {
			from = i
		}
		if s.Contains(dst) {
			to = i
		}
	}
	return from >= 0 && to >= 0 && from != to
}

// ipv4Addrs are the source and destination of an IPv4 packet in an
// Ethernet frame.
func ipv4Addrs(frame []byte) (src, dst netip.Addr, ok bool) {
	const ethHeader = 14
	if len(frame) < ethHeader+20 || binary.BigEndian.Uint16(frame[12:14]) != unix.ETH_P_IP {
		return src, dst, false
	}
	p := frame[ethHeader:]
	if p[0]>>4 != 4 {
		return src, dst, false
	}
	return netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20])), true
}

// Stop ends the capture (waiting for the reader to take the frames queued
// until then) and returns the frames kept. It may be called more than once.
func (c *Capture) Stop() []Frame {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.ended
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

// Err is why the capture stopped reading before Stop, nil if it did not.
func (c *Capture) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// Stats counts what the capture saw so far.
func (c *Capture) Stats() CaptureStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Containing are the kept frames holding payload byte for byte. A payload
// longer than one TCP segment may be split over frames: keep it short
// (well under 1400 bytes).
func (c *Capture) Containing(payload []byte) []Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Frame
	for _, f := range c.frames {
		if bytes.Contains(f.Data, payload) {
			out = append(out, f)
		}
	}
	return out
}

// AssertNotSeen stops the capture and fails the test unless it proves that
// payload never crossed the router in plain text: the payload is in no
// frame, every frame seen was kept (none dropped by the kernel or over
// the limit), and some traffic between sites was seen at all (an empty
// capture would prove nothing).
func (c *Capture) AssertNotSeen(t testing.TB, payload []byte) {
	t.Helper()
	c.Stop()
	st := c.Stats()
	if err := c.Err(); err != nil {
		t.Errorf("testbed: the capture stopped early (%v): it cannot show the payload never crossed", err)
	}
	if st.NotKept > 0 || st.KernelDrops > 0 {
		t.Errorf("testbed: the capture missed frames (%d over its limit, %d dropped by the kernel): it cannot show the payload never crossed; capture a shorter window", st.NotKept, st.KernelDrops)
	}
	if st.CrossSite == 0 {
		t.Errorf("testbed: the capture saw no IPv4 traffic between sites (%d frames in all): it cannot show the payload never crossed", st.Frames)
	}
	if seen := c.Containing(payload); len(seen) > 0 {
		f := seen[0]
		src, dst, _ := ipv4Addrs(f.Data)
		t.Errorf("testbed: payload %q crossed the router in plain text in %d frames; the first on %s (outgoing=%v) from %v to %v",
			payload, len(seen), f.Interface, f.Outgoing, src, dst)
	}
}
