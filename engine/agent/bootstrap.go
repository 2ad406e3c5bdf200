package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver/pki"
	"github.com/maestro-dev/maestro/engine/client"
)

// credentialsFile holds a joined node's credentials in its data directory.
const credentialsFile = "credentials.json"

// ErrNotJoined: the data directory holds no credentials.
var ErrNotJoined = errors.New("agent: node has not joined yet")

// BootstrapConfig describes how a node joins.
type BootstrapConfig struct {
	Server    string
	JoinToken string
	// CAPEM is the cluster CA the server's certificate must chain to.
	CAPEM    []byte
	NodeName string
	// Address is the node's address: its serving certificate names it, so
	// the node must be admitted with it (the join token's addresses, or
	// the address the server sees the join come from).
	Address string
	DataDir string
	// Rejoin joins with JoinToken even when valid credentials are saved
	// (replacing credentials from an older version that never expire).
	Rejoin bool
	Log    *slog.Logger
}

// Bootstrap returns the node's credentials: saved ones from an earlier
// join while they are valid (the join token may have expired since: a
// joined node no longer needs it), or new ones obtained with the join
// token.
func Bootstrap(ctx context.Context, cfg BootstrapConfig) (*Credentials, error) {
	c, err := LoadCredentials(cfg.DataDir, cfg.Log)
	switch {
	case err == nil && !c.Expired(time.Now()) && !(cfg.Rejoin && cfg.JoinToken != ""):
		return c, nil
	case err == nil && cfg.JoinToken == "":
		return nil, fmt.Errorf("the credentials of node %s in %s expired at %s (the agent renews them while it runs): "+
			"join again with a new join token (`maestro token create --role join --node %s`)",
			cfg.NodeName, c.path, c.Expires().Format(time.RFC3339), cfg.NodeName)
	case err != nil && !errors.Is(err, ErrNotJoined):
		return nil, err
	case err != nil && cfg.JoinToken == "":
		return nil, fmt.Errorf("node %s has not joined yet (no %s): a join token is required (`maestro token create --role join`)",
			cfg.NodeName, filepath.Join(cfg.DataDir, credentialsFile))
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
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, err
	}
	return newCredentials(filepath.Join(cfg.DataDir, credentialsFile), cfg.Server, cfg.NodeName, resp, keyPEM, cfg.Log)
}

// LoadCredentials reads the credentials saved in a node's data directory
// (ErrNotJoined when there are none).
func LoadCredentials(dataDir string, log *slog.Logger) (*Credentials, error) {
	path := filepath.Join(dataDir, credentialsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotJoined
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var f credentialFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	c := &Credentials{path: path, log: orDiscard(log)}
	if err := c.set(f); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return c, nil
}

func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
