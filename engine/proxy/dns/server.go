package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// Server is the cluster DNS server. Create it with New, then Start it.
type Server struct {
	cfg  Config
	zone string   // lower-case FQDN of the cluster domain
	soa  *dns.SOA // authority record of negative answers; shared, never mutated
	log  *slog.Logger
	// clients forward by the transport the query came on ("udp", "tcp").
	clients map[string]*dns.Client

	// ctx ends on Close and cancels forwarded queries in flight.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	started bool
	closed  bool
	servers []*dns.Server
	addrs   []string
	wg      sync.WaitGroup // serving goroutines
}

// New checks cfg, fills in its defaults and returns an unstarted Server.
func New(cfg Config) (*Server, error) {
	if cfg.Source == nil {
		return nil, ErrNoSource
	}
	if len(cfg.Addrs) == 0 {
		return nil, ErrNoAddrs
	}
	if cfg.Domain == "" {
		cfg.Domain = DefaultDomain
	}
	zone := dns.Fqdn(strings.ToLower(cfg.Domain))
	if _, ok := dns.IsDomainName(zone); !ok || zone == "." || strings.Contains(zone, `\`) {
		return nil, fmt.Errorf("%w: domain %q", ErrBadConfig, cfg.Domain)
	}
	for _, a := range cfg.Addrs {
		if err := checkHostPort(a, true); err != nil {
			return nil, fmt.Errorf("%w: listen address %q: %w", ErrBadConfig, a, err)
		}
	}
	for _, a := range cfg.Upstreams {
		if err := checkHostPort(a, false); err != nil {
			return nil, fmt.Errorf("%w: upstream %q: %w", ErrBadConfig, a, err)
		}
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg:  cfg,
		zone: zone,
		soa: &dns.SOA{
			Hdr:  dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: cfg.TTL},
			Ns:   "ns.dns." + zone,
			Mbox: "hostmaster." + zone,
			// The zone is generated, not transferred: the serial only has
			// to be plausible.
			Serial:  uint32(time.Now().Unix()),
			Refresh: 7200,
			Retry:   1800,
			Expire:  86400,
			// Minttl caps negative caching, so a new service resolves
			// within one TTL of appearing.
			Minttl: cfg.TTL,
		},
		log: cfg.Log,
		clients: map[string]*dns.Client{
			"udp": {Net: "udp", Timeout: upstreamTimeout},
			"tcp": {Net: "tcp", Timeout: upstreamTimeout},
		},
		ctx:    ctx,
		cancel: cancel,
	}, nil
}

// checkHostPort accepts "ip:port", and ":port" (every address) when
// anyHost is set.
func checkHostPort(addr string, anyHost bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if net.ParseIP(host) == nil && (host != "" || !anyHost) {
		return fmt.Errorf("host %q is not an IP address", host)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q: %w", port, err)
	}
	return nil
}

// Start binds every address over UDP and TCP and serves them in the
// background until ctx ends or Close is called. It returns once all
// listeners are serving; if one cannot be bound, none are left open and the
// error names the address.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.started:
		return ErrStarted
	}

	var servers []*dns.Server
	var addrs []string
	for _, a := range s.cfg.Addrs {
		pc, ln, err := listen(ctx, a)
		if err != nil {
			for _, srv := range servers {
				closeListeners(srv)
			}
			return fmt.Errorf("dns: listening on %s: %w", a, err)
		}
		handler := dns.HandlerFunc(s.serveDNS)
		servers = append(servers,
			&dns.Server{PacketConn: pc, Handler: handler, UDPSize: udpBufferSize},
			&dns.Server{Listener: ln, Handler: handler})
		addrs = append(addrs, pc.LocalAddr().String())
	}
	if err := s.activate(servers); err != nil {
		return err
	}
	s.servers, s.addrs, s.started = servers, addrs, true
	s.log.Info("cluster DNS serving", "domain", strings.TrimSuffix(s.zone, "."),
		"addrs", addrs, "upstreams", s.cfg.Upstreams)

	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.ctx.Done():
		}
	}()
	return nil
}

// activate runs every server in its own goroutine and waits until each is
// serving or has failed; on a failure all are shut down.
func (s *Server) activate(servers []*dns.Server) error {
	type outcome struct {
		srv *dns.Server
		err error
	}
	outcomes := make(chan outcome, len(servers))
	for _, srv := range servers {
		srv.NotifyStartedFunc = func() { outcomes <- outcome{srv: srv} }
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := srv.ActivateAndServe()
			if err == nil {
				return
			}
			select {
			case outcomes <- outcome{srv: srv, err: err}:
			default:
			}
			if s.ctx.Err() == nil {
				s.log.Error("cluster DNS listener stopped", "addr", listenerAddr(srv), "err", err)
			}
		}()
	}
	var errs []error
	for range servers {
		if o := <-outcomes; o.err != nil {
			errs = append(errs, fmt.Errorf("dns: serving %s: %w", listenerAddr(o.srv), o.err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	for _, srv := range servers {
		_ = srv.Shutdown()
		closeListeners(srv)
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// listen binds addr over UDP and then TCP on the same port. For port 0 the
// port the UDP socket got may be taken for TCP; a few fresh ports are tried.
func listen(ctx context.Context, addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	var lc net.ListenConfig
	for attempt := 0; ; attempt++ {
		pc, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("udp: %w", err)
		}
		_, bound, _ := net.SplitHostPort(pc.LocalAddr().String())
		ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, bound))
		if err == nil {
			return pc, ln, nil
		}
		_ = pc.Close()
		if port != "0" || attempt >= 5 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("tcp: %w", err)
		}
	}
}

func listenerAddr(srv *dns.Server) string {
	if srv.PacketConn != nil {
		return "udp " + srv.PacketConn.LocalAddr().String()
	}
	return "tcp " + srv.Listener.Addr().String()
}

func closeListeners(srv *dns.Server) {
	if srv.PacketConn != nil {
		_ = srv.PacketConn.Close()
	}
	if srv.Listener != nil {
		_ = srv.Listener.Close()
	}
}

// Addrs returns the bound UDP addresses, in the order of Config.Addrs (the
// TCP listeners have the same ports). It is empty before Start.
func (s *Server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.addrs...)
}

// Close stops serving, cancels forwarded queries and waits for the serving
// goroutines. It may be called more than once and before Start.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cancel()
	servers := s.servers
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, fmt.Errorf("dns: shutting down %s: %w", listenerAddr(srv), err))
		}
	}
	s.wg.Wait()
	return errors.Join(errs...)
}
