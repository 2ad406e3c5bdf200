package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/pki"
	"github.com/maestro-dev/maestro/engine/client"
)

// Credentials are what a node gets by joining: its API token, the cluster
// CA, and its serving certificate, kept in its data directory. They expire;
// Run renews them before they do, and clients and the agent's server built
// from them pick the new ones up at once.
type Credentials struct {
	path  string
	log   *slog.Logger
	cur   atomic.Pointer[credentialState]
	renew sync.Mutex
}

// credentialFile is the saved form (0600).
type credentialFile struct {
	Server    string `json:"server"`
	Node      string `json:"node,omitempty"`
	Token     string `json:"token"`
	CACertPEM string `json:"caCertificate"`
	CertPEM   string `json:"servingCertificate"`
	KeyPEM    string `json:"servingKey"`
	// Issued (local clock) and Expires (the server's) bound the lifetime;
	// credentials from before expiry existed have neither.
	Issued  time.Time  `json:"issued,omitzero"`
	Expires *time.Time `json:"expires,omitempty"`
}

type credentialState struct {
	file credentialFile
	cert tls.Certificate
}

// Renewal retries after a failure, doubling up to the maximum.
const (
	renewRetryMin = 30 * time.Second
	renewRetryMax = 10 * time.Minute
	// renewRecheck bounds a wait for the renewal time, so a clock jump
	// cannot make the agent sleep past it.
	renewRecheck = time.Hour
)

func newCredentials(path, server, node string, resp api.JoinResponse, keyPEM []byte, log *slog.Logger) (*Credentials, error) {
	c := &Credentials{path: path, log: orDiscard(log)}
	f := credentialFile{Server: server, Node: node, Token: resp.Token, CACertPEM: resp.CACertificate,
		CertPEM: resp.ServingCertificate, KeyPEM: string(keyPEM), Issued: time.Now().UTC(), Expires: resp.Expires}
	if err := c.set(f); err != nil {
		return nil, fmt.Errorf("node credentials: %w", err)
	}
	if err := c.save(); err != nil {
		return nil, err
	}
	return c, nil
}

// set makes f the current credentials.
func (c *Credentials) set(f credentialFile) error {
	cert, err := tls.X509KeyPair([]byte(f.CertPEM), []byte(f.KeyPEM))
	if err != nil {
		return fmt.Errorf("loading the serving certificate: %w", err)
	}
	if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
		return fmt.Errorf("parsing the serving certificate: %w", err)
	}
	if f.Node == "" { // saved before the field existed
		f.Node = strings.TrimPrefix(cert.Leaf.Subject.CommonName, "maestro-agent:")
	}
	c.cur.Store(&credentialState{file: f, cert: cert})
	return nil
}

// save writes the current credentials atomically: a crash leaves the old
// ones or the new ones, never half of each.
func (c *Credentials) save() error {
	b, err := json.MarshalIndent(c.cur.Load().file, "", "  ")
	if err != nil {
		return err
	}
	if err := pki.WriteFileAtomic(c.path, b, 0o600); err != nil {
		return fmt.Errorf("saving node credentials: %w", err)
	}
	return nil
}

// Client is an API client authenticated as the node, with whatever token
// is current at each request.
func (c *Credentials) Client(opts ...client.Option) (*client.Client, error) {
	f := c.cur.Load().file
	opts = append([]client.Option{client.WithTokenSource(c.token)}, opts...)
	return client.New(client.Config{Server: f.Server, Token: f.Token, CertificateAuthorityData: f.CACertPEM}, opts...)
}

func (c *Credentials) token() string { return c.cur.Load().file.Token }

// TLS returns the agent's current serving certificate and the pool that
// verifies the API server's client certificate.
func (c *Credentials) TLS() (tls.Certificate, *x509.CertPool, error) {
	s := c.cur.Load()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(s.file.CACertPEM)) {
		return tls.Certificate{}, nil, errors.New("no cluster CA in the node credentials")
	}
	return s.cert, pool, nil
}

// GetCertificate serves the current certificate (tls.Config.GetCertificate).
func (c *Credentials) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return &c.cur.Load().cert, nil
}

// Expires is when the credentials stop working (zero: unknown, from
// before credentials expired).
func (c *Credentials) Expires() time.Time {
	if e := c.cur.Load().file.Expires; e != nil {
		return *e
	}
	return time.Time{}
}

// Expired reports whether the credentials no longer work at now.
func (c *Credentials) Expired(now time.Time) bool {
	e := c.Expires()
	return !e.IsZero() && !now.Before(e)
}

// renewAt is when to renew: after two thirds of the lifetime, at once for
// credentials without a known expiry (which renewing gives them).
func (c *Credentials) renewAt() time.Time {
	f := c.cur.Load().file
	if f.Expires == nil {
		return time.Time{}
	}
	issued := f.Issued
	if issued.IsZero() || issued.After(*f.Expires) {
		issued = time.Now()
	}
	return issued.Add(f.Expires.Sub(issued) * 2 / 3)
}

// Renew exchanges the current credentials for new ones (a new key, the
// same admitted addresses) and saves them before using them.
func (c *Credentials) Renew(ctx context.Context) error {
	c.renew.Lock()
	defer c.renew.Unlock()
	s := c.cur.Load()
	keyPEM, csrPEM, err := pki.NewAgentCSR(s.file.Node, s.cert.Leaf.IPAddresses)
	if err != nil {
		return fmt.Errorf("making a serving key: %w", err)
	}
	cl, err := c.Client(client.WithUserAgent("maestro-agent/" + s.file.Node))
	if err != nil {
		return err
	}
	resp, err := cl.RenewNodeCredentials(ctx, api.JoinRequest{NodeName: s.file.Node, CSR: string(csrPEM)})
	if err != nil {
		return fmt.Errorf("renewing the credentials of node %s: %w", s.file.Node, err)
	}
	next := s.file
	next.Token, next.CertPEM, next.KeyPEM, next.Issued, next.Expires = resp.Token, resp.ServingCertificate, string(keyPEM), time.Now().UTC(), resp.Expires
	if resp.CACertificate != "" {
		next.CACertPEM = resp.CACertificate
	}
	prev := c.cur.Load()
	if err := c.set(next); err != nil {
		return err
	}
	if err := c.save(); err != nil {
		c.cur.Store(prev) // the server still honours the old token for a while
		return err
	}
	c.log.Info("node credentials renewed", "node", s.file.Node, "expires", c.Expires())
	return nil
}

// Run renews the credentials whenever they are due until ctx ends,
// retrying failures with backoff (the old ones keep working meanwhile).
func (c *Credentials) Run(ctx context.Context) {
	retry := renewRetryMin
	for {
		wait := time.Until(c.renewAt())
		if wait <= 0 {
			err := c.Renew(ctx)
			if err == nil {
				retry = renewRetryMin
				continue
			}
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("renewing node credentials failed; retrying", "err", err, "expires", c.Expires(), "retry_in", retry)
			wait, retry = retry, min(retry*2, renewRetryMax)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(wait, renewRecheck)):
		}
	}
}
