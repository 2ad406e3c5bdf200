package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
	"github.com/maestro-dev/maestro/internal/testenv"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// startExternalEtcd runs Debian's etcd-server as an external cluster for
// the test (see testenv.StartEtcd) and returns a client from DialExternal.
func startExternalEtcd(t *testing.T) *clientv3.Client {
	t.Helper()
	client, _ := startExternalEtcdWith(t, nil)
	return client
}

// externalTLS are the certificate files of a TLS external etcd.
type externalTLS = testenv.EtcdTLS

// startExternalEtcdWith starts etcd (over TLS with client certificates
// when tlsFiles is set) and returns a client and the client URL.
func startExternalEtcdWith(t *testing.T, tlsFiles *externalTLS) (*clientv3.Client, string) {
	t.Helper()
	url := testenv.StartEtcd(t, tlsFiles)
	dial := store.ExternalConfig{Endpoints: []string{url}, DialTimeout: 5 * time.Second}
	if tlsFiles != nil {
		dial.CAFile, dial.CertFile, dial.KeyFile = tlsFiles.CA, tlsFiles.ClientCert, tlsFiles.ClientKey
	}
	client, err := store.DialExternal(t.Context(), dial)
	if err != nil {
		t.Fatalf("dialing external etcd: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return client, url
}

func TestDialExternalUnreachable(t *testing.T) {
	addr := freeAddr(t) // nothing listens there
	start := time.Now()
	_, err := store.DialExternal(t.Context(), store.ExternalConfig{
		Endpoints:   []string{"http://" + addr},
		DialTimeout: 500 * time.Millisecond,
	})
	if err == nil {
		t.Fatal("DialExternal to a closed port succeeded")
	}
	if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "unreachable") ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error does not say which endpoint is unreachable: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("DialExternal took %s with a 500ms timeout", d)
	}
}

func TestDialExternalConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  store.ExternalConfig
		want string
	}{
		{name: "no endpoints", cfg: store.ExternalConfig{}, want: "no endpoints"},
		{name: "cert without key", cfg: store.ExternalConfig{Endpoints: []string{"https://127.0.0.1:1"}, CertFile: "c.pem"}, want: "together"},
		{name: "missing CA file", cfg: store.ExternalConfig{Endpoints: []string{"https://127.0.0.1:1"}, CAFile: "/nonexistent/ca.pem"}, want: "/nonexistent/ca.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.DialExternal(t.Context(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DialExternal: %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func freeAddr(t *testing.T) string { return testenv.FreeAddr(t) }
