// Package cloudtest is the conformance suite of cloud.Cloud: every
// implementation runs it (as engine/store/storetest is run by every store).
package cloudtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/cloud"
)

// Token is the join token of every request the suite makes; no error, Machine
// or printed request may contain it.
const Token = "cloudtest-join-token-s3cr3t-5f2a9c"

// Run runs the whole suite. newCloud returns a Cloud with no machines for one
// subtest, isolated from the others, and arranges with t.Cleanup for its
// machines to be deleted.
func Run(t *testing.T, newCloud func(t *testing.T) cloud.Cloud) {
	RunWithOptions(t, Options{}, newCloud)
}

// Options adapt the suite to a provider.
type Options struct {
	// Prepare, when set, completes every request the suite makes, after
	// Request built it and before a test changes it (the ssh cloud picks
	// the machine's host by its idempotency key: one host per machine).
	Prepare func(req *cloud.MachineRequest)
}

// RunWithOptions runs the whole suite with opts (see Run).
func RunWithOptions(t *testing.T, opts Options, newCloud func(t *testing.T) cloud.Cloud) {
	s := suite{opts}
	for _, tc := range []struct {
		name string
		test func(*testing.T, cloud.Cloud)
	}{
		{"CreateGet", s.testCreateGet},
		{"ListByClusterAndPool", s.testList},
		{"IdempotentCreate", s.testIdempotent},
		{"IdempotentCreateConcurrent", s.testIdempotentConcurrent},
		{"IdempotencyKeyReused", s.testKeyReused},
		{"Delete", s.testDelete},
		{"NotFound", s.testNotFound},
		{"InvalidRequest", s.testInvalid},
		{"TokenNeverShown", s.testTokenNeverShown},
		{"ContextCancelled", s.testCancelled},
		{"Logs", s.testLogs},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, newCloud(t)) })
	}
}

type suite struct{ opts Options }

// request is Request completed by Options.Prepare.
func (s suite) request(name, cluster, pool string) cloud.MachineRequest {
	r := Request(name, cluster, pool)
	if s.opts.Prepare != nil {
		s.opts.Prepare(&r)
	}
	return r
}

// Request returns a valid request for machine name of cluster/pool, keyed by
// "key-"+name.
func Request(name, cluster, pool string) cloud.MachineRequest {
	return cloud.MachineRequest{
		Name: name, Cluster: cluster, Pool: pool, Zone: "zone-a",
		Labels: map[string]string{"example.com/role": "test"},
		Bootstrap: cloud.Bootstrap{
			ServerURL: "https://127.0.0.1:6443",
			CAPEM:     []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
			JoinToken: Token,
		},
		IdempotencyKey: "key-" + name,
	}
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t *testing.T, c cloud.Cloud, req cloud.MachineRequest) cloud.Machine {
	t.Helper()
	m, err := c.Create(ctxFor(t), req)
	if err != nil {
		t.Fatalf("Create(%s): %v", req.Name, err)
	}
	return m
}

func mustList(t *testing.T, c cloud.Cloud, f cloud.Filter) []cloud.Machine {
	t.Helper()
	ms, err := c.List(ctxFor(t), f)
	if err != nil {
		t.Fatalf("List(%+v): %v", f, err)
	}
	return ms
}

func names(ms []cloud.Machine) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Name)
	}
	return strings.Join(s, ",")
}

func (s suite) testCreateGet(t *testing.T, c cloud.Cloud) {
	req := s.request("m1", "c1", "p1")
	m := mustCreate(t, c, req)
	if m.ID == "" || m.Name != "m1" || m.Cluster != "c1" || m.Pool != "p1" || m.Zone != "zone-a" {
		t.Fatalf("Create returned %+v, want ID set and name/cluster/pool/zone of the request", m)
	}
	if m.State != cloud.StatePending && m.State != cloud.StateRunning {
		t.Errorf("new machine state %q, want pending or running", m.State)
	}
	if m.CreatedAt.IsZero() || time.Since(m.CreatedAt) > time.Minute {
		t.Errorf("CreatedAt %v, want about now", m.CreatedAt)
	}
	got, err := c.Get(ctxFor(t), m.ID)
	if err != nil {
		t.Fatalf("Get(%s): %v", m.ID, err)
	}
	if got.ID != m.ID || got.Name != m.Name || got.Pool != m.Pool || !got.CreatedAt.Equal(m.CreatedAt) {
		t.Errorf("Get = %+v, want the created machine %+v", got, m)
	}
}

func (s suite) testList(t *testing.T, c cloud.Cloud) {
	for _, r := range [][3]string{{"a1", "c1", "p1"}, {"a2", "c1", "p1"}, {"b1", "c1", "p2"}, {"x1", "c2", "p1"}} {
		mustCreate(t, c, s.request(r[0], r[1], r[2]))
	}
	for _, tc := range []struct {
		f    cloud.Filter
		want string
	}{
		{cloud.Filter{Cluster: "c1"}, "a1,a2,b1"},
		{cloud.Filter{Cluster: "c1", Pool: "p1"}, "a1,a2"},
		{cloud.Filter{Cluster: "c1", Pool: "p2"}, "b1"},
		{cloud.Filter{Cluster: "c2"}, "x1"},
		{cloud.Filter{Cluster: "c3"}, ""},
		{cloud.Filter{Cluster: "c2", Pool: "p2"}, ""},
	} {
		ms := mustList(t, c, tc.f)
		got := names(sortedByName(ms))
		if got != tc.want {
			t.Errorf("List(%+v) = [%s], want [%s]", tc.f, got, tc.want)
		}
		for i := 1; i < len(ms); i++ {
			if ms[i-1].ID >= ms[i].ID {
				t.Errorf("List(%+v) not sorted by ID: %q before %q", tc.f, ms[i-1].ID, ms[i].ID)
			}
		}
	}
	if _, err := c.List(ctxFor(t), cloud.Filter{Pool: "p1"}); !errors.Is(err, cloud.ErrInvalid) ||
		!strings.Contains(err.Error(), "cluster") {
		t.Errorf("List without cluster: err = %v, want ErrInvalid naming cluster", err)
	}
}

func sortedByName(ms []cloud.Machine) []cloud.Machine {
	out := slices.Clone(ms)
	slices.SortFunc(out, func(a, b cloud.Machine) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (s suite) testIdempotent(t *testing.T, c cloud.Cloud) {
	req := s.request("m1", "c1", "p1")
	first := mustCreate(t, c, req)
	second := mustCreate(t, c, req)
	if second.ID != first.ID {
		t.Fatalf("second Create with key %q made %s, want the first machine %s", req.IdempotencyKey, second.ID, first.ID)
	}
	if ms := mustList(t, c, cloud.Filter{Cluster: "c1"}); len(ms) != 1 {
		t.Fatalf("after two Creates with one key: %d machines [%s], want 1", len(ms), names(ms))
	}
	other := s.request("m2", "c1", "p1")
	if m := mustCreate(t, c, other); m.ID == first.ID {
		t.Fatalf("Create with another key returned the first machine %s", m.ID)
	}
}

func (s suite) testIdempotentConcurrent(t *testing.T, c cloud.Cloud) {
	req := s.request("m1", "c1", "p1")
	const n = 8
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m, err := c.Create(ctxFor(t), req)
			ids[i], errs[i] = m.ID, err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("concurrent Create %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("concurrent Creates with one key returned machines %s and %s", ids[0], ids[i])
		}
	}
	if ms := mustList(t, c, cloud.Filter{Cluster: "c1"}); len(ms) != 1 {
		t.Fatalf("after %d concurrent Creates with one key: %d machines, want 1", n, len(ms))
	}
}

func (s suite) testKeyReused(t *testing.T, c cloud.Cloud) {
	mustCreate(t, c, s.request("m1", "c1", "p1"))
	req := s.request("m1", "c1", "p1") // m1's key (and so its host), m2's name
	req.Name = "m2"
	if _, err := c.Create(ctxFor(t), req); !errors.Is(err, cloud.ErrInvalid) {
		t.Fatalf("Create of m2 with m1's key: err = %v, want ErrInvalid", err)
	}
	if ms := mustList(t, c, cloud.Filter{Cluster: "c1"}); names(ms) != "m1" {
		t.Fatalf("machines after the rejected Create: [%s], want [m1]", names(ms))
	}
}

// testDelete: after Delete, Get is ErrNotFound or terminated, List leaves the
// machine out unless terminated, a second Delete and a Delete of an unknown
// ID return nil, and the key creates a new machine again.
func (s suite) testDelete(t *testing.T, c cloud.Cloud) {
	m := mustCreate(t, c, s.request("m1", "c1", "p1"))
	keep := mustCreate(t, c, s.request("m2", "c1", "p1"))
	if err := c.Delete(ctxFor(t), m.ID); err != nil {
		t.Fatalf("Delete(%s): %v", m.ID, err)
	}
	got, err := c.Get(ctxFor(t), m.ID)
	if err == nil && got.State != cloud.StateTerminated {
		t.Fatalf("Get after Delete: state %q, want ErrNotFound or terminated", got.State)
	} else if err != nil && !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	for _, x := range mustList(t, c, cloud.Filter{Cluster: "c1"}) {
		if x.ID == m.ID && x.State != cloud.StateTerminated {
			t.Fatalf("List after Delete shows %s in state %q", x.ID, x.State)
		}
	}
	if _, err := c.Get(ctxFor(t), keep.ID); err != nil {
		t.Fatalf("Delete(%s) affected %s: %v", m.ID, keep.ID, err)
	}
	if err := c.Delete(ctxFor(t), m.ID); err != nil {
		t.Fatalf("second Delete(%s): %v, want nil", m.ID, err)
	}
	if err := c.Delete(ctxFor(t), "no-such-machine"); err != nil {
		t.Fatalf("Delete of an unknown ID: %v, want nil", err)
	}
}

func (s suite) testNotFound(t *testing.T, c cloud.Cloud) {
	_, err := c.Get(ctxFor(t), "no-such-machine")
	if !errors.Is(err, cloud.ErrNotFound) {
		t.Fatalf("Get(no-such-machine): err = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "no-such-machine") {
		t.Errorf("not-found error %q does not name the machine", err)
	}
	if cloud.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = true, want false", err)
	}
}

func (s suite) testInvalid(t *testing.T, c cloud.Cloud) {
	for _, tc := range []struct {
		field  string
		mutate func(*cloud.MachineRequest)
	}{
		{"name", func(r *cloud.MachineRequest) { r.Name = "" }},
		{"name", func(r *cloud.MachineRequest) { r.Name = "Not_A_Name" }},
		{"cluster", func(r *cloud.MachineRequest) { r.Cluster = "" }},
		{"pool", func(r *cloud.MachineRequest) { r.Pool = "" }},
		{"idempotencyKey", func(r *cloud.MachineRequest) { r.IdempotencyKey = "" }},
		{"bootstrap.serverURL", func(r *cloud.MachineRequest) { r.Bootstrap.ServerURL = "http://x" }},
		{"bootstrap.joinToken", func(r *cloud.MachineRequest) { r.Bootstrap.JoinToken = "" }},
		{"bootstrap.caPEM", func(r *cloud.MachineRequest) { r.Bootstrap.CAPEM = nil }},
		{"labels", func(r *cloud.MachineRequest) { r.Labels = map[string]string{"bad key!": "v"} }},
	} {
		req := s.request("m1", "c1", "p1")
		tc.mutate(&req)
		_, err := c.Create(ctxFor(t), req)
		if !errors.Is(err, cloud.ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Create with bad %s: err = %v, want ErrInvalid naming %s", tc.field, err, tc.field)
		}
		if err != nil && strings.Contains(err.Error(), Token) {
			t.Errorf("error for bad %s contains the join token: %v", tc.field, err)
		}
	}
	if ms := mustList(t, c, cloud.Filter{Cluster: "c1"}); len(ms) != 0 {
		t.Fatalf("invalid requests created machines: [%s]", names(ms))
	}
}

func (s suite) testTokenNeverShown(t *testing.T, c cloud.Cloud) {
	req := s.request("m1", "c1", "p1")
	m := mustCreate(t, c, req)
	js, _ := json.Marshal(req)
	shown := map[string]string{
		"request %v": fmt.Sprintf("%v", req), "request %+v": fmt.Sprintf("%+v", req),
		"request %#v": fmt.Sprintf("%#v", req), "request %s": fmt.Sprintf("%s", req.Bootstrap),
		"request %q": fmt.Sprintf("%q", req.Bootstrap.JoinToken), "request %x": fmt.Sprintf("%x", req.Bootstrap.JoinToken),
		"request JSON": string(js),
		"machine %v":   fmt.Sprintf("%v", m), "machine %+v": fmt.Sprintf("%+v", m), "machine %#v": fmt.Sprintf("%#v", m),
	}
	reused := req
	reused.Name = "m2"
	if _, err := c.Create(ctxFor(t), reused); err != nil {
		shown["key-reuse error"] = err.Error()
	}
	bad := req
	bad.Bootstrap.ServerURL = "ftp://x"
	if _, err := c.Create(ctxFor(t), bad); err != nil {
		shown["invalid error"] = err.Error()
	}
	if _, err := c.Get(ctxFor(t), "no-such-machine"); err != nil {
		shown["not-found error"] = err.Error()
	}
	for what, s := range shown {
		if strings.Contains(s, Token) || strings.Contains(s, fmt.Sprintf("%x", Token)) {
			t.Errorf("%s shows the join token: %s", what, s)
		}
	}
}

func (s suite) testCancelled(t *testing.T, c cloud.Cloud) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Create(ctx, s.request("m1", "c1", "p1")); err == nil {
		t.Fatal("Create with a cancelled context succeeded")
	}
	if ms := mustList(t, c, cloud.Filter{Cluster: "c1"}); len(ms) != 0 {
		t.Fatalf("Create with a cancelled context left machines: [%s]", names(ms))
	}
}

// testLogs: a cloud that implements cloud.LogReader returns a machine's log
// (whatever its agent wrote so far) and ErrNotFound for a machine that is
// gone or never was.
func (s suite) testLogs(t *testing.T, c cloud.Cloud) {
	lr, ok := c.(cloud.LogReader)
	if !ok {
		t.Skipf("%T does not implement cloud.LogReader (optional)", c)
	}
	m := mustCreate(t, c, s.request("m1", "c1", "p1"))
	logs, err := lr.Logs(ctxFor(t), m.ID, 10)
	if err != nil {
		t.Fatalf("Logs(%s): %v", m.ID, err)
	}
	if strings.Contains(logs, Token) {
		t.Errorf("Logs shows the join token: %q", logs)
	}
	if _, err := lr.Logs(ctxFor(t), "no-such-machine", 10); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Logs(no-such-machine): %v, want ErrNotFound", err)
	}
	if err := c.Delete(ctxFor(t), m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := lr.Logs(ctxFor(t), m.ID, 10); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("Logs after Delete: %v, want ErrNotFound", err)
	}
}
