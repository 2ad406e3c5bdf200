package gcp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/cloudtest"
	"github.com/maestro-dev/maestro/engine/cloud/gcp"
	"github.com/maestro-dev/maestro/engine/cloud/gcp/gcefake"
)

// bed is a Cloud on a fake, with the fake's Booter and the Cloud's log.
type bed struct {
	fake  *gcefake.Server
	cloud *gcp.Cloud
	boot  *cloudtest.NoBoot
	log   *syncBuffer
}

// newBed starts a fake (zones zone-a and zone-b unless fo names others)
// and a Cloud on it whose credentials are the fake's service-account key.
func newBed(t *testing.T, fo gcefake.Options, mutate ...func(*gcp.Options)) *bed {
	t.Helper()
	b := &bed{boot: &cloudtest.NoBoot{}, log: &syncBuffer{}}
	if fo.Booter == nil {
		fo.Booter = b.boot
	}
	if fo.Zones == nil {
		fo.Zones = []string{"zone-a", "zone-b"}
	}
	b.fake = gcefake.New(fo)
	t.Cleanup(b.fake.Close)
	creds, err := b.fake.WriteCredentials(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := gcp.Options{
		Project: b.fake.Project(), Zone: "zone-a", Endpoint: b.fake.URL(), CredentialsFile: creds,
		RetryMaxAttempts: 4, RetryMaxBackoff: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(b.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mutate {
		m(&o)
	}
	b.cloud, err = gcp.New(t.Context(), o)
	if err != nil {
		t.Fatalf("gcp.New: %v", err)
	}
	t.Cleanup(func() { _ = b.cloud.Close() })
	return b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestConformance(t *testing.T) {
	cloudtest.Run(t, func(t *testing.T) cloud.Cloud {
		b := newBed(t, gcefake.Options{})
		t.Cleanup(func() {
			if strings.Contains(b.log.String(), cloudtest.Token) {
				t.Errorf("the cloud's log shows the join token")
			}
		})
		return b.cloud
	})
}

// TestConformanceSmallPages runs the suite with one instance a page, so
// every list walks its pages.
func TestConformanceSmallPages(t *testing.T) {
	cloudtest.Run(t, func(t *testing.T) cloud.Cloud {
		return newBed(t, gcefake.Options{PageSize: 1}).cloud
	})
}

func request(name string) cloud.MachineRequest {
	return cloudtest.Request(name, "c1", "p1")
}

func TestCreateMakesABootingInstance(t *testing.T) {
	b := newBed(t, gcefake.Options{}, func(o *gcp.Options) {
		o.Labels = map[string]string{"team": "Infra.Platform"}
		o.AgentArgs = []string{"--log-level=debug"}
	})
	req := request("web-1")
	req.Spot = true
	m, err := b.cloud.Create(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "zone-a/web-1" || !m.Spot || m.MachineType != gcp.DefaultMachineType {
		t.Errorf("Create = %+v, want ID zone-a/web-1, spot, machine type %s", m, gcp.DefaultMachineType)
	}
	ins := b.fake.Instances()
	if len(ins) != 1 {
		t.Fatalf("fake has %d instances, want 1", len(ins))
	}
	in := ins[0]
	for k, want := range map[string]string{"maestro-cluster": "c1", "maestro-pool": "p1", "maestro-machine": "web-1"} {
		if in.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, in.Labels[k], want)
		}
	}
	if v := in.Labels["team"]; !strings.HasPrefix(v, "infra-platform-") {
		t.Errorf("label team = %q, want the encoding of Infra.Platform", v)
	}
	if !in.Spot {
		t.Errorf("instance is not SPOT")
	}
	got := waitFor(t, b.cloud, m.ID, func(m cloud.Machine) bool { return m.State == cloud.StateRunning })
	if len(got.Addresses) != 1 || !strings.HasPrefix(got.Addresses[0], "10.255.") {
		t.Errorf("running machine's addresses %v, want the booted host's", got.Addresses)
	}
	logs, err := b.cloud.Logs(ctx(t), m.ID, 2)
	if err != nil || !strings.Contains(logs, "running at "+got.Addresses[0]) || strings.Count(logs, "\n") != 1 {
		t.Errorf("Logs(%s, 2) = %q, %v; want the console's last 2 lines, saying it runs", m.ID, logs, err)
	}
	script := string(b.boot.Script(in.ID))
	for _, want := range []string{cloudtest.Token, "--log-level=debug", "'web-1'"} {
		if !strings.Contains(script, want) {
			t.Errorf("startup script booted lacks %q", want)
		}
	}
}

func waitFor(t *testing.T, c cloud.Cloud, id string, ok func(cloud.Machine) bool) cloud.Machine {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := c.Get(ctx(t), id)
		if err == nil && ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("machine %s: last %+v, %v", id, m, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLongNamesAreEncoded: machine names that are no Compute Engine name
// (dots, longer than 63) get a stable instance name and keep their own.
func TestLongNamesAreEncoded(t *testing.T) {
	b := newBed(t, gcefake.Options{})
	long := "pool-a." + strings.Repeat("x", 60) + ".node-1"
	for _, name := range []string{long, "1st.node"} {
		req := request(name)
		m, err := b.cloud.Create(ctx(t), req)
		if err != nil {
			t.Fatalf("Create(%s): %v", name, err)
		}
		if m.Name != name {
			t.Errorf("Create(%s).Name = %q", name, m.Name)
		}
		again, err := b.cloud.Create(ctx(t), req)
		if err != nil || again.ID != m.ID {
			t.Errorf("second Create(%s) = %s, %v; want %s", name, again.ID, err, m.ID)
		}
	}
	ms, err := b.cloud.List(ctx(t), cloud.Filter{Cluster: "c1"})
	if err != nil || len(ms) != 2 {
		t.Fatalf("List = %v, %v; want 2 machines", ms, err)
	}
}

// TestInsertResponseLostMakesNoSecondInstance: the insert is done but its
// answer is lost; the cloud repeats it with the same requestId and gets
// the first instance.
func TestInsertResponseLostMakesNoSecondInstance(t *testing.T) {
	b := newBed(t, gcefake.Options{})
	b.fake.LoseResponse("insert")
	m, err := b.cloud.Create(ctx(t), request("m1"))
	if err != nil {
		t.Fatalf("Create after a lost response: %v", err)
	}
	if n := b.fake.Calls("insert"); n != 2 {
		t.Errorf("inserts sent: %d, want 2 (the lost one and its repeat)", n)
	}
	ins := b.fake.Instances()
	if len(ins) != 1 || ins[0].Name != "m1" || m.ID != "zone-a/m1" {
		t.Fatalf("instances %+v (Create returned %s), want just m1", ins, m.ID)
	}
	if b.boot.Booted() > 1 {
		t.Errorf("%d instances booted, want 1", b.boot.Booted())
	}
}

// TestRetries: throttling and server errors are retried with backoff and
// do not fail a call that succeeds within the attempts.
func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(*gcefake.Server)
	}{
		{"throttled", func(s *gcefake.Server) { s.Throttle(3) }},
		{"server errors", func(s *gcefake.Server) { s.ServerError(3) }},
		{"insert lost twice", func(s *gcefake.Server) { s.LoseResponse("insert"); s.LoseResponse("insert") }},
		{"wait lost", func(s *gcefake.Server) { s.LoseResponse("operations.wait") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBed(t, gcefake.Options{})
			tc.fault(b.fake)
			m, err := b.cloud.Create(ctx(t), request("m1"))
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if _, err := b.cloud.Get(ctx(t), m.ID); err != nil {
				t.Fatalf("Get: %v", err)
			}
			if n := len(b.fake.Instances()); n != 1 {
				t.Fatalf("%d instances, want 1", n)
			}
		})
	}
}

func TestDeleteWaitsAndHalts(t *testing.T) {
	b := newBed(t, gcefake.Options{})
	m, err := b.cloud.Create(ctx(t), request("m1"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, b.cloud, m.ID, func(m cloud.Machine) bool { return m.State == cloud.StateRunning })
	b.fake.LoseResponse("delete")
	if err := b.cloud.Delete(ctx(t), m.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n := len(b.fake.Instances()); n != 0 {
		t.Errorf("%d instances after Delete, want 0", n)
	}
	if b.boot.Running() != 0 {
		t.Errorf("%d hosts still running after Delete", b.boot.Running())
	}
	if _, err := b.cloud.Get(ctx(t), m.ID); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
}

// TestSpotPreemption: a preempted spot machine is Interrupted while it
// stops, then gone (its termination action is DELETE).
func TestSpotPreemption(t *testing.T) {
	b := newBed(t, gcefake.Options{PreemptionNotice: time.Second})
	req := request("spot-1")
	req.Spot = true
	m, err := b.cloud.Create(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, b.cloud, m.ID, func(m cloud.Machine) bool { return m.State == cloud.StateRunning })
	if err := b.fake.Preempt("spot-1"); err != nil {
		t.Fatal(err)
	}
	ms, err := b.cloud.List(ctx(t), cloud.Filter{Cluster: "c1"})
	if err != nil || len(ms) != 1 {
		t.Fatalf("List = %v, %v", ms, err)
	}
	if got := ms[0]; !got.Interrupted || got.State != cloud.StateStopping || !got.Spot {
		t.Errorf("preempted machine listed as %+v, want spot, interrupted, stopping", got)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := b.cloud.Get(ctx(t), m.ID)
		if errors.Is(err, cloud.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("preempted instance still there: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b.boot.Running() != 0 {
		t.Errorf("preempted instance's host still runs")
	}
	// A machine that is not spot is never Interrupted, and stopping it is no
	// preemption.
	other, err := b.cloud.Create(ctx(t), request("on-demand"))
	if err != nil {
		t.Fatal(err)
	}
	if other.Spot || other.Interrupted {
		t.Errorf("on-demand machine %+v", other)
	}
}

func TestZoneRequired(t *testing.T) {
	b := newBed(t, gcefake.Options{}, func(o *gcp.Options) { o.Zone = "" })
	req := request("m1")
	req.Zone = ""
	if _, err := b.cloud.Create(ctx(t), req); !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), "zone") {
		t.Fatalf("Create without a zone: %v, want ErrInvalid naming zone", err)
	}
	req.Zone = "zone-b"
	m, err := b.cloud.Create(ctx(t), req)
	if err != nil || m.Zone != "zone-b" {
		t.Fatalf("Create in zone-b = %+v, %v", m, err)
	}
}

// TestUnauthenticatedCallsRejected: the fake accepts only the tokens its
// token endpoint issued, so a Cloud whose HTTP client sends none fails
// with ErrPermission and Google's message.
func TestUnauthenticatedCallsRejected(t *testing.T) {
	fake := gcefake.New(gcefake.Options{Zones: []string{"zone-a"}})
	t.Cleanup(fake.Close)
	c, err := gcp.New(t.Context(), gcp.Options{Project: fake.Project(), Zone: "zone-a", Endpoint: fake.URL(),
		HTTPClient: http.DefaultClient, RetryMaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Get(ctx(t), "zone-a/m1")
	if !errors.Is(err, cloud.ErrPermission) || !strings.Contains(err.Error(), "missing required authentication credential") {
		t.Fatalf("Get without a token: %v, want ErrPermission with Google's message", err)
	}
}

// TestStartupScriptNeverLogged: with the client library's own debug
// logging switched on (GOOGLE_SDK_GO_LOGGING_LEVEL, which logs request
// bodies to stderr) and the cloud's log at debug, neither shows the
// startup script's join token, through a create with retries, a get, a
// list, a failed create and a delete.
func TestStartupScriptNeverLogged(t *testing.T) {
	t.Setenv("GOOGLE_SDK_GO_LOGGING_LEVEL", "debug")
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = stderr
	restore := sync.OnceFunc(func() { os.Stderr = saved })
	t.Cleanup(restore)
	b := newBed(t, gcefake.Options{})
	b.fake.ServerError(1)
	m, err := b.cloud.Create(ctx(t), request("m1"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = b.cloud.Get(ctx(t), m.ID)
	_, _ = b.cloud.List(ctx(t), cloud.Filter{Cluster: "c1"})
	bad := request("m2")
	bad.MachineType = "n9-huge"
	_, err = b.cloud.Create(ctx(t), bad)
	_ = b.cloud.Delete(ctx(t), m.ID)
	restore()
	logged, _ := os.ReadFile(stderr.Name())
	for what, s := range map[string]string{"stderr": string(logged), "the cloud's log": b.log.String(), "the error": err.Error()} {
		if strings.Contains(s, cloudtest.Token) {
			t.Errorf("%s shows the join token", what)
		}
	}
	if !strings.Contains(b.log.String(), "retrying") {
		t.Errorf("the cloud's debug log does not show the retry: %s", b.log.String())
	}
}

// BenchmarkCreateDelete: one machine created (list by key, insert, wait,
// get) and deleted (delete, wait) through the SDK against the fake.
func BenchmarkCreateDelete(b *testing.B) {
	fake := gcefake.New(gcefake.Options{Zones: []string{"zone-a"}})
	defer fake.Close()
	creds, err := fake.WriteCredentials(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	c, err := gcp.New(b.Context(), gcp.Options{Project: fake.Project(), Zone: "zone-a", Endpoint: fake.URL(),
		CredentialsFile: creds, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for i := 0; b.Loop(); i++ {
		req := cloudtest.Request(fmt.Sprintf("m%d", i), "c1", "p1")
		m, err := c.Create(b.Context(), req)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Delete(b.Context(), m.ID); err != nil {
			b.Fatal(err)
		}
	}
}
