package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// udpFrontend relays datagrams: each client address gets a session, a
// connected socket to one endpoint, whose replies go back to the client
// from the frontend's address. A session ends after UDPIdleTimeout without
// traffic, when its endpoint leaves the route, or when the endpoint
// answers with ICMP unreachable (the next datagram then picks another).
type udpFrontend struct {
	fe  Frontend
	pc  *net.UDPConn
	bal *balancer
	log *slog.Logger

	mu       sync.Mutex
	sessions map[netip.AddrPort]*udpSession
}

type udpSession struct {
	backend netip.AddrPort
	conn    *net.UDPConn
}

func openUDP(ctx context.Context, fe Frontend, bal *balancer, log *slog.Logger) (*udpFrontend, error) {
	pc, err := listenUDP(ctx, fe.Addr.String())
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", fe, err)
	}
	f := &udpFrontend{fe: fe, pc: pc, bal: bal, log: log, sessions: map[netip.AddrPort]*udpSession{}}
	go f.serve()
	return f, nil
}

func (f *udpFrontend) setRoute(r Route) {
	f.bal.setRoute(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	for client, s := range f.sessions {
		if !slices.Contains(r.Backends, s.backend) {
			s.conn.Close()
			delete(f.sessions, client)
		}
	}
}

func (f *udpFrontend) close() error {
	err := f.pc.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for client, s := range f.sessions {
		s.conn.Close()
		delete(f.sessions, client)
	}
	return err
}

func (f *udpFrontend) serve() {
	buf := make([]byte, 64<<10)
	for {
		n, client, err := f.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				f.log.Warn("reading", "frontend", f.fe.String(), "err", err)
			}
			return
		}
		f.forward(client, buf[:n])
	}
}

// forward sends one datagram on the client's session, opening one on the
// first candidate endpoint that takes the write.
func (f *udpFrontend) forward(client netip.AddrPort, msg []byte) {
	f.mu.Lock()
	s := f.sessions[client]
	f.mu.Unlock()
	if s != nil {
		if _, err := s.conn.Write(msg); err == nil {
			return
		}
		f.endSession(client, s)
		f.bal.health.failed(s.backend)
	}
	for _, ep := range f.bal.candidates(client.Addr().Unmap()) {
		conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ep))
		if err == nil {
			_, err = conn.Write(msg)
		}
		if err != nil {
			if conn != nil {
				conn.Close()
			}
			f.bal.health.failed(ep)
			continue
		}
		f.bal.connected(client.Addr().Unmap(), ep)
		s := &udpSession{backend: ep, conn: conn}
		f.mu.Lock()
		f.sessions[client] = s
		f.mu.Unlock()
		go f.replies(client, s)
		return
	}
}

// replies copies an endpoint's answers back to the client until the session
// idles out or fails.
func (f *udpFrontend) replies(client netip.AddrPort, s *udpSession) {
	defer f.endSession(client, s)
	buf := make([]byte, 64<<10)
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(f.bal.tuning.UDPIdleTimeout))
		n, err := s.conn.Read(buf)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				if !errors.Is(err, net.ErrClosed) {
					f.bal.health.failed(s.backend) // ICMP unreachable: ECONNREFUSED
				}
			}
			return
		}
		f.bal.health.succeeded(s.backend)
		if _, err := f.pc.WriteToUDPAddrPort(buf[:n], client); err != nil {
			return
		}
	}
}

func (f *udpFrontend) endSession(client netip.AddrPort, s *udpSession) {
	s.conn.Close()
	f.mu.Lock()
	if f.sessions[client] == s {
		delete(f.sessions, client)
	}
	f.mu.Unlock()
}
