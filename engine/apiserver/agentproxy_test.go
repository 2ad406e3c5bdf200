package apiserver_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// fakeAgent serves logs like an agent, on addr, with the node's serving
// certificate, counting the requests that reach it.
type fakeAgent struct {
	srv  *httptest.Server
	hits atomic.Int32
}

func startAgent(t *testing.T, j *joined, addr string) *fakeAgent {
	t.Helper()
	a := &fakeAgent{}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(j.resp.CACertificate))
	a.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.hits.Add(1)
		fmt.Fprintf(w, "log of %s\n", j.name)
	})}}
	a.srv.TLS = &tls.Config{Certificates: []tls.Certificate{j.cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeAgent) port() int { return a.srv.Listener.Addr().(*net.TCPAddr).Port }

// register creates the node's Node object with its agent endpoint.
func register(t *testing.T, j *joined, endpoint string) {
	t.Helper()
	n, err := j.client.Nodes().Create(ctxT(t), &api.Node{ObjectMeta: api.ObjectMeta{Name: j.name}})
	if err != nil {
		t.Fatalf("registering %s: %v", j.name, err)
	}
	setEndpoint(t, j, n, endpoint)
}

func setEndpoint(t *testing.T, j *joined, n *api.Node, endpoint string) {
	t.Helper()
	if n == nil {
		var err error
		if n, err = j.client.Nodes().Get(ctxT(t), j.name); err != nil {
			t.Fatal(err)
		}
	}
	n.Status.DaemonEndpoint = endpoint
	if _, err := j.client.Nodes().UpdateStatus(ctxT(t), n); err != nil {
		t.Fatalf("node %s setting its endpoint to %s: %v", j.name, endpoint, err)
	}
}

// TestNodeCannotRedirectAgentEndpoint: the API server fetches logs and
// stats from agents. A node writes its own status, so the endpoint there
// must not let it point the server anywhere else: not at a plain HTTP URL
// on the server's machine (the embedded etcd's /metrics), not at another
// node's agent, not at an address it was not admitted with.
func TestNodeCannotRedirectAgentEndpoint(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	ctx := ctxT(t)

	// Node a joins from 127.0.0.1 (the address the server sees); node b is
	// admitted with 127.0.0.2 and 127.0.0.1 by its token.
	a := mustJoin(t, env, api.TokenRequest{TTLSeconds: 600}, "node-a", "127.0.0.1")
	b := mustJoin(t, env, api.TokenRequest{TTLSeconds: 600, Addresses: []string{"127.0.0.2", "127.0.0.1"}}, "node-b", "127.0.0.2", "127.0.0.1")
	agentA := startAgent(t, a, "127.0.0.1:0")
	agentB := startAgent(t, b, "127.0.0.2:0")
	agentBLoopback := startAgent(t, b, "127.0.0.1:0")
	register(t, a, fmt.Sprintf("https://127.0.0.1:%d", agentA.port()))
	register(t, b, fmt.Sprintf("https://127.0.0.2:%d", agentB.port()))
	if _, err := env.Client.Pods("default").Create(ctx, pod("p", "node-a")); err != nil {
		t.Fatal(err)
	}
	logs := func() (string, error) {
		var buf bytes.Buffer
		err := env.Client.PodLogs(ctx, "default", "p", client.LogOptions{}, &buf)
		return buf.String(), err
	}

	// The genuine endpoint works: the server reaches node a's agent.
	if out, err := logs(); err != nil || out != "log of node-a\n" {
		t.Fatalf("logs from node a's own agent: %q, %v", out, err)
	}
	if agentA.hits.Load() != 1 {
		t.Fatalf("node a's agent saw %d requests, want 1", agentA.hits.Load())
	}

	// A plain HTTP listener on the server's machine, like etcd's /metrics.
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainHits.Add(1)
		fmt.Fprintln(w, "etcd_server_has_leader 1")
	}))
	t.Cleanup(plain.Close)
	plainPort := plain.Listener.Addr().(*net.TCPAddr).Port

	cases := []struct {
		name, endpoint string
		victim         func() int32
	}{
		{"plain http to a local port", plain.URL + "/metrics", plainHits.Load},
		{"https to a local plain port", fmt.Sprintf("https://127.0.0.1:%d", plainPort), plainHits.Load},
		{"another node's agent at its address", fmt.Sprintf("https://127.0.0.2:%d", agentB.port()), agentB.hits.Load},
		{"another node's agent at an address both were admitted with", fmt.Sprintf("https://127.0.0.1:%d", agentBLoopback.port()), agentBLoopback.hits.Load},
		{"a host name", fmt.Sprintf("https://localhost:%d", agentBLoopback.port()), agentBLoopback.hits.Load},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.victim()
			setEndpoint(t, a, nil, tc.endpoint)
			out, err := logs()
			if err == nil {
				t.Fatalf("logs through %s answered %q", tc.endpoint, out)
			}
			t.Logf("%v", err)
			code := api.CodeOf(err)
			if code != http.StatusBadGateway && (code < 400 || code >= 500) {
				t.Errorf("error %v: code %d, want a 4xx or 502", err, code)
			}
			if !strings.Contains(err.Error(), "node-a") {
				t.Errorf("error %q does not name the node", err)
			}
			if got := tc.victim() - before; got != 0 {
				t.Fatalf("the server sent %d requests to %s", got, tc.endpoint)
			}
		})
	}
	if agentA.hits.Load() != 1 {
		t.Errorf("node a's agent saw %d requests, want 1", agentA.hits.Load())
	}
}
