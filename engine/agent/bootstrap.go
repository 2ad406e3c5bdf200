package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/pki"
	"github.com/maestro-dev/maestro/engine/client"
)

// credentialsFile holds a joined node's credentials in its data directory.
const credentialsFile = "credentials.json"

// Credentials are what a node gets by joining: its API token, the cluster
// CA, and its serving certificate.
type Credentials struct {
	Server    string `json:"server"`
	Token     string `json:"token"`
	CACertPEM string `json:"caCertificate"`
	CertPEM   string `json:"servingCertificate"`
	KeyPEM    string `json:"servingKey"`
}

// BootstrapConfig describes how a node joins.
type BootstrapConfig struct {
	Server    string
	JoinToken string
	// CAPEM is the cluster CA the server's certificate must chain to.
	CAPEM    []byte
	NodeName string
	Address  string
	DataDir  string
}

// Bootstrap returns the node's credentials: saved ones from an earlier
// join, or new ones obtained with the join token (which may have expired
// since: a joined node no longer needs it).
func Bootstrap(ctx context.Context, cfg BootstrapConfig) (*Credentials, error) {
	path := filepath.Join(cfg.DataDir, credentialsFile)
	if b, err := os.ReadFile(path); err == nil {
		var c Credentials
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		return &c, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if cfg.JoinToken == "" {
		return nil, fmt.Errorf("node %s has not joined yet (no %s): a join token is required (`maestro token create --role join`)", cfg.NodeName, path)
	}
	var ips []net.IP
	if ip := net.ParseIP(cfg.Address); ip != nil {
		ips = append(ips, ip)
	}
	keyPEM, csrPEM, err := pki.NewAgentCSR(cfg.NodeName, ips)
	if err != nil {
		return nil, fmt.Errorf("making the serving key: %w", err)
	}
	joiner, err := client.New(client.Config{Server: cfg.Server, Token: cfg.JoinToken, CertificateAuthorityData: string(cfg.CAPEM)},
		client.WithUserAgent("maestro-agent/"+cfg.NodeName))
	if err != nil {
		return nil, err
	}
	resp, err := joiner.Join(ctx, api.JoinRequest{NodeName: cfg.NodeName, CSR: string(csrPEM)})
	if err != nil {
		return nil, fmt.Errorf("joining %s as node %s: %w", cfg.Server, cfg.NodeName, err)
	}
	c := &Credentials{Server: cfg.Server, Token: resp.Token, CACertPEM: resp.CACertificate, CertPEM: resp.ServingCertificate, KeyPEM: string(keyPEM)}
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("saving node credentials: %w", err)
	}
	return c, nil
}

// Client is an API client authenticated as the node.
func (c *Credentials) Client(opts ...client.Option) (*client.Client, error) {
	return client.New(client.Config{Server: c.Server, Token: c.Token, CertificateAuthorityData: c.CACertPEM}, opts...)
}

// TLS returns the agent's serving certificate and the pool that verifies
// the API server's client certificate.
func (c *Credentials) TLS() (tls.Certificate, *x509.CertPool, error) {
	cert, err := tls.X509KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM))
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("loading the serving certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(c.CACertPEM)) {
		return tls.Certificate{}, nil, errors.New("no cluster CA in the node credentials")
	}
	return cert, pool, nil
}
