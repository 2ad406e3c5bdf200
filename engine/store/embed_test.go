package store_test

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/maestro-dev/maestro/engine/store"
)

// TestEmbeddedRestartKeepsData stops a member and starts it again on the
// same directory: data and revisions survive. The first start also bridges
// etcd's logs to slog.
func TestEmbeddedRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	logs := &recordingHandler{}
	m, err := store.StartEmbedded(ctx, store.EmbeddedConfig{
		Dir:           dir,
		Logger:        slog.New(logs),
		LogLevel:      "info",
		UnsafeNoFsync: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := store.NewEtcd(m.Client(), "/restart")
	rev, err := s.Create(ctx, "/pods/a", []byte("persisted"))
	if err != nil {
		t.Fatal(err)
	}
	first := m.Endpoints()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !logs.has("component", "etcd") {
		t.Fatal("no etcd log record reached the slog logger at level info")
	}

	m, err = store.StartEmbedded(ctx, store.EmbeddedConfig{Dir: dir, UnsafeNoFsync: true})
	if err != nil {
		t.Fatalf("restart on the same directory: %v", err)
	}
	defer m.Close()

	// A second member on a directory in use fails at once.
	if m2, err := store.StartEmbedded(ctx, store.EmbeddedConfig{Dir: dir}); err == nil {
		m2.Close()
		t.Fatal("two members started on one directory")
	} else if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second member on a directory in use: %v", err)
	}

	s = store.NewEtcd(m.Client(), "/restart")
	kv, err := s.Get(ctx, "/pods/a")
	if err != nil || string(kv.Value) != "persisted" || kv.ModRevision != rev {
		t.Fatalf("after restart Get = %+v, %v; want value persisted at revision %d", kv, err, rev)
	}
	cur, err := s.CurrentRevision(ctx)
	if err != nil || cur < rev {
		t.Fatalf("after restart CurrentRevision = %d, %v; want >= %d", cur, err, rev)
	}
	t.Logf("endpoints before %v, after %v", first, m.Endpoints())
}

// TestEmbeddedParallel starts several members at once in one process.
func TestEmbeddedParallel(t *testing.T) {
	const n = 4
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		members []*store.Embedded
	)
	for range n {
		wg.Go(func() {
			m, err := store.StartEmbedded(t.Context(), store.EmbeddedConfig{Dir: t.TempDir(), UnsafeNoFsync: true})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			members = append(members, m)
			mu.Unlock()
		})
	}
	wg.Wait()
	var endpoints []string
	for _, m := range members {
		t.Cleanup(func() { m.Close() })
		if _, err := m.Client().Put(t.Context(), "/x", "y"); err != nil {
			t.Errorf("member %v: %v", m.Endpoints(), err)
		}
		endpoints = append(endpoints, m.Endpoints()...)
	}
	slices.Sort(endpoints)
	if len(slices.Compact(endpoints)) != n {
		t.Fatalf("endpoints %v, want %d distinct", endpoints, n)
	}
}

// TestEmbeddedPortTaken makes StartEmbedded pick a port that another
// listener holds, as when another process takes it between the pick and the
// bind: StartEmbedded retries with fresh ports.
func TestEmbeddedPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var calls atomic.Int32
	defer store.SetAddrPicker(func() (string, error) {
		if calls.Add(1) == 1 {
			return l.Addr().String(), nil
		}
		return store.FreeLoopbackAddr()
	})()
	m, err := store.StartEmbedded(t.Context(), store.EmbeddedConfig{Dir: t.TempDir(), UnsafeNoFsync: true})
	if err != nil {
		t.Fatalf("StartEmbedded with a taken port: %v", err)
	}
	defer m.Close()
	if calls.Load() < 3 {
		t.Fatalf("picker called %d times; want a retry", calls.Load())
	}
	if _, err := m.Client().Put(t.Context(), "/k", "v"); err != nil {
		t.Fatal(err)
	}
}

func TestEmbeddedConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  store.EmbeddedConfig
		want string
	}{
		{name: "no dir", cfg: store.EmbeddedConfig{}, want: "Dir is empty"},
		{name: "non-loopback client URL", cfg: store.EmbeddedConfig{Dir: t.TempDir(), ClientURL: "http://0.0.0.0:2379"}, want: "loopback"},
		{name: "bad log level", cfg: store.EmbeddedConfig{Dir: t.TempDir(), LogLevel: "loud"}, want: "log level"},
		{name: "TLS without a client key", cfg: store.EmbeddedConfig{Dir: t.TempDir(), TLS: &store.EmbeddedTLS{CAFile: "ca",
			ServerCertFile: "s", ServerKeyFile: "s", PeerCertFile: "p", PeerKeyFile: "p", ClientCertFile: "c"}}, want: "ClientKeyFile"},
		{name: "TLS on a plain URL", cfg: store.EmbeddedConfig{Dir: t.TempDir(), ClientURL: "http://127.0.0.1:2379", TLS: &store.EmbeddedTLS{
			CAFile: "ca", ServerCertFile: "s", ServerKeyFile: "s", PeerCertFile: "p", PeerKeyFile: "p", ClientCertFile: "c", ClientKeyFile: "c"}},
			want: "must be https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := store.StartEmbedded(t.Context(), tt.cfg)
			if err == nil {
				m.Close()
				t.Fatal("StartEmbedded succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// recordingHandler is a slog.Handler remembering attributes it saw.
type recordingHandler struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		h.attrs = append(h.attrs, a)
		return true
	})
	return nil
}

func (h *recordingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recordingWith{parent: h, with: attrs}
}

func (h *recordingHandler) WithGroup(string) slog.Handler { return h }

func (h *recordingHandler) has(key, value string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.attrs {
		if a.Key == key && a.Value.String() == value {
			return true
		}
	}
	return false
}

// recordingWith records into its parent with extra attributes.
type recordingWith struct {
	parent *recordingHandler
	with   []slog.Attr
}

func (h *recordingWith) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingWith) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.with...)
	return h.parent.Handle(ctx, r)
}

func (h *recordingWith) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recordingWith{parent: h.parent, with: append(slices.Clone(h.with), attrs...)}
}

func (h *recordingWith) WithGroup(string) slog.Handler { return h }
