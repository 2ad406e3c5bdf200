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
	"net"
	"time"
)

// Names the API server and agents use to recognise each other.
const (
	// APIServerClientName is the common name of the client certificate
	// the API server presents to agents (for logs and stats).
	APIServerClientName = "maestro-apiserver"
)

// ParseAgentCSR decodes and checks an agent's certificate request: a valid
// signature, and no names but the node's own and IP addresses (whether the
// node is admitted with those addresses is the caller's decision).
func ParseAgentCSR(csrPEM []byte, node string) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(csrPEM)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("not a PEM certificate request")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, err
	}
	for _, name := range csr.DNSNames {
		if name != node {
			return nil, fmt.Errorf("DNS name %q is not the node's name %q", name, node)
		}
	}
	if len(csr.URIs)+len(csr.EmailAddresses) > 0 {
		return nil, errors.New("only IP addresses and the node name are allowed")
	}
	return csr, nil
}

// SignAgentServing signs an agent's serving certificate with the node CA,
// valid for validity: the node's name (what the API server verifies) and
// the request's IP addresses.
func (b *Bundle) SignAgentServing(csr *x509.CertificateRequest, node string, validity time.Duration, now time.Time) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "maestro-agent:" + node, Organization: []string{"maestro-nodes"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  csr.IPAddresses,
		DNSNames:     []string{node},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, b.NodeCA, csr.PublicKey, b.nodeCAKey)
	if err != nil {
		return nil, fmt.Errorf("signing agent certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// APIServerClientCertificate issues the in-memory client certificate the
// API server presents to agents.
func (b *Bundle) APIServerClientCertificate(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(b.caKey.Curve, rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: APIServerClientName, Organization: []string{"maestro"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(serverValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, b.CA, &key.PublicKey, b.caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("issuing API server client certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// NewAgentCSR makes a key and a certificate request for an agent's
// serving certificate (used by the agent).
func NewAgentCSR(node string, ips []net.IP) (keyPEM, csrPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "maestro-agent:" + node}, DNSNames: []string{node}, IPAddresses: ips,
	}, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}
