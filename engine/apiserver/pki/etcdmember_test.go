package pki

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

// TestEnsureEtcdMember: members made from one etcd CA in different
// directories trust each other, and each member's serving and peer
// certificates name its own host besides loopback (and not the others').
func TestEnsureEtcdMember(t *testing.T) {
	first := t.TempDir()
	if _, err := EnsureEtcd(first, t0); err != nil {
		t.Fatal(err)
	}
	second := t.TempDir()
	for _, f := range []string{EtcdCACertFile, EtcdCAKeyFile} {
		b, err := os.ReadFile(filepath.Join(first, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(second, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	files, err := EnsureEtcdMember(second, []string{"10.0.0.2", "cp2.example"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := os.ReadFile(filepath.Join(first, EtcdCACertFile))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	for _, tt := range []struct {
		cert, key string
		host      string
		ok        bool
	}{
		{files.ServerCertFile, files.ServerKeyFile, "10.0.0.2", true},
		{files.ServerCertFile, files.ServerKeyFile, "cp2.example", true},
		{files.ServerCertFile, files.ServerKeyFile, "127.0.0.1", true},
		{files.PeerCertFile, files.PeerKeyFile, "10.0.0.2", true},
		{files.ServerCertFile, files.ServerKeyFile, "10.0.0.3", false},
	} {
		pair, err := tls.LoadX509KeyPair(tt.cert, tt.key)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := x509.ParseCertificate(pair.Certificate[0])
		_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: tt.host, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if (err == nil) != tt.ok {
			t.Errorf("%s for %s: verify = %v, want ok %v", filepath.Base(tt.cert), tt.host, err, tt.ok)
		}
	}
}
