package allocator

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/registry"
	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/engine/store/storetest"
)

// One embedded etcd serves every test of the package.
var sharedEtcd storetest.SharedEtcd

func TestMain(m *testing.M) {
	code := m.Run()
	sharedEtcd.Close()
	os.Exit(code)
}

var quietLog = slog.New(slog.DiscardHandler)

// newStore returns a store over the shared embedded etcd, under a prefix no
// other test uses.
func newStore(t *testing.T) store.Store { return sharedEtcd.Store(t) }

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// server is one API server's view: an allocator and a registry over a
// shared store.
type server struct {
	alloc *Allocator
	reg   *registry.Registry
	clock *clock
}

type serverOpt func(*Config)

func withCIDR(s string) serverOpt {
	return func(c *Config) { c.ServiceCIDR = netip.MustParsePrefix(s) }
}
func withPorts(min, max int32) serverOpt {
	return func(c *Config) { c.NodePortRange = PortRange{Min: min, Max: max} }
}

// newServer builds an allocator and a registry admitting through it over s,
// with the "default" namespace.
func newServer(t *testing.T, s store.Store, opts ...serverOpt) *server {
	t.Helper()
	clk := &clock{now: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	cfg := Config{Clock: clk.Now, Log: quietLog}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := New(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Options{Store: s, Admitters: []registry.Admitter{a}})
	_, err = reg.Create(t.Context(), &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "default"}}, registry.WriteOptions{})
	if err != nil && !api.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return &server{alloc: a, reg: reg, clock: clk}
}

// svc is a service in "default" with one TCP port 80 (type ClusterIP
// unless changed by muts).
func svc(name string, muts ...func(*api.Service)) *api.Service {
	s := &api.Service{
		ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name},
		Spec:       api.ServiceSpec{Selector: map[string]string{"app": name}, Ports: []api.ServicePort{{Port: 80}}},
	}
	for _, m := range muts {
		m(s)
	}
	return s
}

func clusterIP(ip string) func(*api.Service) { return func(s *api.Service) { s.Spec.ClusterIP = ip } }

// nodePorts makes a NodePort service with one port per given node port
// (0: allocate), named p0, p1, ...
func nodePorts(ports ...int32) func(*api.Service) {
	return func(s *api.Service) {
		s.Spec.Type = api.ServiceTypeNodePort
		s.Spec.Ports = nil
		for i, n := range ports {
			s.Spec.Ports = append(s.Spec.Ports, api.ServicePort{Name: fmt.Sprintf("p%d", i), Port: int32(80 + i), NodePort: n})
		}
	}
}

func (sv *server) create(t *testing.T, s *api.Service) (*api.Service, error) {
	t.Helper()
	out, err := sv.reg.Create(t.Context(), s, registry.WriteOptions{})
	if err != nil {
		return nil, err
	}
	return out.(*api.Service), nil
}

func (sv *server) mustCreate(t *testing.T, s *api.Service) *api.Service {
	t.Helper()
	out, err := sv.create(t, s)
	if err != nil {
		t.Fatalf("creating service %s: %v", s.Name, err)
	}
	return out
}

// claims lists the claim names under a prefix with the service each names.
func claims(t *testing.T, s store.Store, prefix string) map[string]string {
	t.Helper()
	kvs, _, err := s.List(t.Context(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range kvs {
		c := decodeClaim(t, kv.Value)
		out[kv.Key[len(prefix):]] = c.Namespace + "/" + c.Name
	}
	return out
}

func decodeClaim(t *testing.T, b []byte) claimRecord {
	t.Helper()
	var c claimRecord
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("claim %s: %v", b, err)
	}
	return c
}

// wantFieldError checks err is a 422 with a cause on field whose message
// contains msg.
func wantFieldError(t *testing.T, err error, field, msg string) {
	t.Helper()
	if !api.IsInvalid(err) {
		t.Fatalf("error %v, want 422 Invalid on %s", err, field)
	}
	se := err.(*api.StatusError)
	for _, c := range se.Status.Details.Causes {
		if c.Field == field && strings.Contains(c.Detail, msg) {
			return
		}
	}
	t.Fatalf("error %v has no cause on %s saying %q", err, field, msg)
}

// deepCopy copies a service through JSON.
func deepCopy(t *testing.T, s *api.Service) *api.Service {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out api.Service
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}
