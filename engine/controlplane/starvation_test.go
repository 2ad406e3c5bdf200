package controlplane_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// TestSlowClientsCannotStarveControllers: a viewer token holds 1,000 slow
// requests (900 POSTs that declare 100 KB and send 1 byte, 100 GETs that
// send their headers a byte at a time) while simulated nodes heartbeat
// with node tokens and the node lifecycle controller watches them. No node
// may go NotReady, and an admin GET must keep answering.
//
// Not parallel: node heartbeats have a 10 s grace period, and the test
// should measure the server's seats, not how many tests share two cores.
func TestSlowClientsCannotStarveControllers(t *testing.T) {
	// Heartbeats every 500 ms; NotReady after 10 s without. The slow
	// bodies may take a minute (so the attack is not a reconnection storm
	// that measures CPU rather than seats), and the store gets time to
	// answer on a loaded machine (that is TestEtcdOutageFailsFast's topic).
	c := cluster.Start(t, func(o *cluster.Options) {
		o.ControlPlane = func(cfg *controlplane.Config) {
			cfg.Limits.BodyTimeout = time.Minute
			cfg.EtcdRequestTimeout = 10 * time.Second
		}
	})

	ctx := c.Ctx
	var nodes []string
	for i := range 5 {
		name := fmt.Sprintf("starve-%d", i)
		c.AddNode(t, simnode.NodeSpec{Name: name, Client: c.ClientAs(t, "node", name)})
		nodes = append(nodes, name)
	}
	cluster.Eventually(t, 30*time.Second, "nodes ready", func() (bool, string) {
		notReady := notReadyNodes(t, c, nodes)
		return len(notReady) == 0, fmt.Sprint(notReady)
	})
	if _, err := c.Client.ConfigMaps("default").Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "cm-0"}}); err != nil {
		t.Fatal(err)
	}
	viewer, err := c.Client.CreateToken(ctx, api.TokenRequest{Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}

	// Node readiness is sampled from the store from the first slow
	// request until 3 s after the last (the lifecycle controller may act
	// on what it saw once the attack ends).
	f := &findings{began: time.Now()}
	samplerCtx, stopSampler := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for samplerCtx.Err() == nil {
			if notReady := notReadyNodes(t, c, nodes); len(notReady) > 0 {
				f.add(&f.nodes, "nodes not ready: %v", notReady)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}()
	attackCtx, stopAttack := context.WithCancel(ctx)
	a := newAttacker(t, c.Config.Server, c.Config.CertificateAuthorityData, viewer.Token)
	attacking := a.run(attackCtx, 900, 100)
	a.waitConnected(t, 1000, 60*time.Second)
	t.Logf("1000 slow requests sent after %s", time.Since(f.began).Round(time.Millisecond))

	probeAdmin(t, c, f, 25*time.Second)
	stopAttack()
	attacking.Wait()
	time.Sleep(3 * time.Second)
	stopSampler()
	<-sampled
	t.Logf("attacker answers: %s", a.answers())
	if len(f.nodes)+len(f.gets) > 0 {
		t.Fatalf("during the attack: %d admin GETs failed, first ones:\n%s\n%d samples found nodes not ready, first ones:\n%s",
			len(f.gets), strings.Join(f.gets[:min(len(f.gets), 5)], "\n"), len(f.nodes), strings.Join(f.nodes[:min(len(f.nodes), 5)], "\n"))
	}
}

// findings collects what went wrong during the attack, with when.
type findings struct {
	began       time.Time
	mu          sync.Mutex
	nodes, gets []string
}

func (f *findings) add(to *[]string, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*to = append(*to, fmt.Sprintf("%5.1fs: ", time.Since(f.began).Seconds())+fmt.Sprintf(format, args...))
}

// probeAdmin GETs an object as the admin every 250 ms for d and logs the
// latencies. Every GET must get an answer, never a 429. A 503 says the
// store did not answer in time: on a shared machine etcd can be starved of
// CPU by others; that is logged, it is not this test's subject.
func probeAdmin(t *testing.T, c *cluster.Cluster, f *findings, d time.Duration) {
	admin := newProbeClient(c.Config.CertificateAuthorityData)
	var latencies []time.Duration
	storeSlow := 0
	for until := time.Now().Add(d); time.Now().Before(until); time.Sleep(250 * time.Millisecond) {
		code, took, err := admin.get(c.Config.Server+"/v1/namespaces/default/configmaps/cm-0", c.Config.Token)
		latencies = append(latencies, took)
		switch {
		case err == nil && code == http.StatusServiceUnavailable:
			storeSlow++
		case err != nil || code != http.StatusOK:
			f.add(&f.gets, "admin GET: %d %v after %s", code, err, took.Round(time.Millisecond))
		}
	}
	slices.Sort(latencies)
	pct := func(p int) time.Duration { return latencies[(len(latencies)-1)*p/100].Round(time.Millisecond) }
	t.Logf("admin GET during the attack: %d requests (%d answered 503: the store was slow), p50 %s, p90 %s, max %s",
		len(latencies), storeSlow, pct(50), pct(90), pct(100))
}

// notReadyNodes reads the nodes from the store (not through the API under
// attack) and returns those whose Ready condition is not True.
func notReadyNodes(t *testing.T, c *cluster.Cluster, names []string) []string {
	t.Helper()
	var out []string
	for _, name := range names {
		kv, err := c.CP.Store().Get(context.Background(), "/nodes/"+name)
		if err != nil {
			// Not a verdict on the node: the store was slow to answer
			// this read (the machine is shared); the next sample decides.
			t.Logf("reading node %s: %v", name, err)
			continue
		}
		var n api.Node
		if err := json.Unmarshal(kv.Value, &n); err != nil {
			t.Fatal(err)
		}
		if cond := api.FindCondition(n.Status.Conditions, api.NodeReady); cond == nil || cond.Status != api.ConditionTrue {
			out = append(out, name)
		}
	}
	return out
}

// attacker opens slow requests over raw TLS connections.
type attacker struct {
	host, token string
	tls         *tls.Config

	mu    sync.Mutex
	conns int            // workers that sent their first request
	codes map[string]int // status codes of the answers, counted
}

func newAttacker(t *testing.T, server, caPEM, token string) *attacker {
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caPEM))
	return &attacker{host: u.Host, token: token, codes: map[string]int{},
		// Resumed sessions make 1,000 handshakes cheap: CPU is not what
		// this attack is about.
		tls: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"},
			ClientSessionCache: tls.NewLRUClientSessionCache(16)}}
}

// run starts posts slow POSTs and gets slow GETs, 5 ms apart (a ramp,
// not one burst of handshakes), until ctx ends.
func (a *attacker) run(ctx context.Context, posts, gets int) *sync.WaitGroup {
	var wg sync.WaitGroup
	for i := range posts + gets {
		if i < posts {
			wg.Go(func() { a.slowPOST(ctx) })
		} else {
			wg.Go(func() { a.slowGET(ctx) })
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &wg
}

func (a *attacker) dial(ctx context.Context) (*tls.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", a.host)
	if err != nil {
		return nil, err
	}
	conn := tls.Client(raw, a.tls)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return conn, nil
}

// slowPOST declares a 100 KB body and, once the server asks for it (the
// request says "Expect: 100-continue", as curl does for large bodies),
// sends one byte and waits for the server to answer or hang up; then it
// starts over, until ctx ends. A server that refuses the request at once
// (429) is asked again a second later, so the attacker takes every seat
// that frees up.
func (a *attacker) slowPOST(ctx context.Context) {
	first := true
	for ctx.Err() == nil {
		conn, err := a.dial(ctx)
		if err == nil {
			_, err = fmt.Fprintf(conn, "POST /v1/namespaces/default/configmaps HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
				"Content-Type: application/json\r\nContent-Length: 102400\r\nExpect: 100-continue\r\n\r\n", a.host, a.token)
		}
		if err == nil {
			if first {
				a.connected()
				first = false
			}
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			br := bufio.NewReader(conn)
			status, _ := br.ReadString('\n')
			if strings.Contains(status, " 100 ") {
				_, _ = br.ReadString('\n') // the blank line after 100 Continue
				if _, err := conn.Write([]byte("{")); err == nil {
					status, _ = br.ReadString('\n')
				}
			}
			if ctx.Err() == nil {
				a.count(status)
			}
			stop()
			conn.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second + rand.N(2*time.Second)): // spread the reconnects
		}
	}
}

// slowGET sends its request line and headers one byte every 2 seconds
// (slowloris), and starts over when the server hangs up.
func (a *attacker) slowGET(ctx context.Context) {
	req := fmt.Sprintf("GET /v1/namespaces/default/configmaps HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", a.host, a.token)
	first := true
	for ctx.Err() == nil {
		conn, err := a.dial(ctx)
		if err != nil {
			continue
		}
		if first {
			a.connected()
			first = false
		}
		for i := 0; i < len(req) && ctx.Err() == nil; i++ {
			if _, err := conn.Write([]byte{req[i]}); err != nil {
				a.count("hung up on a slow header")
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
		conn.Close()
	}
}

func (a *attacker) connected() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.conns++
}

// count records an answer by its status code.
func (a *attacker) count(answer string) {
	if f := strings.Fields(answer); len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
		answer = f[1]
	}
	if answer == "" {
		answer = "no answer"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.codes[answer]++
}

func (a *attacker) waitConnected(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		a.mu.Lock()
		got := a.conns
		a.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d slow requests sent within %s", got, n, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (a *attacker) answers() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return fmt.Sprint(a.codes)
}

// probeClient sends one request at a time, without the typed client's
// retries, so a refusal shows.
type probeClient struct{ http *http.Client }

func newProbeClient(caPEM string) *probeClient {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caPEM))
	return &probeClient{http: &http.Client{Timeout: 15 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
}

func (p *probeClient) get(u, token string) (int, time.Duration, error) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, time.Since(start), err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, time.Since(start), nil
}
