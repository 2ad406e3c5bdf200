//go:build linux

package testbed

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv"
)

// DefaultServerPort is the port StartServer's API listens on.
const DefaultServerPort = 6443

// startTimeout bounds how long a server may take to answer.
const startTimeout = 2 * time.Minute

// Server is a `maestro server` (this checkout's binary) running inside a
// host, reachable from the test process through the uplink.
type Server struct {
	*Process
	// Host is where the server runs.
	Host *Host
	// URL is the API's address (https://<host address>:<port>).
	URL string
	// Config is the admin client config the server wrote; ConfigPath the
	// file holding it (for `maestro --config` and the Terraform provider).
	Config     client.Config
	ConfigPath string
	// Client is an admin client (from the test process).
	Client *client.Client
	// DataDir is the server's --data-dir.
	DataDir string
}

// ServerOptions adjust StartServer.
type ServerOptions struct {
	// Port is the API's port (default DefaultServerPort).
	Port int
	// Args are more `maestro server` flags (--service-cidr, --pod-cidr...).
	Args []string
}

// StartServer runs `maestro server` inside host h, its API on h's
// address, and waits until it answers the test process.
func (tb *Testbed) StartServer(h *Host, opts ServerOptions) *Server {
	tb.t.Helper()
	if opts.Port == 0 {
		opts.Port = DefaultServerPort
	}
	bin := testenv.BuildBinary(tb.t, "./cmd/maestro")
	dir := filepath.Join(tb.logDir, "server-"+h.Name)
	s := &Server{Host: h, DataDir: filepath.Join(dir, "data"), ConfigPath: filepath.Join(dir, "client-config"),
		URL: "https://" + netip.AddrPortFrom(h.Addr, uint16(opts.Port)).String()}
	argv := append([]string{bin, "server", "--data-dir", s.DataDir,
		"--listen", netip.AddrPortFrom(h.Addr, uint16(opts.Port)).String(),
		"--client-config", s.ConfigPath}, opts.Args...)
	p, err := h.Start(context.Background(), "server", argv, nil)
	if err != nil {
		tb.t.Fatal(err)
	}
	s.Process = p
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.waitReady(ctx); err != nil {
		tb.t.Fatalf("testbed: maestro server in %s: %v\n%s", h, err, p.tail(40))
	}
	return s
}

// waitReady polls until the client config exists and the API answers.
func (s *Server) waitReady(ctx context.Context) error {
	var last error
	for {
		select {
		case <-s.Done():
			return fmt.Errorf("exited: %v", s.Err())
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v: %v", startTimeout, last)
		case <-time.After(200 * time.Millisecond):
		}
		cfg, err := client.LoadConfig(s.ConfigPath)
		if err != nil {
			last = err
			continue
		}
		c, err := client.New(cfg, client.WithUserAgent("testbed"))
		if err != nil {
			return err
		}
		if _, err := c.Version(ctx); err != nil {
			last = err
			continue
		}
		s.Config, s.Client = cfg, c
		return nil
	}
}

// AgentOptions adjust StartAgent.
type AgentOptions struct {
	// Runtime is "docker" (default) or "process".
	Runtime string
	// Args are more `maestro agent` flags (--labels, --heartbeat-interval...).
	Args []string
}

// StartAgent runs `maestro agent` inside the host, joined to srv with a
// fresh single-use join token, as node h.NodeName() at h's address, its
// data under the test bed's log directory. With the Docker runtime the
// pause image is this checkout's. It returns once the agent is started;
// the test waits for its Node as it needs.
func (h *Host) StartAgent(srv *Server, opts AgentOptions) *Process {
	t := h.tb.t
	t.Helper()
	if opts.Runtime == "" {
		opts.Runtime = "docker"
	}
	bin := testenv.BuildBinary(t, "./cmd/maestro")
	dir := filepath.Join(h.tb.logDir, "agent-"+h.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, []byte(srv.Config.CertificateAuthorityData), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := srv.Client.CreateToken(ctx, api.TokenRequest{Role: "join", Node: h.NodeName(),
		TTLSeconds: int64(time.Hour / time.Second), Description: "testbed host " + h.Name})
	if err != nil {
		t.Fatalf("testbed: join token for %s: %v", h, err)
	}
	argv := []string{bin, "agent", "--server", srv.URL, "--ca-file", caFile, "--join-token", tok.Token,
		"--node-name", h.NodeName(), "--address", h.Addr.String(), "--data-dir", filepath.Join(dir, "data"),
		"--runtime", opts.Runtime}
	if opts.Runtime == "docker" {
		argv = append(argv, "--infra-image", testenv.PauseImage(t))
	}
	p, err := h.Start(context.Background(), "agent", append(argv, opts.Args...), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// WaitNodeReady waits until the node of host h is Ready on srv.
func (srv *Server) WaitNodeReady(ctx context.Context, h *Host) error {
	var last string
	for {
		n, err := srv.Client.Nodes().Get(ctx, h.NodeName())
		switch {
		case err != nil:
			last = err.Error()
		case api.IsNodeReady(n):
			return nil
		default:
			last = fmt.Sprintf("not Ready: %+v", n.Status.Conditions)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testbed: node %s: %s", h.NodeName(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
