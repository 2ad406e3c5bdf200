package apiserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/auth"
	"github.com/maestro-dev/maestro/engine/apiserver/flowcontrol"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/store"
)

func TestIsLongRunning(t *testing.T) {
	cases := []struct {
		method, target string
		want           bool
	}{
		{"GET", "/v1/namespaces/default/pods?watch=1", true},
		{"GET", "/v1/pods?watch=true&resourceVersion=5", true},
		{"GET", "/v1/namespaces/default/pods?watch=0", false},
		{"GET", "/v1/namespaces/default/pods?watch=false", false},
		{"GET", "/v1/namespaces/default/pods?watch=", false},
		{"POST", "/v1/namespaces/default/pods?watch=1", false},
		{"PUT", "/v1/namespaces/default/pods/p?watch=1", false},
		{"GET", "/v1/namespaces/default/pods/p?watch=1", false},
		{"GET", "/v1/namespaces/default/pods/p/log?follow=true", true},
		{"GET", "/v1/namespaces/default/pods/p/log?follow=1", true},
		{"GET", "/v1/namespaces/default/pods/p/log", false},
		{"GET", "/v1/namespaces/default/pods/p/log?follow=false", false},
		{"GET", "/v1/namespaces/default/pods/p/stats?follow=true", false},
		{"GET", "/v1/tokens?watch=1", false},
		{"GET", "/metrics?watch=1", false},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		if got := isLongRunning(r); got != tc.want {
			t.Errorf("%s %s: long-running = %v, want %v", tc.method, tc.target, got, tc.want)
		}
	}
}

func TestPriorityOf(t *testing.T) {
	cases := []struct {
		user auth.User
		want flowcontrol.Level
	}{
		{auth.User{Role: auth.RoleAdmin, System: true}, flowcontrol.System},
		{auth.User{Role: auth.RoleNode, Node: "n1"}, flowcontrol.Node},
		{auth.User{Role: auth.RoleJoin}, flowcontrol.Node},
		{auth.User{Role: auth.RoleAdmin}, flowcontrol.Workload},
		{auth.User{Role: auth.RoleViewer}, flowcontrol.Workload},
	}
	for _, tc := range cases {
		if got := priorityOf(tc.user); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.user, got, tc.want)
		}
	}
}

// limitsEnv serves authenticated requests to a handler that holds each
// request until released, so a test controls exactly who holds a seat.
type limitsEnv struct {
	srv    *Server
	url    string
	tokens map[string]string // name -> token
	held   chan struct{}     // a request reached the handler
	unhold chan struct{}     // closed by release to let held requests finish
	once   sync.Once
}

// release lets every held request (and every later one) finish.
func (e *limitsEnv) release() { e.once.Do(func() { close(e.unhold) }) }

func newLimitsEnv(t *testing.T, limits Limits) *limitsEnv {
	t.Helper()
	e, err := store.StartEmbedded(context.Background(), store.EmbeddedConfig{Dir: t.TempDir(), UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	st := store.NewEtcd(e.Client(), "/limits")
	tokens := auth.NewTokens(st, nil)
	env := &limitsEnv{tokens: map[string]string{}, held: make(chan struct{}, 100), unhold: make(chan struct{})}
	for name, o := range map[string]auth.CreateOptions{
		"viewer": {Role: auth.RoleViewer}, "admin": {Role: auth.RoleAdmin},
		"node": {Role: auth.RoleNode, Node: "n1"}, "system": {Role: auth.RoleAdmin, System: true},
	} {
		tok, _, err := tokens.Create(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		env.tokens[name] = tok
	}
	env.srv = New(Config{Registry: registry.New(registry.Options{Store: st}), Tokens: tokens, Limits: limits,
		Metrics: prometheus.NewRegistry()})
	hold := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		env.held <- struct{}{}
		select {
		case <-env.unhold:
		case <-r.Context().Done():
		}
		fmt.Fprintf(w, "held %d bytes", len(body))
	})
	ts := httptest.NewServer(env.srv.authenticated(hold))
	t.Cleanup(ts.Close)
	t.Cleanup(env.release)
	env.url = ts.URL
	return env
}

type answer struct {
	code       int
	retryAfter string
	status     api.Status
}

// send makes a request as the named token and returns its answer; held
// requests answer only when released, so send them with start.
func (e *limitsEnv) send(t *testing.T, who, method, target string) answer {
	t.Helper()
	req, err := http.NewRequest(method, e.url+target, strings.NewReader(`{}`))
	if err != nil {
		t.Error(err)
		return answer{}
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Errorf("%s %s as %s: %v", method, target, who, err) // Errorf: start calls send on a goroutine
		return answer{}
	}
	defer resp.Body.Close()
	a := answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &a.status)
	return a
}

// start sends a request that the handler will hold, and waits until it
// holds it.
func (e *limitsEnv) start(t *testing.T, who, method, target string) {
	t.Helper()
	go e.send(t, who, method, target)
	select {
	case <-e.held:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s %s as %s never reached the handler", method, target, who)
	}
}

// TestPriorityLevelsAndShares: a viewer at its share of the workload seats
// gets 429 with Retry-After, even for `GET ?watch=0` and `POST ?watch=1`
// (no longer a way around the limit); the admin still gets a seat, and
// nodes and the control plane have seats of their own.
func TestPriorityLevelsAndShares(t *testing.T) {
	env := newLimitsEnv(t, Limits{WorkloadSeats: 2, SeatsPerIdentity: 1, NodeSeats: 1, SystemSeats: 1,
		QueueWait: 50 * time.Millisecond, WatchesPerIdentity: 2})
	cms := "/v1/namespaces/default/configmaps"
	env.start(t, "viewer", "GET", cms+"?watch=0")
	for _, tc := range []struct{ method, target string }{
		{"GET", cms + "?watch=0"},
		{"POST", cms + "?watch=1"},
		{"PUT", cms + "/x?watch=true"},
		{"GET", cms},
	} {
		a := env.send(t, "viewer", tc.method, tc.target)
		if a.code != http.StatusTooManyRequests || a.status.Reason != api.ReasonTooManyRequests || a.retryAfter == "" ||
			!strings.Contains(a.status.Message, "workload") {
			t.Errorf("viewer %s %s over its share: %d %q (Retry-After %q), want 429 naming the workload level with Retry-After",
				tc.method, tc.target, a.code, a.status.Message, a.retryAfter)
		}
	}
	env.start(t, "admin", "GET", cms+"/x")      // the second workload seat
	env.start(t, "node", "GET", "/v1/nodes/n1") // its own level
	env.start(t, "system", "PUT", "/v1/nodes/n1")
	if a := env.send(t, "admin", "GET", cms); a.code != http.StatusTooManyRequests {
		t.Errorf("admin with the workload level full: %d, want 429", a.code)
	}
	// A real watch takes no seat, up to the identity's watch limit.
	env.start(t, "viewer", "GET", cms+"?watch=1")
	env.start(t, "viewer", "GET", "/v1/pods?watch=true")
	a := env.send(t, "viewer", "GET", cms+"?watch=1")
	if a.code != http.StatusTooManyRequests || !strings.Contains(a.status.Message, "too many open watches") || a.retryAfter == "" {
		t.Errorf("third watch: %d %q (Retry-After %q), want 429 too many open watches", a.code, a.status.Message, a.retryAfter)
	}
	env.start(t, "admin", "GET", cms+"?watch=1") // another identity's watch
	for _, want := range []string{
		`maestro_apiserver_flowcontrol_inflight_requests{priority_level="workload"} 2`,
		`maestro_apiserver_flowcontrol_inflight_requests{priority_level="node"} 1`,
		`maestro_apiserver_flowcontrol_inflight_requests{priority_level="system"} 1`,
		`maestro_apiserver_flowcontrol_long_running_requests{priority_level="workload"} 3`,
		`maestro_apiserver_flowcontrol_rejected_requests_total{priority_level="workload",reason="long-running-limit"} 1`,
		`maestro_apiserver_flowcontrol_rejected_requests_total{priority_level="workload",reason="time-out"} 5`,
	} {
		if m := env.metrics(t); !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// metrics renders the server's metrics in the text format.
func (e *limitsEnv) metrics(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil).WithContext(context.WithValue(context.Background(), userKey{}, auth.User{Role: auth.RoleAdmin}))
	e.srv.metricsHandler().ServeHTTP(rec, req)
	return rec.Body.String()
}

// TestSlowBodyHoldsNoSeat: a body that trickles in holds a connection, not
// a seat, and is answered 408 when it does not arrive in time.
func TestSlowBodyHoldsNoSeat(t *testing.T) {
	env := newLimitsEnv(t, Limits{WorkloadSeats: 1, QueueWait: 50 * time.Millisecond, BodyTimeout: 500 * time.Millisecond})
	var slow []net.Conn
	for range 5 {
		conn, err := net.Dial("tcp", strings.TrimPrefix(env.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: 102400\r\n\r\n{", env.tokens["viewer"])
		slow = append(slow, conn)
	}
	start := time.Now()
	go func() {
		<-env.held
		env.release()
	}()
	if a := env.send(t, "admin", "GET", "/v1/namespaces/default/configmaps/x"); a.code != http.StatusOK {
		t.Fatalf("admin GET while five bodies trickle in: %d %q, want 200", a.code, a.status.Message)
	}
	for i, conn := range slow {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("slow client %d: %v", i, err)
		}
		var st api.Status
		_ = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout || st.Reason != api.ReasonRequestTimeout || !strings.Contains(st.Message, "did not arrive within 500ms") {
			t.Errorf("slow client %d: %d %s %q, want 408 RequestTimeout", i, resp.StatusCode, st.Reason, st.Message)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("408s came after %s, want about the body timeout (500ms)", d)
	}
}

// TestSlowBodyOverHTTP2: the body deadline holds for an HTTP/2 stream too
// (the Go client speaks HTTP/2 to the API).
func TestSlowBodyOverHTTP2(t *testing.T) {
	env := newLimitsEnv(t, Limits{BodyTimeout: 300 * time.Millisecond})
	ts := httptest.NewUnstartedServer(env.srv.authenticated(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer ts.Close()
	body, send := io.Pipe()
	defer send.Close()
	go func() { _, _ = send.Write([]byte("{")) }() // and nothing more
	req, err := http.NewRequest("POST", ts.URL+"/v1/namespaces/default/configmaps", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+env.tokens["viewer"])
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("%s %d, want HTTP/2 408", resp.Proto, resp.StatusCode)
	}
}
