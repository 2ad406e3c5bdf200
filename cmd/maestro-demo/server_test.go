package main

import (
	"context"
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
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ts := &testServer{exits: make(chan int, 1), logs: &testenv.SyncBuffer{}}
	cfg := config{podName: "web-1", namespace: "shop", version: "v2", hostname: "node-a"}
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
