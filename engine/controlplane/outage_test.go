package controlplane_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestEtcdOutageFailsFast: while etcd does not answer (a hung member, then
// a dead one), every request answers 503 with Retry-After within 5 s
// instead of hanging, /readyz says 503, and when etcd comes back the same
// server answers again and its watches resume, without a restart.
func TestEtcdOutageFailsFast(t *testing.T) {
	t.Parallel()
	etcd := testenv.StartEtcdProcess(t, nil)
	cp := start(t, controlplane.Config{DataDir: t.TempDir(), EtcdEndpoints: []string{etcd.URL}})
	defer cp.Close()
	c := clientFor(t, cp)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cms := c.ConfigMaps("default")
	if _, err := cms.Create(ctx, configMap("before")); err != nil {
		t.Fatal(err)
	}
	watch, err := cms.Watch(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Stop()
	waitForEvent(t, watch, "before")
	probe := newProber(t, cp)

	for _, outage := range []struct {
		name       string
		start, end func()
	}{
		{"hung (SIGSTOP)", etcd.Pause, etcd.Resume},
		{"down (killed, then restarted on its data)", etcd.Kill, etcd.Restart},
	} {
		t.Logf("etcd %s", outage.name)
		outage.start()
		began := time.Now()
		for i := 0; time.Since(began) < 10*time.Second; i++ {
			var wg sync.WaitGroup
			for _, req := range [][2]string{
				{"POST /v1/namespaces/default/configmaps", fmt.Sprintf(`{"metadata":{"name":"during-%d"}}`, i)},
				{"GET /v1/namespaces/default/configmaps/before", ""},
				{"GET /v1/namespaces/default/configmaps", ""},
				{"GET /readyz", ""},
			} {
				method, path, _ := strings.Cut(req[0], " ")
				wg.Go(func() { probe.expect(t, method, path, req[1], 503) })
			}
			wg.Wait()
			if t.Failed() {
				t.FailNow()
			}
		}
		t.Logf("slowest answer during the outage: %s", probe.slowest().Round(time.Millisecond))
		outage.end()
		t.Logf("etcd back after %s", time.Since(began).Round(time.Millisecond))
		probe.eventually(t, "GET", "/v1/namespaces/default/configmaps/before", "", 200)
		probe.eventually(t, "GET", "/readyz", "", 200)
		name := fmt.Sprintf("after-%d", len(outage.name))
		probe.eventually(t, "POST", "/v1/namespaces/default/configmaps", `{"metadata":{"name":"`+name+`"}}`, 201)
		waitForEvent(t, watch, name)
	}
	// A watch opened after the outages is served too.
	fresh, err := cms.Watch(ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Stop()
	if _, err := cms.Create(ctx, configMap("last")); err != nil {
		t.Fatal(err)
	}
	waitForEvent(t, fresh, "last")
	waitForEvent(t, watch, "last")
}

func configMap(name string) *api.ConfigMap {
	return &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name}, Data: map[string]string{"k": "v"}}
}

// waitForEvent waits for the watch to deliver an event about the named object.
func waitForEvent(t *testing.T, w *client.Watcher[*api.ConfigMap], name string) {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watch ended waiting for %s: %v", name, w.Err())
			}
			if ev.Object.Name == name {
				return
			}
		case <-timeout:
			t.Fatalf("watch delivered no event for %s within 60 s", name)
		}
	}
}

// prober sends raw requests, so a hung server shows as a slow answer
// rather than as the client's retries.
type prober struct {
	base, token string
	http        *http.Client

	mu  sync.Mutex
	max time.Duration // the slowest answer expect saw
}

func (p *prober) slowest() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.max
}

// answerWithin is how fast a request must answer during an outage.
const answerWithin = 5 * time.Second

func newProber(t *testing.T, cp *controlplane.ControlPlane) *prober {
	cfg := cp.ClientConfig()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(cfg.CertificateAuthorityData))
	return &prober{base: cfg.Server, token: cfg.Token, http: &http.Client{
		Timeout:   20 * time.Second, // old code hung longer; fail instead of waiting for it
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}}
}

func (p *prober) do(method, path, body string) (int, http.Header, string, time.Duration, error) {
	req, err := http.NewRequest(method, p.base+path, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, nil, "", 0, err
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, nil, "", time.Since(start), err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), time.Since(start), nil
}

// expect sends a request during an outage: it must answer code within
// answerWithin, with Retry-After on a 503 from the API.
func (p *prober) expect(t *testing.T, method, path, body string, code int) {
	t.Helper()
	got, h, text, took, err := p.do(method, path, body)
	p.mu.Lock()
	p.max = max(p.max, took)
	p.mu.Unlock()
	if err != nil {
		t.Errorf("%s %s during the outage: %v after %s", method, path, err, took.Round(time.Millisecond))
		return
	}
	if got != code || took > answerWithin {
		t.Errorf("%s %s during the outage: %d after %s (%.200s), want %d within %s", method, path, got, took.Round(time.Millisecond), text, code, answerWithin)
	}
	if got == 503 && path != "/readyz" && h.Get("Retry-After") == "" {
		t.Errorf("%s %s: 503 without Retry-After", method, path)
	}
}

// eventually retries a request until it answers code (the server recovers
// by itself once etcd is back).
func (p *prober) eventually(t *testing.T, method, path, body string, code int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, _, text, _, err := p.do(method, path, body)
		if err == nil && got == code {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s: still %d (%v, %.200s) 60 s after etcd came back, want %d", method, path, got, err, text, code)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
