// Package testenv starts an in-process maestro control plane for tests:
// embedded etcd in a temporary directory, the API on a random loopback port,
// and clients for any role. It is the one place outside the engine allowed
// to assemble server internals.
package testenv

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/allocator"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/network"
)

// Env is a running test cluster.
type Env struct {
	CP      *controlplane.ControlPlane
	Config  client.Config
	Client  *client.Client
	DataDir string
}

// Option adjusts the control plane config before it starts.
type Option func(*controlplane.Config)

// WithConfig edits the control plane config.
func WithConfig(f func(*controlplane.Config)) Option { return Option(f) }

// Start brings up a control plane that stops when the test ends.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	dir := t.TempDir()
	cfg := controlplane.Config{
		DataDir:          dir,
		Listen:           "127.0.0.1:0",
		ClientConfigPath: "-",
		UnsafeNoFsync:    true,
		Log:              Logger(t),
		Version:          "test",
		ShutdownTimeout:  2 * time.Second,
		// Each test cluster has its own store, so they may all use the
		// default range; WithConfig changes it.
		ServiceCIDR:   allocator.DefaultServiceCIDR,
		NodePortRange: allocator.DefaultNodePortRange,
		// Room for thousands of simulated nodes (the default range holds
		// 256), so scale tests never run out of pod CIDRs.
		PodCIDR:          network.LargePodCIDR,
		NodeCIDRMaskSize: network.DefaultNodeCIDRMaskSize,
	}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cp, err := controlplane.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("starting control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := cp.Close(); err != nil {
			t.Logf("stopping control plane: %v", err)
		}
	})
	c, err := client.New(cp.ClientConfig())
	if err != nil {
		t.Fatalf("building client: %v", err)
	}
	return &Env{CP: cp, Config: cp.ClientConfig(), Client: c, DataDir: dir}
}

// ClientAs returns a client authenticated with a fresh token of the role
// (node tokens for the named node).
func (e *Env) ClientAs(t testing.TB, role, node string) *client.Client {
	t.Helper()
	resp, err := e.Client.CreateToken(context.Background(), api.TokenRequest{Role: role, Node: node})
	if err != nil {
		t.Fatalf("creating %s token: %v", role, err)
	}
	cfg := e.Config
	cfg.Token = resp.Token
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("building %s client: %v", role, err)
	}
	return c
}

// Logger writes warnings and errors to the test log (everything with
// MAESTRO_TEST_LOG=debug), so failures show what the server saw.
func Logger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("MAESTRO_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	defer func() { _ = recover() }() // logging after the test ended must not panic
	w.t.Log(string(p))
	return len(p), nil
}

var _ io.Writer = testWriter{}
