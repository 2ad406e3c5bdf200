package proxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// testServiceCIDR is inside 127.0.0.0/8, which is local without any
// address on an interface, so these tests need no privileges.
var testServiceCIDR = netip.MustParsePrefix("127.77.0.0/24")

// backend is an HTTP server standing in for one pod.
type backend struct {
	name string
	ln   net.Listener
	srv  *http.Server
	hits atomic.Int64
}

func startBackend(t *testing.T, ip string) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: ip, ln: ln}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		if r.URL.Path == "/slow" {
			time.Sleep(500 * time.Millisecond)
		}
		fmt.Fprint(w, b.name)
	})}
	go b.srv.Serve(ln)
	t.Cleanup(func() { b.srv.Close() })
	return b
}

func (b *backend) addrPort() netip.AddrPort { return b.ln.Addr().(*net.TCPAddr).AddrPort() }

type proxyEnv struct {
	t       *testing.T
	cl      *client.Client
	proxier *Proxier
	svc     *api.Service
}

func startProxy(t *testing.T, svc *api.Service, tuning Tuning) *proxyEnv {
	t.Helper()
	env := testenv.Start(t, testenv.WithConfig(func(c *controlplane.Config) { c.ServiceCIDR = testServiceCIDR }))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	created, err := env.Client.Services("default").Create(ctx, svc, client.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !testServiceCIDR.Contains(netip.MustParseAddr(created.Spec.ClusterIP)) {
		t.Fatalf("cluster IP %s outside %s", created.Spec.ClusterIP, testServiceCIDR)
	}
	svcs := client.NewInformer(env.Client.Services(""), client.ListOptions{})
	eps := client.NewInformer(env.Client.Endpoints(""), client.ListOptions{})
	node := func() []netip.Addr {
		return []netip.Addr{netip.MustParseAddr("127.0.55.200"), netip.MustParseAddr("127.0.55.201")}
	}
	p := New(Config{Services: svcs, Endpoints: eps, NodeAddresses: node, Tuning: tuning, Log: testenv.Logger(t)})
	go svcs.Run(ctx)
	go eps.Run(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-p.Synced():
	case <-time.After(10 * time.Second):
		t.Fatal("proxy never synced")
	}
	return &proxyEnv{t: t, cl: env.Client, proxier: p, svc: created}
}

// setEndpoints writes the service's endpoints as the endpoints controller would.
func (e *proxyEnv) setEndpoints(ready ...*backend) {
	e.t.Helper()
	ep := &api.Endpoints{ObjectMeta: api.ObjectMeta{Namespace: e.svc.Namespace, Name: e.svc.Name}}
	for _, b := range ready {
		ap := b.addrPort()
		ep.Subsets = append(ep.Subsets, api.EndpointSubset{
			Addresses: []api.EndpointAddress{{IP: ap.Addr().String()}},
			Ports:     []api.EndpointPort{{Name: e.svc.Spec.Ports[0].Name, Port: int32(ap.Port()), Protocol: api.ProtocolTCP}}})
	}
	ctx := context.Background()
	cur, err := e.cl.Endpoints(e.svc.Namespace).Get(ctx, e.svc.Name)
	if api.IsNotFound(err) {
		_, err = e.cl.Endpoints(e.svc.Namespace).Create(ctx, ep, client.WriteOptions{})
	} else if err == nil {
		ep.ResourceVersion = cur.ResourceVersion
		_, err = e.cl.Endpoints(e.svc.Namespace).Update(ctx, ep, client.WriteOptions{})
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *proxyEnv) url(path string) string {
	return fmt.Sprintf("http://%s:%d%s", e.svc.Spec.ClusterIP, e.svc.Spec.Ports[0].Port, path)
}

// get fetches through the service on a fresh connection, as a new client would.
func get(url string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// waitServedBy waits until requests reach exactly the named backends.
func (e *proxyEnv) waitServedBy(within time.Duration, want ...*backend) time.Duration {
	e.t.Helper()
	start := time.Now()
	wantSet := map[string]bool{}
	for _, b := range want {
		wantSet[b.name] = true
	}
	for {
		seen := map[string]bool{}
		ok := true
		for range 3 * len(want) {
			body, err := get(e.url("/"))
			if err != nil || !wantSet[body] {
				ok = false
				break
			}
			seen[body] = true
		}
		if ok && len(seen) == len(want) {
			return time.Since(start)
		}
		if time.Since(start) > within {
			e.t.Fatalf("requests not served by exactly %v within %s (last round saw %v)", names(want), within, seen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func names(bs []*backend) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.name)
	}
	return out
}

func webService(affinity string) *api.Service {
	return &api.Service{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: api.ServiceSpec{Selector: map[string]string{"app": "web"}, SessionAffinity: affinity,
			Ports: []api.ServicePort{{Name: "http", Port: 80, TargetPort: api.FromInt(8080)}}}}
}

func TestProxyRoundRobinAndEndpointChanges(t *testing.T) {
	e := startProxy(t, webService(""), Tuning{})
	b1, b2, b3 := startBackend(t, "127.0.55.1"), startBackend(t, "127.0.55.2"), startBackend(t, "127.0.55.3")

	if _, err := get(e.url("/")); err == nil {
		t.Fatal("a service without endpoints answered")
	}
	e.setEndpoints(b1, b2, b3)
	e.waitServedBy(time.Second, b1, b2, b3)
	// Strict rotation over the three.
	var order []string
	for range 6 {
		body, err := get(e.url("/"))
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, body)
	}
	for i := 3; i < 6; i++ {
		if order[i] != order[i-3] {
			t.Fatalf("not round robin: %v", order)
		}
	}

	e.setEndpoints(b1, b3)
	took := e.waitServedBy(time.Second, b1, b3)
	t.Logf("endpoint removal applied in %s", took)
	before := b2.hits.Load()
	for range 20 {
		if _, err := get(e.url("/")); err != nil {
			t.Fatal(err)
		}
	}
	if b2.hits.Load() != before {
		t.Fatal("a removed endpoint still received requests")
	}
}

func TestProxyRetriesRefusingEndpoint(t *testing.T) {
	e := startProxy(t, webService(""), Tuning{})
	b1, b2 := startBackend(t, "127.0.55.11"), startBackend(t, "127.0.55.12")
	e.setEndpoints(b1, b2)
	e.waitServedBy(time.Second, b1, b2)
	b2.srv.Close() // b2's process dies; its endpoint is still listed
	for i := range 50 {
		body, err := get(e.url("/"))
		if err != nil {
			t.Fatalf("request %d failed although b1 is up: %v", i, err)
		}
		if body != b1.name {
			t.Fatalf("request %d served by %q", i, body)
		}
	}
}

func TestProxyDrainsOpenConnections(t *testing.T) {
	e := startProxy(t, webService(""), Tuning{})
	b1, b2 := startBackend(t, "127.0.55.21"), startBackend(t, "127.0.55.22")
	e.setEndpoints(b1)
	e.waitServedBy(time.Second, b1)

	// A slow request in flight on b1 while b1 leaves the endpoints.
	result := make(chan string, 1)
	go func() {
		body, err := get(e.url("/slow"))
		if err != nil {
			body = "error: " + err.Error()
		}
		result <- body
	}()
	time.Sleep(100 * time.Millisecond)
	e.setEndpoints(b2)
	e.waitServedBy(time.Second, b2)
	if got := <-result; got != b1.name {
		t.Fatalf("in-flight request to a removed endpoint: %q, want it to finish on %s", got, b1.name)
	}
}

func TestProxyClientIPAffinity(t *testing.T) {
	e := startProxy(t, webService(api.SessionAffinityClientIP), Tuning{})
	bs := []*backend{startBackend(t, "127.0.55.31"), startBackend(t, "127.0.55.32"), startBackend(t, "127.0.55.33")}
	e.setEndpoints(bs...)
	deadline := time.Now().Add(time.Second)
	var first string
	for first == "" {
		first, _ = get(e.url("/"))
		if time.Now().After(deadline) {
			t.Fatal("service never answered")
		}
	}
	for range 20 {
		if body, err := get(e.url("/")); err != nil || body != first {
			t.Fatalf("affinity broken: %q (%v), want %q", body, err, first)
		}
	}
}

func TestProxyUDP(t *testing.T) {
	svc := &api.Service{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "echo"},
		Spec: api.ServiceSpec{Selector: map[string]string{"app": "echo"},
			Ports: []api.ServicePort{{Port: 53, Protocol: api.ProtocolUDP}}}}
	e := startProxy(t, svc, Tuning{})
	pc, err := net.ListenPacket("udp", "127.0.55.41:0")
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
			pc.WriteTo([]byte("echo:"+string(buf[:n])), from)
		}
	}()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	_, err = e.cl.Endpoints("default").Create(context.Background(), &api.Endpoints{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "echo"},
		Subsets: []api.EndpointSubset{{Addresses: []api.EndpointAddress{{IP: "127.0.55.41"}}, Ports: []api.EndpointPort{{Port: int32(port), Protocol: api.ProtocolUDP}}}}},
		client.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", net.JoinHostPort(e.svc.Spec.ClusterIP, "53"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		conn.Write([]byte("ping"))
		conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		buf := make([]byte, 100)
		n, err := conn.Read(buf)
		if err == nil {
			if got := string(buf[:n]); !strings.HasPrefix(got, "echo:ping") {
				t.Fatalf("UDP answer %q", got)
			}
			return
		}
	}
	t.Fatal("no UDP answer through the service within 2s")
}

func TestProxyRoundRobinSpansClusterIPAndNodePorts(t *testing.T) {
	svc := webService("")
	svc.Spec.Type = api.ServiceTypeNodePort
	e := startProxy(t, svc, Tuning{})
	b1, b2 := startBackend(t, "127.0.55.51"), startBackend(t, "127.0.55.52")
	e.setEndpoints(b1, b2)
	e.waitServedBy(time.Second, b1, b2)
	port := e.svc.Spec.Ports[0].NodePort
	// Consecutive requests through different frontends of the service
	// (two node addresses, then the cluster IP) take turns.
	var order []string
	for _, url := range []string{fmt.Sprintf("http://127.0.55.200:%d/", port), fmt.Sprintf("http://127.0.55.201:%d/", port), e.url("/")} {
		body, err := get(url)
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, body)
	}
	if order[0] == order[1] || order[1] == order[2] {
		t.Fatalf("frontends of one service port do not share a rotation: %v", order)
	}
}
