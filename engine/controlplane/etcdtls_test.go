package controlplane_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// TestEmbeddedEtcdRefusesPlaintext: the embedded member is the whole
// cluster's state, tokens included; a local process that reaches its port
// must not be able to write an admin token into it. Only a client
// presenting the certificate in <data-dir>/pki gets in. An existing data
// directory of a member that served plain HTTP starts with TLS unchanged.
func TestEmbeddedEtcdRefusesPlaintext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()

	// An old member's data dir: plain HTTP, one key written.
	old, err := store.StartEmbedded(ctx, store.EmbeddedConfig{Dir: filepath.Join(dir, "etcd"), UnsafeNoFsync: true, Logger: testenv.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Client().Put(ctx, "/migrated", "kept"); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	cp := start(t, controlplane.Config{DataDir: dir})
	t.Cleanup(func() { cp.Close() })
	eps := cp.EtcdClient().Endpoints()
	if len(eps) != 1 {
		t.Fatalf("endpoints %v", eps)
	}
	u, err := url.Parse(eps[0])
	if err != nil {
		t.Fatal(err)
	}
	host := u.Host
	if u.Scheme != "https" {
		t.Errorf("embedded etcd serves clients at %s, want https", eps[0])
	}

	// What an attacker on the machine would do: write a token record.
	const evil = "/maestro/tokens/evil00"
	tryPut := func(name, endpoint string, tc *tls.Config) error {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, TLS: tc, DialTimeout: time.Second, Logger: zap.NewNop()})
		if err != nil {
			return err
		}
		defer c.Close()
		pctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
		defer cancel()
		_, err = c.Put(pctx, evil, `{"id":"evil00","role":"admin","secretHash":"x"}`)
		t.Logf("%s: %v", name, err)
		return err
	}
	if err := tryPut("plain http", "http://"+host, nil); err == nil {
		t.Error("a plain HTTP client wrote into the embedded etcd")
	}
	pki := filepath.Join(dir, "pki")
	caPEM, err := os.ReadFile(filepath.Join(pki, "etcd-ca.crt"))
	if err != nil {
		t.Fatalf("etcd CA: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	if err := tryPut("https without a client certificate", "https://"+host, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}); err == nil {
		t.Error("an HTTPS client without a certificate wrote into the embedded etcd")
	}
	// A certificate from the cluster CA (what the API server shows agents) is not an etcd client certificate.
	if other, err := tls.LoadX509KeyPair(filepath.Join(pki, "server.crt"), filepath.Join(pki, "server.key")); err == nil {
		present := func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &other, nil }
		if err := tryPut("https with the API serving certificate", "https://"+host,
			&tls.Config{RootCAs: pool, GetClientCertificate: present, MinVersion: tls.VersionTLS12}); err == nil {
			t.Error("a certificate of the cluster CA opened the embedded etcd")
		}
	}
	if kv, err := cp.EtcdClient().Get(ctx, evil); err != nil || len(kv.Kvs) != 0 {
		t.Fatalf("the refused writes left %v (err %v)", kv.Kvs, err)
	}

	// The right certificate works.
	cert, err := tls.LoadX509KeyPair(filepath.Join(pki, "etcd-client.crt"), filepath.Join(pki, "etcd-client.key"))
	if err != nil {
		t.Fatalf("etcd client certificate: %v", err)
	}
	good, err := clientv3.New(clientv3.Config{Endpoints: []string{"https://" + host}, DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		TLS: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := good.Get(gctx, "/migrated")
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "kept" {
		t.Fatalf("client with the etcd client certificate: %v %v (the old member's data must survive)", err, got)
	}
	for _, f := range []string{"etcd-ca.key", "etcd-client.key", "etcd-server.key", "etcd-peer.key"} {
		if fi, err := os.Stat(filepath.Join(pki, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want mode 0600", f, err)
		}
	}

	// The server still works and restarts on its data dir.
	if _, err := clientFor(t, cp).ConfigMaps("default").Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c"}}); err != nil {
		t.Fatal(err)
	}
	if err := cp.Close(); err != nil {
		t.Fatal(err)
	}
	cp = start(t, controlplane.Config{DataDir: dir})
	if _, err := clientFor(t, cp).ConfigMaps("default").Get(ctx, "c"); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
