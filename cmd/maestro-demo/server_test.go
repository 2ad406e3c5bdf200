package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/internal/testenv"
)

// testServer serves a demo server on a loopback port; exits receives the
// codes the server exits with, logs what it logged.
type testServer struct {
	*server
	url   string
	exits chan int
	logs  *testenv.SyncBuffer
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerWith(t, config{podName: "web-1", namespace: "shop", version: "v2", hostname: "node-a"})
}

func newTestServerWith(t *testing.T, cfg config) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ts := &testServer{exits: make(chan int, 1), logs: &testenv.SyncBuffer{}}
	ts.server = newServer(ctx, cfg, log.New(ts.logs, "", 0), func(code int) { ts.exits <- code })
	ts.environ = func() []string { return []string{"PORT=8080", "B=2", "A=1"} }
	hs := httptest.NewServer(ts.routes())
	t.Cleanup(hs.Close)
	ts.url = hs.URL
	return ts
}

// do sends a request and returns the status and body.
func (ts *testServer) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

type step struct {
	method, path, body string
	status             int
	want               string // expected body; "" checks only the status
}

func runSteps(t *testing.T, ts *testServer, steps []step) {
	t.Helper()
	for _, s := range steps {
		status, body := ts.do(t, s.method, s.path, s.body)
		if status != s.status || (s.want != "" && body != s.want) {
			t.Errorf("%s %s = %d %q, want %d %q", s.method, s.path, status, body, s.status, s.want)
		}
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"identity", []step{
			{"GET", "/", "", 200, "pod=web-1 namespace=shop version=v2 host=node-a\n"},
			{"GET", "/nope", "", 404, ""},
			{"POST", "/", "", 405, ""},
		}},
		{"liveness", []step{
			{"GET", "/healthz", "", 200, "ok\n"},
			{"POST", "/fail-health", "", 200, ""},
			{"GET", "/healthz", "", 500, "unhealthy\n"},
			{"GET", "/readyz", "", 200, "ready\n"}, // readiness is separate
			{"POST", "/recover-health", "", 200, ""},
			{"GET", "/healthz", "", 200, "ok\n"},
			{"GET", "/fail-health", "", 405, ""},
		}},
		{"readiness", []step{
			{"GET", "/readyz", "", 200, "ready\n"},
			{"POST", "/unready", "", 200, ""},
			{"GET", "/readyz", "", 503, "not ready\n"},
			{"GET", "/healthz", "", 200, "ok\n"},
			{"POST", "/ready", "", 200, ""},
			{"GET", "/readyz", "", 200, "ready\n"},
		}},
		{"env sorted", []step{
			{"GET", "/env", "", 200, "A=1\nB=2\nPORT=8080\n"},
		}},
		{"burn arguments", []step{
			{"POST", "/burn?seconds=0.05&cores=2", "", 202, "burning 2 cores for 0.05s\n"},
			{"POST", "/burn?seconds=0.05", "", 202, "burning 1 cores for 0.05s\n"},
			{"POST", "/burn", "", 400, ""},
			{"POST", "/burn?seconds=-1", "", 400, ""},
			{"POST", "/burn?seconds=1&cores=0", "", 400, ""},
			{"POST", "/burn?seconds=1&cores=x", "", 400, ""},
			{"GET", "/burn?seconds=1", "", 405, ""},
		}},
		{"exit arguments", []step{
			{"POST", "/exit?code=x", "", 400, ""},
			{"POST", "/exit?code=256", "", 400, ""},
		}},
		{"call arguments", []step{
			{"GET", "/call", "", 400, ""},
			{"GET", "/call?url=ftp://x/", "", 400, ""},
			{"GET", "/call?url=http://127.0.0.1:1/", "", 502, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, newTestServer(t), tt.steps)
		})
	}
}

func TestFile(t *testing.T) {
	ts := newTestServer(t)
	path := filepath.Join(t.TempDir(), "shared", "note.txt")
	q := "/file?path=" + url.QueryEscape(path)
	runSteps(t, ts, []step{
		{"GET", q, "", 404, ""},
		{"GET", "/file", "", 400, ""},
		{"POST", q, "hello\x00world", 200, "wrote 11 bytes to " + path + "\n"},
		{"GET", q, "", 200, "hello\x00world"},
	})
	if b, err := os.ReadFile(path); err != nil || string(b) != "hello\x00world" {
		t.Errorf("file holds %q (%v)", b, err)
	}
}

func TestExitAnswersThenExits(t *testing.T) {
	ts := newTestServer(t)
	start := time.Now()
	runSteps(t, ts, []step{{"POST", "/exit?code=3", "", 200, "exiting with code 3\n"}})
	select {
	case code := <-ts.exits:
		if code != 3 {
			t.Errorf("exited with %d, want 3", code)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("exited after %s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not exit")
	}
}

func TestBurnStops(t *testing.T) {
	ts := newTestServer(t)
	start := time.Now()
	runSteps(t, ts, []step{{"POST", "/burn?seconds=0.2&cores=2", "", 202, ""}})
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("burn answered after %s, want at once", d)
	}
	if n := ts.burning.Load(); n != 2 {
		t.Errorf("%d burners running, want 2", n)
	}
	for ts.burning.Load() != 0 {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%d burners still running after 5s", ts.burning.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCall(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "pod=other path="+r.URL.Path)
	}))
	t.Cleanup(upstream.Close)
	ts := newTestServer(t)
	resp, err := http.Get(ts.url + "/call?url=" + url.QueryEscape(upstream.URL+"/x"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTeapot || string(body) != "pod=other path=/x" ||
		resp.Header.Get("Maestro-Upstream-Status") != "418" {
		t.Errorf("call = %d %q (upstream status header %q), want 418 %q",
			resp.StatusCode, body, resp.Header.Get("Maestro-Upstream-Status"), "pod=other path=/x")
	}
}

func TestRequestsAreLogged(t *testing.T) {
	ts := newTestServer(t)
	ts.do(t, "GET", "/readyz?x=1", "")
	ts.do(t, "POST", "/fail-health", "")
	ts.do(t, "GET", "/healthz", "")
	want := []string{"GET /readyz?x=1 200 remote=", "health checks now fail", "POST /fail-health 200", "GET /healthz 500"}
	// A request's line is written after its answer has left.
	var lines []string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		lines = strings.Split(strings.TrimSpace(ts.logs.String()), "\n")
		if len(lines) >= len(want) || time.Now().After(deadline) {
			break
		}
	}
	if len(lines) != len(want) {
		t.Fatalf("log lines:\n%s\nwant %d", ts.logs.String(), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("log line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
}

func TestIdentityChain(t *testing.T) {
	// A stub upstream answering with a fixed status and body.
	stub := func(status int, body string) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		t.Cleanup(s.Close)
		return s.URL + "/"
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/"
	dead.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(upstreamTimeout + 2*time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	// A real three-tier chain: frontend -> backend -> store (counting).
	chain := func(t *testing.T) string {
		store := newTestServerWith(t, config{podName: "store-0", namespace: "qs", version: "v1", hostname: "store-0",
			nodeName: "node-3", counterFile: filepath.Join(t.TempDir(), "data", "visits")})
		backend := newTestServerWith(t, config{podName: "backend-1", namespace: "qs", version: "v1", hostname: "backend-1",
			nodeName: "node-2", upstream: store.url + "/"})
		return backend.url + "/"
	}
	const me = "pod=web-1 namespace=shop version=v2 host=node-a"

	tests := []struct {
		name     string
		upstream func(t *testing.T) string // "" for none
		counter  bool
		want     []step // GET / answers, in order
	}{
		{name: "neither flag", want: []step{{"GET", "/", "", 200, me + "\n"}}},
		{name: "counter", counter: true, want: []step{
			{"GET", "/", "", 200, me + " visits=1\n"},
			{"GET", "/", "", 200, me + " visits=2\n"},
			{"GET", "/healthz", "", 200, "ok\n"}, // only GET / counts
			{"GET", "/", "", 200, me + " visits=3\n"},
		}},
		{name: "upstream", upstream: func(*testing.T) string { return stub(200, "pod=store visits=7\n") },
			want: []step{{"GET", "/", "", 200, me + "\n  -> pod=store visits=7\n"}}},
		{name: "upstream answer of several lines is indented as a tree",
			upstream: func(*testing.T) string { return stub(200, "pod=backend\n  -> pod=store\n") },
			want:     []step{{"GET", "/", "", 200, me + "\n  -> pod=backend\n    -> pod=store\n"}}},
		{name: "counter and upstream", counter: true, upstream: func(*testing.T) string { return stub(200, "pod=store") },
			want: []step{{"GET", "/", "", 200, me + " visits=1\n  -> pod=store\n"}}},
		{name: "three tiers", upstream: chain, want: []step{
			{"GET", "/", "", 200, me + "\n  -> pod=backend-1 namespace=qs version=v1 host=backend-1 node=node-2\n" +
				"    -> pod=store-0 namespace=qs version=v1 host=store-0 node=node-3 visits=1\n"},
			{"GET", "/", "", 200, me + "\n  -> pod=backend-1 namespace=qs version=v1 host=backend-1 node=node-2\n" +
				"    -> pod=store-0 namespace=qs version=v1 host=store-0 node=node-3 visits=2\n"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config{podName: "web-1", namespace: "shop", version: "v2", hostname: "node-a"}
			if tt.upstream != nil {
				cfg.upstream = tt.upstream(t)
			}
			if tt.counter {
				cfg.counterFile = filepath.Join(t.TempDir(), "visits")
			}
			runSteps(t, newTestServerWith(t, cfg), tt.want)
		})
	}

	t.Run("failures name the upstream", func(t *testing.T) {
		for _, tc := range []struct{ upstream, want string }{
			{stub(503, "not ready\n"), "  -> upstream %s failed: 503 Service Unavailable\n    -> not ready\n"},
			{stub(500, ""), "  -> upstream %s failed: 500 Internal Server Error\n"},
			{deadURL, "  -> upstream %s failed: Get "},
			{slow.URL + "/", "  -> upstream %s failed: Get "},
		} {
			ts := newTestServerWith(t, config{podName: "web-1", namespace: "shop", version: "v2", hostname: "node-a",
				upstream: tc.upstream})
			start := time.Now()
			status, body := ts.do(t, "GET", "/", "")
			want := me + "\n" + fmt.Sprintf(tc.want, tc.upstream)
			if status != 502 || !strings.HasPrefix(body, want) {
				t.Errorf("GET / = %d %q, want 502 starting %q", status, body, want)
			}
			if d := time.Since(start); d > upstreamTimeout+time.Second {
				t.Errorf("answered after %s, want within the upstream timeout %s", d, upstreamTimeout)
			}
		}
	})
}
