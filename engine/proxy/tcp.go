package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
)

// tcpFrontend accepts connections on one address and splices each to an
// endpoint chosen by its balancer.
type tcpFrontend struct {
	fe    Frontend
	ln    net.Listener
	bal   *balancer
	conns *connSet
	log   *slog.Logger
}

func openTCP(ctx context.Context, fe Frontend, bal *balancer, conns *connSet, log *slog.Logger) (*tcpFrontend, error) {
	ln, err := listenTCP(ctx, fe.Addr.String())
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", fe, err)
	}
	f := &tcpFrontend{fe: fe, ln: ln, bal: bal, conns: conns, log: log}
	go f.serve(ctx)
	return f, nil
}

func (f *tcpFrontend) setRoute(r Route) { f.bal.setRoute(r) }

func (f *tcpFrontend) close() error { return f.ln.Close() }

func (f *tcpFrontend) serve(ctx context.Context) {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				f.log.Warn("accepting", "frontend", f.fe.String(), "err", err)
			}
			return
		}
		go f.handle(ctx, c.(*net.TCPConn))
	}
}

// handle connects a client to the first candidate endpoint that accepts,
// so a refused or unreachable endpoint costs the client a little time,
// not an error.
func (f *tcpFrontend) handle(ctx context.Context, client *net.TCPConn) {
	if !f.conns.add(client) {
		client.Close()
		return
	}
	defer f.conns.remove(client)
	clientIP := client.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	var upstream *net.TCPConn
	for _, ep := range f.bal.candidates(clientIP) {
		c, err := f.dial(ctx, ep)
		if err != nil {
			f.bal.health.failed(ep)
			f.log.Debug("endpoint refused", "frontend", f.fe.String(), "endpoint", ep.String(), "err", err)
			continue
		}
		f.bal.health.succeeded(ep)
		f.bal.connected(clientIP, ep)
		upstream = c
		break
	}
	if upstream == nil {
		// Closing without a byte tells the client no endpoint could take it.
		client.SetLinger(0)
		client.Close()
		return
	}
	if !f.conns.add(upstream) {
		upstream.Close()
		client.Close()
		return
	}
	defer f.conns.remove(upstream)
	splice(client, upstream)
}

func (f *tcpFrontend) dial(ctx context.Context, ep netip.AddrPort) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: f.bal.tuning.DialTimeout}
	c, err := d.DialContext(ctx, "tcp", ep.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// splice copies both ways (the kernel's splice under io.Copy between TCP
// connections) and passes each side's end of stream on as a half close; an
// error on either side (a reset) ends both.
func splice(a, b *net.TCPConn) {
	var wg sync.WaitGroup
	pipe := func(dst, src *net.TCPConn) {
		if _, err := io.Copy(dst, src); err != nil {
			a.Close()
			b.Close()
			return
		}
		_ = dst.CloseWrite()
	}
	wg.Go(func() { pipe(b, a) })
	pipe(a, b)
	wg.Wait()
	a.Close()
	b.Close()
}

// connSet tracks open connections so shutdown can close them.
type connSet struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func newConnSet() *connSet { return &connSet{conns: map[net.Conn]struct{}{}} }

func (s *connSet) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *connSet) remove(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
}
