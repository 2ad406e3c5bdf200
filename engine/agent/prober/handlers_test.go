package prober

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// probeServer answers /ok 200, /fail 500, /same-host-redirect to /fail,
// /other-host-redirect to another host, /headers 200 only with the
// expected headers, /query 200 only with ?q=1.
func probeServer(t *testing.T, tls bool) (host string, port int32) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	mux.HandleFunc("/same-host-redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/fail", http.StatusFound)
	})
	mux.HandleFunc("/other-host-redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://elsewhere.invalid/fail", http.StatusFound)
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "app.example" || r.Header.Get("X-Token") != "t" || r.Header.Get("User-Agent") != "maestro-probe" {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	mux.HandleFunc("/query", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("q") != "1" {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	srv := httptest.NewUnstartedServer(mux)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	p, _ := strconv.Atoi(u.Port())
	return u.Hostname(), int32(p)
}

// closedPort is a port nothing listens on.
func closedPort(t *testing.T) int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return int32(port)
}

func TestProbeHTTP(t *testing.T) {
	host, port := probeServer(t, false)
	_, tlsPort := probeServer(t, true)
	closed := closedPort(t)
	tg := Target{PodIP: host, NamedPorts: map[string]int32{"http": port}}
	tests := []struct {
		name    string
		action  api.HTTPGetAction
		target  Target
		want    Result
		message string // substring
		err     string // substring; the probe could not run
	}{
		{name: "200", action: api.HTTPGetAction{Path: "/ok", Port: api.FromInt(port)}, want: Success},
		{name: "500", action: api.HTTPGetAction{Path: "/fail", Port: api.FromInt(port)},
			want: Failure, message: "HTTP probe failed with statuscode: 500"},
		{name: "404", action: api.HTTPGetAction{Path: "/missing", Port: api.FromInt(port)},
			want: Failure, message: "statuscode: 404"},
		{name: "same-host redirect is followed", action: api.HTTPGetAction{Path: "/same-host-redirect", Port: api.FromInt(port)},
			want: Failure, message: "statuscode: 500"},
		{name: "other-host redirect is not followed and succeeds", action: api.HTTPGetAction{Path: "/other-host-redirect", Port: api.FromInt(port)},
			want: Success},
		{name: "headers and Host", action: api.HTTPGetAction{Path: "/headers", Port: api.FromInt(port),
			HTTPHeaders: []api.HTTPHeader{{Name: "Host", Value: "app.example"}, {Name: "X-Token", Value: "t"}}}, want: Success},
		{name: "query in path", action: api.HTTPGetAction{Path: "/query?q=1", Port: api.FromInt(port)}, want: Success},
		{name: "named port", action: api.HTTPGetAction{Path: "/ok", Port: api.FromString("http")}, want: Success},
		{name: "number as a string", action: api.HTTPGetAction{Path: "/ok", Port: api.FromString(strconv.Itoa(int(port)))}, want: Success},
		{name: "unknown named port", action: api.HTTPGetAction{Path: "/ok", Port: api.FromString("metrics")},
			err: `no port named "metrics"`},
		{name: "probe host overrides the pod IP", action: api.HTTPGetAction{Path: "/ok", Port: api.FromInt(port), Host: host},
			target: Target{PodIP: "192.0.2.1"}, want: Success},
		{name: "HTTPS with any certificate", action: api.HTTPGetAction{Path: "/ok", Port: api.FromInt(tlsPort), Scheme: "HTTPS"}, want: Success},
		{name: "connection refused", action: api.HTTPGetAction{Path: "/ok", Port: api.FromInt(closed)},
			want: Failure, message: "connection refused"},
	}
	client := newHTTPClient()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.target
			if target.PodIP == "" {
				target = tg
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			got, msg, err := probeHTTP(ctx, client, &tc.action, target)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || !strings.Contains(msg, tc.message) || (tc.want == Success) != (msg == "") {
				t.Fatalf("got %v %q, want %v %q", got, msg, tc.want, tc.message)
			}
		})
	}
}

func TestProbeTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	open := int32(l.Addr().(*net.TCPAddr).Port)
	tests := []struct {
		name    string
		action  api.TCPSocketAction
		want    Result
		message string
		err     bool
	}{
		{"open", api.TCPSocketAction{Port: api.FromInt(open)}, Success, "", false},
		{"named", api.TCPSocketAction{Port: api.FromString("db")}, Success, "", false},
		{"closed", api.TCPSocketAction{Port: api.FromInt(closedPort(t))}, Failure, "connection refused", false},
		{"port out of range", api.TCPSocketAction{Port: api.FromString("70000")}, Unknown, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, msg, err := probeTCP(t.Context(), &tc.action, Target{PodIP: "127.0.0.1", NamedPorts: map[string]int32{"db": open}})
			if (err != nil) != tc.err || got != tc.want || !strings.Contains(msg, tc.message) {
				t.Fatalf("got %v %q %v, want %v %q (error %v)", got, msg, err, tc.want, tc.message, tc.err)
			}
		})
	}
}

func TestProbeExec(t *testing.T) {
	tests := []struct {
		name    string
		code    int
		err     error
		block   bool
		id      string
		want    Result
		message string
		wantErr bool
	}{
		{name: "exit 0", id: "c1", want: Success},
		{name: "exit 2", code: 2, id: "c1", want: Failure, message: `command ["probe"] exited with 2: exit 2`},
		{name: "timeout", block: true, id: "c1", want: Failure, message: "timed out"},
		{name: "runtime error", err: errors.New("no such container"), id: "c1", wantErr: true},
		{name: "no container", id: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeExec()
			f.script("probe", tc.code)
			f.err = tc.err
			if tc.block {
				f.block = make(chan struct{})
			}
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			got, msg, err := probeExec(ctx, f, tc.id, []string{"probe"}, 50*time.Millisecond)
			if (err != nil) != tc.wantErr || got != tc.want || !strings.Contains(msg, tc.message) {
				t.Fatalf("got %v %q %v, want %v %q (error %v)", got, msg, err, tc.want, tc.message, tc.wantErr)
			}
		})
	}
}

// TestTimeout runs an HTTP probe against a server slower than
// timeoutSeconds (1s, the smallest there is), through the Manager.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())

	h := newHarness(t)
	p := &api.Probe{
		ProbeHandler:   api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/", Port: api.FromInt(int32(port))}},
		TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 1,
	}
	start := time.Now()
	h.m.Ensure("pod", "app", Liveness, p, Target{PodIP: "127.0.0.1", ContainerID: "c1"}, h.clk.Now())
	h.step(0, 1)
	if took := time.Since(start); took < time.Second || took > 5*time.Second {
		t.Fatalf("probe took %s, want about timeoutSeconds", took)
	}
	u2 := h.Updates()
	if len(u2) != 1 || u2[0].Result != Failure || !strings.Contains(u2[0].Message, "deadline exceeded") {
		t.Fatalf("updates = %+v, want one Failure for the timeout", u2)
	}
}

// TestHTTPThroughManager: named ports reach the worker, and a server that
// recovers flips readiness.
func TestHTTPThroughManager(t *testing.T) {
	host, port := probeServer(t, false)
	h := newHarness(t)
	path := "/fail"
	p := func() *api.Probe {
		return &api.Probe{
			ProbeHandler:   api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: path, Port: api.FromString("web"), Scheme: "HTTP"}},
			TimeoutSeconds: 1, PeriodSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1,
		}
	}
	tg := Target{PodIP: host, ContainerID: "c1", NamedPorts: map[string]int32{"web": port}}
	h.m.Ensure("pod", "app", Readiness, p(), tg, h.clk.Now())
	h.step(0, 1)
	if got := h.m.Result("pod", "app", Readiness); got != Failure {
		t.Fatalf("readiness = %v, want Failure", got)
	}
	path = "/ok"
	h.m.Ensure("pod", "app", Readiness, p(), tg, h.clk.Now())
	h.step(0, 1)
	if got := h.m.Result("pod", "app", Readiness); got != Success {
		t.Fatalf("readiness = %v, want Success", got)
	}
	if u := h.Updates(); len(u) != 1 || u[0].Result != Success {
		t.Fatalf("updates = %+v", u)
	}
}
