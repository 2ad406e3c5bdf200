package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAgentCertificates(t *testing.T) {
	b := ensure(t, filepath.Join(t.TempDir(), "pki"), []string{"127.0.0.1"}, t0)
	keyPEM, csrPEM, err := NewAgentCSR("node-1", []net.IP{net.ParseIP("127.0.0.11")})
	if err != nil {
		t.Fatal(err)
	}
	csr, err := ParseAgentCSR(csrPEM, "node-1")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := b.SignAgentServing(csr, "node-1", 30*24*time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(pair.Certificate[0])
	nodePool, clusterPool := x509.NewCertPool(), x509.NewCertPool()
	nodePool.AddCert(b.NodeCA)
	clusterPool.AddCert(b.CA)
	opts := x509.VerifyOptions{Roots: nodePool, DNSName: "127.0.0.11", CurrentTime: t0.Add(time.Hour),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if _, err := cert.Verify(opts); err != nil {
		t.Fatalf("agent certificate does not verify against the node CA: %v", err)
	}
	// The API server verifies the node's name.
	opts.DNSName = "node-1"
	if _, err := cert.Verify(opts); err != nil {
		t.Fatalf("agent certificate does not verify for the node's name: %v", err)
	}
	if !cert.NotAfter.Equal(t0.Add(30 * 24 * time.Hour).Truncate(time.Second)) {
		t.Errorf("agent certificate expires %v, want the credential lifetime", cert.NotAfter)
	}
	// It must never pass for anything with clients that trust the cluster CA.
	opts.Roots = clusterPool
	if _, err := cert.Verify(opts); err == nil {
		t.Fatal("an agent certificate verifies against the cluster CA")
	}

	// A node may not ask for other names.
	_, evil, _ := NewAgentCSR("localhost", nil)
	if _, err := ParseAgentCSR(evil, "node-1"); err == nil || !strings.Contains(err.Error(), "not the node's name") {
		t.Fatalf("CSR for another name: %v", err)
	}
	if _, err := ParseAgentCSR([]byte("junk"), "node-1"); err == nil {
		t.Fatal("junk CSR accepted")
	}

	// The API server's client certificate verifies against the cluster CA
	// for client auth, with the expected name.
	client, err := b.APIServerClientCertificate(t0)
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := x509.ParseCertificate(client.Certificate[0])
	if _, err := cc.Verify(x509.VerifyOptions{Roots: clusterPool, CurrentTime: t0.Add(time.Hour),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || cc.Subject.CommonName != APIServerClientName {
		t.Fatalf("API server client certificate: %v, CN %q", err, cc.Subject.CommonName)
	}
	if block, _ := pem.Decode(b.NodeCACertPEM); block == nil {
		t.Fatal("no node CA PEM")
	}
}
