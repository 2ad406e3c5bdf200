package dns

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/maestro-dev/maestro/engine/api"
)

// fakeSource is a Source over maps, safe for concurrent use once built.
type fakeSource struct {
	services  map[string]*api.Service
	endpoints map[string]*api.Endpoints
	pods      map[string]bool // "namespace/ip"
}

var _ Source = (*fakeSource)(nil)

func (f *fakeSource) Service(namespace, name string) (*api.Service, bool) {
	s, ok := f.services[api.Key(namespace, name)]
	return s, ok
}

func (f *fakeSource) Endpoints(namespace, name string) (*api.Endpoints, bool) {
	e, ok := f.endpoints[api.Key(namespace, name)]
	return e, ok
}

func (f *fakeSource) PodIP(namespace, ip string) bool { return f.pods[namespace+"/"+ip] }

func service(ns, name, clusterIP string, ports ...api.ServicePort) *api.Service {
	return &api.Service{
		ObjectMeta: api.ObjectMeta{Namespace: ns, Name: name},
		Spec:       api.ServiceSpec{Type: api.ServiceTypeClusterIP, ClusterIP: clusterIP, Ports: ports},
	}
}

func testSource() *fakeSource {
	f := &fakeSource{
		services:  map[string]*api.Service{},
		endpoints: map[string]*api.Endpoints{},
		pods:      map[string]bool{"default/10.0.0.5": true, "default/fd00::5": true},
	}
	for _, s := range []*api.Service{
		service("default", "web", "10.96.0.10",
			api.ServicePort{Name: "http", Protocol: api.ProtocolTCP, Port: 80},
			api.ServicePort{Name: "dns", Protocol: "UDP", Port: 53},
			api.ServicePort{Protocol: api.ProtocolTCP, Port: 8080}),
		service("default", "db", "None", api.ServicePort{Name: "pg", Protocol: api.ProtocolTCP, Port: 15432}),
		service("default", "v6", "fd00::10", api.ServicePort{Name: "http", Port: 80}),
		service("default", "pending", ""),
	} {
		f.services[s.Key()] = s
	}
	f.endpoints["default/db"] = &api.Endpoints{
		ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "db"},
		Subsets: []api.EndpointSubset{{
			Addresses:         []api.EndpointAddress{{IP: "10.0.0.1", Hostname: "db-0"}, {IP: "10.0.0.2"}},
			NotReadyAddresses: []api.EndpointAddress{{IP: "10.0.0.3"}},
			Ports:             []api.EndpointPort{{Name: "pg", Port: 5432, Protocol: api.ProtocolTCP}},
		}},
	}
	return f
}

// startServer starts a server on a free loopback port and returns its address.
func startServer(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Source == nil {
		cfg.Source = testSource()
	}
	cfg.Addrs = []string{"127.0.0.1:0"}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, s.Addrs()[0]
}

func query(t testing.TB, network, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, qtype)
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	in, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return in
}

// rdata renders records without owner and TTL: "A 10.0.0.1".
func rdata(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		h := rr.Header()
		out = append(out, dns.TypeToString[h.Rrtype]+" "+strings.TrimPrefix(rr.String(), h.String()))
	}
	slices.Sort(out)
	return out
}

func TestClusterAnswers(t *testing.T) {
	const (
		nx   = dns.RcodeNameError
		ok   = dns.RcodeSuccess
		zone = "default.svc.cluster.local."
	)
	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		answer []string
		extra  []string
	}{
		{"service A", "web." + zone, dns.TypeA, ok, []string{"A 10.96.0.10"}, nil},
		{"case-insensitive", "WEB.Default.SVC.Cluster.LOCAL.", dns.TypeA, ok, []string{"A 10.96.0.10"}, nil},
		{"service AAAA is NODATA", "web." + zone, dns.TypeAAAA, ok, nil, nil},
		{"service MX is NODATA", "web." + zone, dns.TypeMX, ok, nil, nil},
		{"IPv6 service AAAA", "v6." + zone, dns.TypeAAAA, ok, []string{"AAAA fd00::10"}, nil},
		{"IPv6 service A is NODATA", "v6." + zone, dns.TypeA, ok, nil, nil},
		{"service without cluster IP yet", "pending." + zone, dns.TypeA, ok, nil, nil},
		{"headless A lists ready endpoints", "db." + zone, dns.TypeA, ok, []string{"A 10.0.0.1", "A 10.0.0.2"}, nil},
		{"headless endpoint by hostname", "db-0.db." + zone, dns.TypeA, ok, []string{"A 10.0.0.1"}, nil},
		{"headless endpoint by dashed IP", "10-0-0-2.db." + zone, dns.TypeA, ok, []string{"A 10.0.0.2"}, nil},
		{"not-ready endpoint", "10-0-0-3.db." + zone, dns.TypeA, nx, nil, nil},
		{"endpoint name of a cluster-IP service", "x.web." + zone, dns.TypeA, nx, nil, nil},
		{"SRV named TCP port", "_http._tcp.web." + zone, dns.TypeSRV, ok,
			[]string{"SRV 0 100 80 web.default.svc.cluster.local."}, []string{"A 10.96.0.10"}},
		{"SRV named UDP port", "_dns._udp.web." + zone, dns.TypeSRV, ok,
			[]string{"SRV 0 100 53 web.default.svc.cluster.local."}, []string{"A 10.96.0.10"}},
		{"SRV upper-case labels", "_HTTP._TCP.Web." + zone, dns.TypeSRV, ok,
			[]string{"SRV 0 100 80 web.default.svc.cluster.local."}, []string{"A 10.96.0.10"}},
		{"SRV of service name lists named ports", "web." + zone, dns.TypeSRV, ok,
			[]string{"SRV 0 100 53 web.default.svc.cluster.local.", "SRV 0 100 80 web.default.svc.cluster.local."},
			[]string{"A 10.96.0.10", "A 10.96.0.10"}},
		{"SRV wrong protocol", "_http._udp.web." + zone, dns.TypeSRV, nx, nil, nil},
		{"SRV unknown port", "_grpc._tcp.web." + zone, dns.TypeSRV, nx, nil, nil},
		{"A of SRV name is NODATA", "_http._tcp.web." + zone, dns.TypeA, ok, nil, nil},
		{"protocol node is NODATA", "_tcp.web." + zone, dns.TypeSRV, ok, nil, nil},
		{"SRV headless targets endpoints on target port", "_pg._tcp.db." + zone, dns.TypeSRV, ok,
			[]string{"SRV 0 50 5432 10-0-0-2.db.default.svc.cluster.local.", "SRV 0 50 5432 db-0.db.default.svc.cluster.local."},
			[]string{"A 10.0.0.1", "A 10.0.0.2"}},
		{"missing service", "nope." + zone, dns.TypeA, nx, nil, nil},
		{"missing namespace", "web.nope.svc.cluster.local.", dns.TypeA, nx, nil, nil},
		{"search path: namespace", "example.com." + zone, dns.TypeA, nx, nil, nil},
		{"search path: svc", "example.com.svc.cluster.local.", dns.TypeA, nx, nil, nil},
		{"search path: domain", "example.com.cluster.local.", dns.TypeA, nx, nil, nil},
		{"search path: deep name", "www.api.example.com." + zone, dns.TypeAAAA, nx, nil, nil},
		{"namespace node is NODATA", zone, dns.TypeA, ok, nil, nil},
		{"svc node is NODATA", "svc.cluster.local.", dns.TypeA, ok, nil, nil},
		{"apex SOA", "cluster.local.", dns.TypeSOA, ok,
			[]string{"SOA ns.dns.cluster.local. hostmaster.cluster.local."}, nil},
		{"pod verified", "10-0-0-5.default.pod.cluster.local.", dns.TypeA, ok, []string{"A 10.0.0.5"}, nil},
		{"pod verified AAAA is NODATA", "10-0-0-5.default.pod.cluster.local.", dns.TypeAAAA, ok, nil, nil},
		{"pod IPv6 verified", "fd00--5.default.pod.cluster.local.", dns.TypeAAAA, ok, []string{"AAAA fd00::5"}, nil},
		{"pod unverified IP", "10-0-0-6.default.pod.cluster.local.", dns.TypeA, nx, nil, nil},
		{"pod in other namespace", "10-0-0-5.other.pod.cluster.local.", dns.TypeA, nx, nil, nil},
		{"pod malformed IP", "10-0-0.default.pod.cluster.local.", dns.TypeA, nx, nil, nil},
		{"unknown kind", "web.default.xyz.cluster.local.", dns.TypeA, nx, nil, nil},
	}
	_, addr := startServer(t, Config{})
	for _, network := range []string{"udp", "tcp"} {
		for _, tc := range tests {
			t.Run(network+"/"+tc.name, func(t *testing.T) {
				in := query(t, network, addr, tc.qname, tc.qtype)
				if in.Rcode != tc.rcode {
					t.Fatalf("rcode = %s, want %s", dns.RcodeToString[in.Rcode], dns.RcodeToString[tc.rcode])
				}
				if !in.Authoritative {
					t.Error("AA bit not set")
				}
				got := rdata(in.Answer)
				if tc.qtype == dns.TypeSOA && len(got) == 1 {
					got[0] = strings.Join(strings.Fields(got[0])[:3], " ") // drop the timers
				}
				if !slices.Equal(got, tc.answer) {
					t.Errorf("answer = %q, want %q", got, tc.answer)
				}
				if got := rdata(in.Extra); !slices.Equal(got, tc.extra) {
					t.Errorf("extra = %q, want %q", got, tc.extra)
				}
				for _, rr := range in.Answer {
					if rr.Header().Ttl != DefaultTTL {
						t.Errorf("TTL = %d, want %d", rr.Header().Ttl, DefaultTTL)
					}
				}
				// Negative answers carry the SOA, so they are cached for the TTL only.
				if len(in.Answer) == 0 {
					if len(in.Ns) != 1 || in.Ns[0].Header().Rrtype != dns.TypeSOA {
						t.Errorf("authority = %v, want the zone's SOA", in.Ns)
					}
				}
			})
		}
	}
}

func TestConcurrentQueries(t *testing.T) {
	_, addr := startServer(t, Config{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				name := fmt.Sprintf("svc-%d-%d.default.svc.cluster.local.", i, j)
				if in := query(t, "udp", addr, name, dns.TypeA); in.Rcode != dns.RcodeNameError {
					t.Errorf("%s: rcode %s", name, dns.RcodeToString[in.Rcode])
				}
				if in := query(t, "udp", addr, "db.default.svc.cluster.local.", dns.TypeA); len(in.Answer) != 2 {
					t.Errorf("headless: %d answers", len(in.Answer))
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkServiceLookup measures A queries for a service over UDP on
// loopback, one connected socket per client goroutine.
func BenchmarkServiceLookup(b *testing.B) {
	_, addr := startServer(b, Config{})
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		c := &dns.Client{Net: "udp", Timeout: 5 * time.Second}
		conn, err := c.DialContext(context.Background(), addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		m := new(dns.Msg).SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
		for pb.Next() {
			in, _, err := c.ExchangeWithConn(m, conn)
			if err != nil {
				b.Error(err)
				return
			}
			if len(in.Answer) != 1 {
				b.Errorf("answer = %v", in.Answer)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}
