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
	agentCertValidity   = 365 * 24 * time.Hour
)

// SignAgentServing signs an agent's certificate request with the node CA.
// Only IP addresses and the node's own name are accepted as names.
func (b *Bundle) SignAgentServing(csrPEM []byte, node string, now time.Time) ([]byte, error) {
	block, _ := pem.Decode(csrPEM)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("csr: not a PEM certificate request")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	for _, name := range csr.DNSNames {
		if name != node {
			return nil, fmt.Errorf("csr: DNS name %q is not the node's name %q", name, node)
		}
	}
	if len(csr.URIs)+len(csr.EmailAddresses) > 0 {
		return nil, errors.New("csr: only IP addresses and the node name are allowed")
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "maestro-agent:" + node, Organization: []string{"maestro-nodes"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(agentCertValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  csr.IPAddresses,
		DNSNames:     csr.DNSNames,
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
