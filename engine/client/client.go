package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// Client talks to one API server.
type Client struct {
	server      string
	token       string
	tokenSource func() string
	http        *http.Client
	userAgent   string
	fence       string
}

// Option adjusts a Client.
type Option func(*Client)

// WithUserAgent names the component in server logs.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithTokenSource makes the client ask for its bearer token on every
// request, for credentials that rotate while the client lives (a node's).
func WithTokenSource(f func() string) Option { return func(c *Client) { c.tokenSource = f } }

// WithHTTPClient replaces the HTTP client (tests).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithLeaderFence makes every write of the client conditional on the
// leader term f still holding (see api.LeaderFenceHeader): the client of
// an elected leader's components.
func WithLeaderFence(f api.LeaderFence) Option { return func(c *Client) { c.fence = f.String() } }

// With returns a copy of c with opts applied; it shares c's connections.
func (c *Client) With(opts ...Option) *Client {
	cp := *c
	for _, o := range opts {
		o(&cp)
	}
	return &cp
}

// New builds a client from a config.
func New(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	caPEM := []byte(cfg.CertificateAuthorityData)
	if len(caPEM) == 0 && cfg.CertificateAuthority != "" {
		b, err := os.ReadFile(cfg.CertificateAuthority)
		if err != nil {
			return nil, fmt.Errorf("reading CA certificate: %w", err)
		}
		caPEM = b
	}
	if len(caPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("certificateAuthorityData: no PEM certificate found")
		}
		tlsCfg.RootCAs = pool
	}
	transport := &http.Transport{
		Proxy:               nil, // the API is reached directly, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsCfg,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	c := &Client{
		server:    strings.TrimSuffix(cfg.Server, "/"),
		token:     cfg.Token,
		http:      &http.Client{Transport: transport},
		userAgent: "maestro-client",
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// FromConfigFile loads a config file and builds a client.
func FromConfigFile(path string, opts ...Option) (*Client, error) {
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	return New(cfg, opts...)
}

// Server is the API URL.
func (c *Client) Server() string { return c.server }

// ErrUnreachable wraps failures to connect to the API server.
var ErrUnreachable = errors.New("cannot reach the maestro API server")

// maxThrottleRetries bounds retries of requests the server turned away with
// 429 before doing any work.
const maxThrottleRetries = 5

// Do sends a request and decodes a JSON answer into out (when not nil).
// Non-2xx answers become *api.StatusError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding answer to %s %s: %w", method, path, err)
	}
	return nil
}

// send performs a request and returns a 2xx response with its body open.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encoding request: %w", err)
		}
		payload = b
	}
	u := c.server + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("building request: %w", err)
		}
		token := c.token
		if c.tokenSource != nil {
			token = c.tokenSource()
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.userAgent)
		if c.fence != "" {
			req.Header.Set(api.LeaderFenceHeader, c.fence)
		}
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w at %s: %v (is `maestro server` running?)", ErrUnreachable, c.server, unwrapURLError(err))
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		apiErr := decodeError(resp)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && attempt < maxThrottleRetries {
			wait := time.Duration(attempt+1) * 100 * time.Millisecond
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return nil, apiErr
	}
}

func decodeError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var st api.Status
	if json.Unmarshal(body, &st) == nil && st.Reason != "" {
		return &api.StatusError{Status: st}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return api.NewStatusError(resp.StatusCode, http.StatusText(resp.StatusCode), "%s: %s", resp.Status, msg)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
