package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/maestro-dev/maestro/engine/api"
)

// upstream is a tiny resolver on loopback answering example.test. and
// recording the transports it was asked over.
type upstream struct {
	addr string
	mu   sync.Mutex
	nets []string
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	pc, ln, err := listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{addr: pc.LocalAddr().String()}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		u.mu.Lock()
		u.nets = append(u.nets, w.RemoteAddr().Network())
		u.mu.Unlock()
		m := new(dns.Msg).SetReply(r)
		if q := r.Question[0]; q.Name == "example.test." && q.Qtype == dns.TypeA {
			rr, _ := dns.NewRR("example.test. 60 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		} else {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.ActivateAndServe()
		}()
		<-started
		t.Cleanup(func() {
			_ = srv.Shutdown()
			<-done
		})
	}
	return u
}

func (u *upstream) transports() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.nets...)
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	_ = pc.Close()
	return addr
}

func TestForward(t *testing.T) {
	up := startUpstream(t)
	_, addr := startServer(t, Config{Upstreams: []string{deadAddr(t), up.addr}})
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			in := query(t, network, addr, "example.test.", dns.TypeA)
			if in.Rcode != dns.RcodeSuccess || len(in.Answer) != 1 {
				t.Fatalf("got %s %v, want one A record", dns.RcodeToString[in.Rcode], in.Answer)
			}
			if a, ok := in.Answer[0].(*dns.A); !ok || a.A.String() != "192.0.2.1" {
				t.Errorf("answer = %v, want 192.0.2.1", in.Answer[0])
			}
			if in.Authoritative {
				t.Error("forwarded answer has the AA bit")
			}
			if in := query(t, network, addr, "missing.test.", dns.TypeA); in.Rcode != dns.RcodeNameError {
				t.Errorf("missing.test.: rcode %s, want NXDOMAIN", dns.RcodeToString[in.Rcode])
			}
			nets := up.transports()
			if got := nets[len(nets)-1]; got != network {
				t.Errorf("upstream asked over %s, want %s", got, network)
			}
		})
	}
}

func TestForwardAllUpstreamsDown(t *testing.T) {
	_, addr := startServer(t, Config{Upstreams: []string{deadAddr(t)}})
	if in := query(t, "udp", addr, "example.test.", dns.TypeA); in.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[in.Rcode])
	}
}

func TestRefusedWithoutUpstreams(t *testing.T) {
	_, addr := startServer(t, Config{})
	for _, network := range []string{"udp", "tcp"} {
		if in := query(t, network, addr, "example.test.", dns.TypeA); in.Rcode != dns.RcodeRefused {
			t.Errorf("%s: rcode %s, want REFUSED", network, dns.RcodeToString[in.Rcode])
		}
	}
}

func TestTruncation(t *testing.T) {
	src := testSource()
	ep := &api.Endpoints{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "big"}, Subsets: []api.EndpointSubset{{}}}
	for i := range 100 {
		ep.Subsets[0].Addresses = append(ep.Subsets[0].Addresses, api.EndpointAddress{IP: fmt.Sprintf("10.1.0.%d", i+1)})
	}
	src.services["default/big"] = service("default", "big", "None")
	src.endpoints["default/big"] = ep
	_, addr := startServer(t, Config{Source: src})
	const name = "big.default.svc.cluster.local."

	in := query(t, "udp", addr, name, dns.TypeA)
	in.Compress = true // as it was sent
	if !in.Truncated || in.Len() > dns.MinMsgSize {
		t.Errorf("UDP without EDNS0: TC=%v, %d bytes; want truncated to 512", in.Truncated, in.Len())
	}
	m := new(dns.Msg).SetQuestion(name, dns.TypeA).SetEdns0(4096, false)
	in, _, err := (&dns.Client{Net: "udp"}).Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	if in.Truncated || len(in.Answer) != 100 || in.IsEdns0() == nil {
		t.Errorf("UDP with EDNS0 4096: TC=%v, %d answers, OPT %v; want all 100 and an OPT", in.Truncated, len(in.Answer), in.IsEdns0())
	}
	if in := query(t, "tcp", addr, name, dns.TypeA); in.Truncated || len(in.Answer) != 100 {
		t.Errorf("TCP: TC=%v, %d answers; want all 100", in.Truncated, len(in.Answer))
	}
}

func TestStartAddressInUse(t *testing.T) {
	tests := []struct {
		name string
		bind func(addr string) (func() error, error)
	}{
		{"udp", func(addr string) (func() error, error) {
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return nil, err
			}
			return pc.Close, nil
		}},
		{"tcp", func(addr string) (func() error, error) {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return nil, err
			}
			return ln.Close, nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Another process may take the free port first: try a few.
			var taken string
			var closeTaken func() error
			var err error
			for range 5 {
				taken = deadAddr(t)
				if closeTaken, err = tc.bind(taken); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatalf("binding a free port to hold: %v", err)
			}
			t.Cleanup(func() { _ = closeTaken() })
			s, err := New(Config{Addrs: []string{"127.0.0.1:0", taken}, Source: testSource()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			err = s.Start(t.Context())
			if err == nil || !strings.Contains(err.Error(), taken) {
				t.Fatalf("Start = %v, want an error naming %s", err, taken)
			}
			if got := s.Addrs(); len(got) != 0 {
				t.Errorf("Addrs after failed Start = %v, want none", got)
			}
		})
	}
}

func TestStopOnContextEnd(t *testing.T) {
	s, err := New(Config{Addrs: []string{"127.0.0.1:0"}, Source: testSource()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	addr := s.Addrs()[0]
	if err := s.Start(ctx); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start = %v, want ErrStarted", err)
	}
	cancel()
	// The port is released once serving has stopped.
	deadline := time.Now().Add(5 * time.Second)
	for {
		pc, err := net.ListenPacket("udp", addr)
		if err == nil {
			_ = pc.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still bound after the context ended", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after context end = %v", err)
	}
	if err := s.Start(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	src := testSource()
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"no source", Config{Addrs: []string{"127.0.0.1:53"}}, ErrNoSource},
		{"no addrs", Config{Source: src}, ErrNoAddrs},
		{"bad addr", Config{Source: src, Addrs: []string{"localhost"}}, ErrBadConfig},
		{"hostname addr", Config{Source: src, Addrs: []string{"dns.local:53"}}, ErrBadConfig},
		{"bad upstream", Config{Source: src, Addrs: []string{":53"}, Upstreams: []string{":53"}}, ErrBadConfig},
		{"bad domain", Config{Source: src, Addrs: []string{":53"}, Domain: "a..b"}, ErrBadConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); !errors.Is(err, tc.want) {
				t.Errorf("New = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestProtocolErrors(t *testing.T) {
	_, addr := startServer(t, Config{})
	newQuery := func() *dns.Msg { return new(dns.Msg).SetQuestion("web.default.svc.cluster.local.", dns.TypeA) }
	tests := []struct {
		name  string
		msg   func() *dns.Msg
		rcode int
	}{
		{"EDNS0 version 1", func() *dns.Msg {
			m := newQuery().SetEdns0(1232, false)
			m.IsEdns0().SetVersion(1)
			return m
		}, dns.RcodeBadVers},
		{"NOTIFY", func() *dns.Msg {
			m := newQuery()
			m.Opcode = dns.OpcodeNotify
			return m
		}, dns.RcodeNotImplemented},
		{"CHAOS class", func() *dns.Msg {
			m := newQuery()
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}, dns.RcodeRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, _, err := (&dns.Client{Net: "udp"}).Exchange(tc.msg(), addr)
			if err != nil {
				t.Fatal(err)
			}
			if in.Rcode != tc.rcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[in.Rcode], dns.RcodeToString[tc.rcode])
			}
		})
	}
}
