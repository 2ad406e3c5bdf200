package controlplane_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/internal/testenv"
)

func start(t *testing.T, cfg controlplane.Config) *controlplane.ControlPlane {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.ClientConfigPath == "" {
		cfg.ClientConfigPath = "-"
	}
	cfg.UnsafeNoFsync = true
	cfg.Log = testenv.Logger(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cp, err := controlplane.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return cp
}

func clientFor(t *testing.T, cp *controlplane.ControlPlane) *client.Client {
	c, err := client.New(cp.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRestartKeepsStateTokenAndCA(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	cp := start(t, controlplane.Config{DataDir: dir})
	first := cp.ClientConfig()
	if _, err := clientFor(t, cp).Secrets("default").Create(ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: "kept"},
		StringData: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	if err := cp.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	cp = start(t, controlplane.Config{DataDir: dir})
	defer cp.Close()
	again := cp.ClientConfig()
	if again.Token != first.Token || again.CertificateAuthorityData != first.CertificateAuthorityData {
		t.Fatal("restart changed the admin token or the CA: existing client configs would break")
	}
	// The old client config (a different port) keeps working once pointed at the new address.
	first.Server = again.Server
	c, err := client.New(first)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Secrets("default").Get(ctx, "kept")
	if err != nil || string(s.Data["k"]) != "v" {
		t.Fatalf("after restart: %v %q", err, s.Data["k"])
	}
}

func TestWritesClientConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "home", ".maestro", "config")
	cp := start(t, controlplane.Config{DataDir: t.TempDir(), ClientConfigPath: path})
	defer cp.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("client config mode %v, want 0600 (it holds the admin token)", fi.Mode().Perm())
	}
	c, err := client.FromConfigFile(path)
	if err != nil {
		t.Fatal(err)
	}
	nss, _, err := c.Namespaces().List(context.Background(), client.ListOptions{})
	if err != nil || len(nss) != 2 {
		t.Fatalf("listing namespaces through the written config: %v (%d)", err, len(nss))
	}
}

func TestTwoServersShareAnExternalEtcd(t *testing.T) {
	t.Parallel()
	url := testenv.StartEtcd(t, nil)
	keyFile := filepath.Join(t.TempDir(), "shared.key")
	cfg := func() controlplane.Config {
		return controlplane.Config{DataDir: t.TempDir(), EtcdEndpoints: []string{url}, EncryptionKeyFile: keyFile}
	}
	a := start(t, cfg())
	defer a.Close()
	b := start(t, cfg())
	defer b.Close()
	ctx := context.Background()
	ca, cb := clientFor(t, a), clientFor(t, b)
	if _, err := ca.Secrets("default").Create(ctx, &api.Secret{ObjectMeta: api.ObjectMeta{Name: "shared"},
		StringData: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	s, err := cb.Secrets("default").Get(ctx, "shared")
	if err != nil || string(s.Data["k"]) != "v" {
		t.Fatalf("server b reading server a's secret: %v %q", err, s.Data["k"])
	}
	// A token issued by one server works on the other.
	tok, err := ca.CreateToken(ctx, api.TokenRequest{Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	cfgB := b.ClientConfig()
	cfgB.Token = tok.Token
	viewer, _ := client.New(cfgB)
	if _, _, err := viewer.Pods("default").List(ctx, client.ListOptions{}); err != nil {
		t.Fatalf("token from server a on server b: %v", err)
	}
}

// The cluster id is made once: a restarted server and every server on the
// same etcd serve the same one; another cluster has another.
func TestClusterIDIsStable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	id := func(cp *controlplane.ControlPlane) string {
		t.Helper()
		info, err := clientFor(t, cp).ClusterInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(info.ClusterID) != 16 || strings.Trim(info.ClusterID, "0123456789abcdef") != "" {
			t.Fatalf("cluster id %q: want 16 hex digits", info.ClusterID)
		}
		return info.ClusterID
	}
	dir := t.TempDir()
	cp := start(t, controlplane.Config{DataDir: dir})
	first := id(cp)
	if err := cp.Close(); err != nil {
		t.Fatal(err)
	}
	cp = start(t, controlplane.Config{DataDir: dir})
	defer cp.Close()
	if again := id(cp); again != first {
		t.Errorf("after a restart the cluster id is %s, was %s", again, first)
	}
	other := start(t, controlplane.Config{DataDir: t.TempDir()})
	defer other.Close()
	if id(other) == first {
		t.Errorf("two clusters share the id %s", first)
	}

	// Servers sharing an etcd start together: one id for all of them.
	url := testenv.StartEtcd(t, nil)
	keyFile := filepath.Join(t.TempDir(), "shared.key")
	servers := make([]*controlplane.ControlPlane, 3)
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i := range servers {
		dataDir := t.TempDir()
		wg.Go(func() {
			servers[i], errs[i] = controlplane.Start(ctx, controlplane.Config{DataDir: dataDir, EtcdEndpoints: []string{url},
				EncryptionKeyFile: keyFile, Listen: "127.0.0.1:0", ClientConfigPath: "-", Log: testenv.Logger(t)})
		})
	}
	wg.Wait()
	for _, s := range servers {
		if s != nil {
			defer s.Close()
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	shared := id(servers[0])
	for i, s := range servers {
		if got := id(s); got != shared {
			t.Errorf("server %d on the shared etcd serves cluster id %s, server 0 %s", i, got, shared)
		}
	}
}

func TestUnreachableExternalEtcdIsAClearError(t *testing.T) {
	t.Parallel()
	addr := testenv.FreeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := controlplane.Start(ctx, controlplane.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", ClientConfigPath: "-",
		EtcdEndpoints: []string{"http://" + addr}, Log: testenv.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("start with an unreachable etcd: %v, want an error naming %s", err, addr)
	}
}

func TestMissingDataDir(t *testing.T) {
	t.Parallel()
	_, err := controlplane.Start(context.Background(), controlplane.Config{})
	if err == nil || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("no data dir: %v", err)
	}
}
