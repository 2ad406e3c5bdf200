package store_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/store"
)

// TestDialExternalTLS runs etcd with TLS and client-certificate auth, and
// dials it with and without the client certificate.
func TestDialExternalTLS(t *testing.T) {
	files := writeTestPKI(t)
	client, url := startExternalEtcdWith(t, files) // dials with CA and client cert
	s := store.NewEtcd(client, "/tls")
	if _, err := s.Create(t.Context(), "/k", []byte("over TLS")); err != nil {
		t.Fatal(err)
	}

	// Without the client certificate the server refuses the handshake.
	_, err := store.DialExternal(t.Context(), store.ExternalConfig{
		Endpoints:   []string{url},
		CAFile:      files.CA,
		DialTimeout: 500 * time.Millisecond,
	})
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("dial without a client certificate: %v, want an error naming %s and the certificate", err, url)
	}
	// Without the CA the server's certificate is not trusted.
	_, err = store.DialExternal(t.Context(), store.ExternalConfig{
		Endpoints:   []string{url},
		CertFile:    files.ClientCert,
		KeyFile:     files.ClientKey,
		DialTimeout: 500 * time.Millisecond,
	})
	if err == nil {
		t.Fatal("dial trusting only the system roots succeeded")
	}
}

// writeTestPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA.
func writeTestPKI(t *testing.T) *externalTLS {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "maestro test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	files := &externalTLS{CA: filepath.Join(dir, "ca.pem")}
	writePEM(t, files.CA, "CERTIFICATE", caDER)

	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (certFile, keyFile string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		writePEM(t, certFile, "CERTIFICATE", der)
		writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
		return certFile, keyFile
	}
	files.ServerCert, files.ServerKey = issue("server", 2, x509.ExtKeyUsageServerAuth)
	files.ClientCert, files.ClientKey = issue("client", 3, x509.ExtKeyUsageClientAuth)
	return files
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
