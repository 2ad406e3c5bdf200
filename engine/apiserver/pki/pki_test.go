package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

var allFiles = []string{CACertFile, CAKeyFile, NodeCACertFile, NodeCAKeyFile, ServerCertFile, ServerKeyFile}

func ensure(t *testing.T, dir string, hosts []string, now time.Time) *Bundle {
	t.Helper()
	b, err := Ensure(dir, hosts, now)
	if err != nil {
		t.Fatalf("Ensure(%v, %v): %v", hosts, now, err)
	}
	return b
}

func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range allFiles {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

func leaf(t *testing.T, b *Bundle) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(b.Server.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verify checks the server certificate as a client connecting to host would.
func verify(b *Bundle, cert *x509.Certificate, host string, at time.Time) error {
	pool := x509.NewCertPool()
	pool.AddCert(b.CA)
	_, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

func TestEnsureCreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "pki")
	hosts := []string{"127.0.0.1", "::1", "localhost", "api.example.com", "10.0.0.5", ""}
	b := ensure(t, dir, hosts, t0)

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("pki dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	for f, mode := range map[string]os.FileMode{CACertFile: 0o644, CAKeyFile: 0o600, NodeCACertFile: 0o644, NodeCAKeyFile: 0o600, ServerCertFile: 0o644, ServerKeyFile: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode = %o, want %o", f, fi.Mode().Perm(), mode)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(allFiles) {
		t.Errorf("pki dir holds %d entries (temporary files left?), want %d", len(entries), len(allFiles))
	}

	files := readFiles(t, dir)
	if !bytes.Equal(b.CACertPEM, files[CACertFile]) {
		t.Error("bundle CA PEM differs from ca.crt")
	}
	if !b.CA.IsCA || b.CA.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA certificate cannot sign: IsCA %v usage %v", b.CA.IsCA, b.CA.KeyUsage)
	}
	if b.CA.NotAfter.Before(t0.AddDate(9, 0, 0)) {
		t.Errorf("CA expires %v, want about ten years", b.CA.NotAfter)
	}
	cert := leaf(t, b)
	if cert.IsCA {
		t.Error("server certificate is a CA")
	}
	if cert.NotAfter.Before(t0.AddDate(0, 11, 0)) || cert.NotAfter.After(t0.AddDate(1, 0, 1)) {
		t.Errorf("server certificate expires %v, want about a year after %v", cert.NotAfter, t0)
	}
	for _, h := range hosts[:5] {
		if err := verify(b, cert, h, t0); err != nil {
			t.Errorf("server certificate does not verify for %q: %v", h, err)
		}
	}
	for _, h := range []string{"10.0.0.6", "example.com", "evil.example.com", "::2"} {
		if err := verify(b, cert, h, t0); err == nil {
			t.Errorf("server certificate verifies for %q, which was not asked for", h)
		}
	}
	// Created an hour back, so a peer whose clock is a little behind accepts it.
	if err := verify(b, cert, "localhost", t0.Add(-30*time.Minute)); err != nil {
		t.Errorf("certificate not yet valid half an hour before issue: %v", err)
	}
}

// TestEnsureServesTLS: the bundle works end to end: a client that trusts
// only the CA completes a handshake with a server using the certificate.
func TestEnsureServesTLS(t *testing.T) {
	b := ensure(t, t.TempDir(), []string{"localhost", "127.0.0.1"}, time.Now())
	for _, serverName := range []string{"localhost", "127.0.0.1"} {
		t.Run(serverName, func(t *testing.T) {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(b.CACertPEM) {
				t.Fatal("CA PEM does not parse")
			}
			c, s := net.Pipe()
			defer c.Close()
			defer s.Close()
			srv := tls.Server(s, &tls.Config{Certificates: []tls.Certificate{b.Server}})
			errc := make(chan error, 1)
			go func() {
				err := srv.Handshake()
				if err == nil {
					_, err = srv.Write([]byte("ok"))
				}
				errc <- err
			}()
			cli := tls.Client(c, &tls.Config{RootCAs: pool, ServerName: serverName})
			if err := cli.Handshake(); err != nil {
				t.Fatalf("client handshake: %v", err)
			}
			buf := make([]byte, 2)
			if _, err := io.ReadFull(cli, buf); err != nil || string(buf) != "ok" {
				t.Fatalf("read %q, %v", buf, err)
			}
			if err := <-errc; err != nil {
				t.Fatalf("server: %v", err)
			}
		})
	}
}

func TestEnsureReuses(t *testing.T) {
	dir := t.TempDir()
	hosts := []string{"127.0.0.1", "localhost"}
	first := ensure(t, dir, hosts, t0)
	before := readFiles(t, dir)
	cases := []struct {
		name  string
		hosts []string
		now   time.Time
	}{
		{"same call", hosts, t0},
		{"hosts in another order", []string{"localhost", "127.0.0.1"}, t0},
		{"a subset of the hosts", []string{"localhost"}, t0},
		{"the IP written another way", []string{"::ffff:127.0.0.1", "localhost"}, t0},
		{"months later", hosts, t0.AddDate(0, 10, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := ensure(t, dir, tc.hosts, tc.now)
			after := readFiles(t, dir)
			for _, f := range allFiles {
				if !bytes.Equal(before[f], after[f]) {
					t.Errorf("%s rewritten", f)
				}
			}
			if !bytes.Equal(b.Server.Certificate[0], first.Server.Certificate[0]) || !bytes.Equal(b.CACertPEM, first.CACertPEM) {
				t.Error("bundle differs from the first one")
			}
		})
	}
}

func TestEnsureReissues(t *testing.T) {
	hosts := []string{"127.0.0.1", "localhost"}
	cases := []struct {
		name   string
		hosts  []string
		now    time.Time
		before func(t *testing.T, dir string) // breaks the directory before the second Ensure
	}{
		{"a DNS name added", append(hosts, "api.example.com"), t0, nil},
		{"an IP added", append(hosts, "192.168.1.10"), t0, nil},
		{"an IPv6 address added", append(hosts, "fd00::1"), t0, nil},
		{"near expiry", hosts, t0.AddDate(0, 0, 340), nil},
		{"expired", hosts, t0.AddDate(2, 0, 0), nil},
		{"server key missing", hosts, t0, func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, ServerKeyFile)); err != nil {
				t.Fatal(err)
			}
		}},
		{"server certificate corrupt", hosts, t0, func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, ServerCertFile), []byte("garbage"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"server certificate from another CA", hosts, t0, func(t *testing.T, dir string) {
			other := t.TempDir()
			ensure(t, other, hosts, t0)
			for _, f := range []string{ServerCertFile, ServerKeyFile} {
				b, err := os.ReadFile(filepath.Join(other, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			first := ensure(t, dir, hosts, t0)
			before := readFiles(t, dir)
			if tc.before != nil {
				tc.before(t, dir)
			}
			b := ensure(t, dir, tc.hosts, tc.now)
			after := readFiles(t, dir)
			// The CA is kept: every client and agent trusts it.
			if !bytes.Equal(before[CACertFile], after[CACertFile]) || !bytes.Equal(before[CAKeyFile], after[CAKeyFile]) {
				t.Fatal("CA rewritten")
			}
			if bytes.Equal(before[ServerCertFile], after[ServerCertFile]) || bytes.Equal(before[ServerKeyFile], after[ServerKeyFile]) {
				t.Fatal("server certificate and key not re-issued")
			}
			cert := leaf(t, b)
			if !bytes.Equal(b.Server.Certificate[0], mustPEMBlock(t, after[ServerCertFile])) {
				t.Error("bundle certificate is not the one written")
			}
			if !cert.NotAfter.After(tc.now.AddDate(0, 11, 0)) {
				t.Errorf("new certificate expires %v, want about a year after %v", cert.NotAfter, tc.now)
			}
			for _, h := range tc.hosts {
				if err := verify(b, cert, h, tc.now); err != nil {
					t.Errorf("re-issued certificate does not verify for %q: %v", h, err)
				}
			}
			if !bytes.Equal(first.CACertPEM, b.CACertPEM) {
				t.Error("bundle CA changed")
			}
			for _, f := range []string{CAKeyFile, ServerKeyFile} {
				if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s mode after re-issue = %v, %v; want 0600", f, fi.Mode().Perm(), err)
				}
			}
		})
	}
}

func mustPEMBlock(t *testing.T, b []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate: %q", b)
	}
	return block.Bytes
}

// TestEnsureRenewalWindow: renewal starts 30 days before expiry, not earlier.
func TestEnsureRenewalWindow(t *testing.T) {
	dir := t.TempDir()
	hosts := []string{"localhost"}
	first := leaf(t, ensure(t, dir, hosts, t0))
	if got := leaf(t, ensure(t, dir, hosts, first.NotAfter.Add(-31*24*time.Hour))); !got.Equal(first) {
		t.Error("renewed 31 days before expiry")
	}
	second := leaf(t, ensure(t, dir, hosts, first.NotAfter.Add(-29*24*time.Hour)))
	if second.Equal(first) {
		t.Fatal("not renewed 29 days before expiry")
	}
	if !second.NotAfter.After(first.NotAfter) {
		t.Errorf("renewed certificate expires %v, not after the old %v", second.NotAfter, first.NotAfter)
	}
}

func TestEnsureBrokenCA(t *testing.T) {
	cases := []struct {
		name    string
		files   map[string][]byte // nil value: copy from a good CA
		wantMsg []string
	}{
		{"only ca.crt", map[string][]byte{CACertFile: nil}, []string{"incomplete", CACertFile, CAKeyFile}},
		{"only ca.key", map[string][]byte{CAKeyFile: nil}, []string{"incomplete", CACertFile, CAKeyFile}},
		{"ca.crt not PEM", map[string][]byte{CACertFile: []byte("not a certificate"), CAKeyFile: nil}, []string{"loading cluster CA"}},
		{"ca.key not PEM", map[string][]byte{CACertFile: nil, CAKeyFile: []byte("not a key")}, []string{"loading cluster CA"}},
		{"ca.key holds a certificate", map[string][]byte{CACertFile: nil, CAKeyFile: []byte("swap")}, []string{"loading cluster CA"}},
	}
	good := t.TempDir()
	ensure(t, good, []string{"localhost"}, t0)
	goodFiles := readFiles(t, good)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for f, b := range tc.files {
				switch {
				case b == nil:
					b = goodFiles[f]
				case string(b) == "swap":
					b = goodFiles[CACertFile]
				}
				if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Ensure(dir, []string{"localhost"}, t0)
			if err == nil {
				t.Fatal("Ensure succeeded over a broken CA")
			}
			for _, part := range append(tc.wantMsg, dir) {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
			// Nothing is generated over a broken CA: replacing it would
			// silently break every client that trusts the old one.
			for _, f := range allFiles {
				if _, ok := tc.files[f]; ok {
					continue
				}
				if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
					t.Errorf("%s written next to a broken CA", f)
				}
			}
		})
	}
}

func TestEnsureUnwritableDir(t *testing.T) {
	parent := t.TempDir()
	file := filepath.Join(parent, "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(filepath.Join(file, "pki"), []string{"localhost"}, t0); err == nil {
		t.Error("Ensure under a regular file succeeded")
	}
}

// TestEnsureEtcd: the embedded etcd's material comes from a CA of its own
// (nothing the cluster CA signs passes), is kept across starts, and is
// renewed near expiry.
func TestEnsureEtcd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	cluster := ensure(t, dir, []string{"127.0.0.1"}, t0)
	files, err := EnsureEtcd(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(files.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	check := func(cert, key string, usage x509.ExtKeyUsage, host string) *x509.Certificate {
		t.Helper()
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(pair.Certificate[0])
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("%s: %v", cert, err)
		}
		if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", key, fi.Mode().Perm())
		}
		return c
	}
	server := check(files.ServerCertFile, files.ServerKeyFile, x509.ExtKeyUsageServerAuth, "127.0.0.1")
	check(files.PeerCertFile, files.PeerKeyFile, x509.ExtKeyUsageClientAuth, "localhost")
	client := check(files.ClientCertFile, files.ClientKeyFile, x509.ExtKeyUsageClientAuth, "")
	if client.Subject.CommonName != EtcdClientName {
		t.Errorf("client certificate for %q", client.Subject.CommonName)
	}
	// The cluster CA's certificates do not chain to the etcd CA.
	if _, err := leaf(t, cluster).Verify(x509.VerifyOptions{Roots: pool, CurrentTime: t0}); err == nil {
		t.Error("the API serving certificate verifies against the etcd CA")
	}
	// Kept across starts; renewed within 30 days of expiry.
	again, err := EnsureEtcd(dir, t0.Add(24*time.Hour))
	if err != nil || again != files {
		t.Fatalf("second EnsureEtcd: %v %+v", err, again)
	}
	if s := check(files.ServerCertFile, files.ServerKeyFile, x509.ExtKeyUsageServerAuth, "127.0.0.1"); !s.Equal(server) {
		t.Error("a fresh server certificate was issued without need")
	}
	late := server.NotAfter.Add(-10 * 24 * time.Hour)
	if _, err := EnsureEtcd(dir, late); err != nil {
		t.Fatal(err)
	}
	pair, _ := tls.LoadX509KeyPair(files.ServerCertFile, files.ServerKeyFile)
	if renewed, _ := x509.ParseCertificate(pair.Certificate[0]); !renewed.NotAfter.After(server.NotAfter) {
		t.Errorf("server certificate not renewed near expiry (expires %v)", renewed.NotAfter)
	}
}
