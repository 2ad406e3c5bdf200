// Package pki creates and renews the API server's TLS material in its data
// directory: a cluster CA (kept for ten years) and a serving certificate for
// the addresses the server listens on (renewed when it nears expiry or its
// addresses change).
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// File names inside the PKI directory.
const (
	CACertFile     = "ca.crt"
	CAKeyFile      = "ca.key"
	NodeCACertFile = "node-ca.crt"
	NodeCAKeyFile  = "node-ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
)

const (
	caValidity     = 10 * 365 * 24 * time.Hour
	serverValidity = 365 * 24 * time.Hour
	renewBefore    = 30 * 24 * time.Hour
)

// Bundle is the loaded TLS material.
type Bundle struct {
	CACertPEM []byte
	CA        *x509.Certificate
	caKey     *ecdsa.PrivateKey
	Server    tls.Certificate
	// NodeCA signs only the agents' serving certificates, so a node's
	// certificate can never pass for the API server with clients that
	// trust the cluster CA.
	NodeCACertPEM []byte
	NodeCA        *x509.Certificate
	nodeCAKey     *ecdsa.PrivateKey
}

// Ensure loads the CA and serving certificate from dir, creating or renewing
// them as needed so the certificate covers hosts (IPs or DNS names).
func Ensure(dir string, hosts []string, now time.Time) (*Bundle, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating pki directory: %w", err)
	}
	caCert, caKey, caPEM, err := ensureCA(dir, CACertFile, CAKeyFile, "maestro-ca", "cluster CA", now)
	if err != nil {
		return nil, err
	}
	nodeCert, nodeKey, nodePEM, err := ensureCA(dir, NodeCACertFile, NodeCAKeyFile, "maestro-node-ca", "node CA", now)
	if err != nil {
		return nil, err
	}
	b := &Bundle{CACertPEM: caPEM, CA: caCert, caKey: caKey, NodeCACertPEM: nodePEM, NodeCA: nodeCert, nodeCAKey: nodeKey}
	certPath, keyPath := filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile)
	if cert, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil && serverCertOK(cert, caCert, hosts, now) {
		b.Server = cert
		return b, nil
	}
	if err := issueServerCert(dir, caCert, caKey, hosts, now); err != nil {
		return nil, err
	}
	if b.Server, err = tls.LoadX509KeyPair(certPath, keyPath); err != nil {
		return nil, fmt.Errorf("loading new server certificate: %w", err)
	}
	return b, nil
}

func ensureCA(dir, certFile, keyFile, commonName, label string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	certPath, keyPath := filepath.Join(dir, certFile), filepath.Join(dir, keyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	if certErr == nil && keyErr == nil {
		cert, key, err := parsePair(certPEM, keyPEM)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("loading %s from %s: %w", label, dir, err)
		}
		return cert, key, certPEM, nil
	}
	if !errors.Is(certErr, os.ErrNotExist) || !errors.Is(keyErr, os.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("%s in %s is incomplete (need both %s and %s)", label, dir, certFile, keyFile)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generating CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"maestro"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating CA certificate: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeKeyPair(certPath, keyPath, certPEM, key); err != nil {
		return nil, nil, nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key, certPEM, nil
}

func issueServerCert(dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string, now time.Time) error {
	return issueLeaf(filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile), ca, caKey, leafSpec{
		commonName: "maestro-apiserver", validity: serverValidity, hosts: hosts,
		usage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, now)
}

// leafSpec describes a certificate a CA of the data directory issues.
type leafSpec struct {
	commonName string
	validity   time.Duration
	hosts      []string // IPs or DNS names
	usage      []x509.ExtKeyUsage
}

// issueLeaf makes a key and a certificate signed by ca and writes both.
func issueLeaf(certPath, keyPath string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, spec leafSpec, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generating key for %s: %w", certPath, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: spec.commonName, Organization: []string{"maestro"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(spec.validity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  spec.usage,
	}
	for _, h := range spec.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("creating certificate %s: %w", certPath, err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return writeKeyPair(certPath, keyPath, certPEM, key)
}

// serverCertOK reports whether an existing certificate is signed by the CA,
// covers every host, and is not close to expiry.
func serverCertOK(cert tls.Certificate, ca *x509.Certificate, hosts []string, now time.Time) bool {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil || leaf.CheckSignatureFrom(ca) != nil || now.Add(renewBefore).After(leaf.NotAfter) {
		return false
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
				return false
			}
		} else if h != "" && !slices.Contains(leaf.DNSNames, h) {
			return false
		}
	}
	return true
}

func writeKeyPair(certPath, keyPath string, certPEM []byte, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	if err := WriteFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return WriteFileAtomic(certPath, certPEM, 0o644)
}

func parsePair(certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// WriteFileAtomic writes through a synced temporary file and a rename, so
// a crash never leaves a half-written key or credential.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}
