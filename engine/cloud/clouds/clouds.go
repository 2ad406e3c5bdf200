// Package clouds resolves a NodePool to the cloud.Cloud its machines come
// from: one shared local cloud for `local` pools (machines as processes of
// this host under <data dir>/machines), and an ssh, EC2 or Compute Engine
// cloud per `ssh`, `aws` or `gcp` pool built from the pool's settings and
// its key or credentials secret. The node pool
// and machine controllers take a Resolver, so they never know which clouds
// exist.
package clouds

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"github.com/maestro-dev/maestro/engine/agent/leftovers"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/local"
	"github.com/maestro-dev/maestro/engine/cloud/ssh"
)

// Resolver gives the cloud of a pool.
type Resolver interface {
	For(ctx context.Context, pool *api.NodePool) (cloud.Cloud, error)
}

// SSHKeyField is the key of an ssh pool's private key in its secret.
const SSHKeyField = "privateKey"

// Options configure the resolver.
type Options struct {
	// DataDir is the server's data directory: local machines live under
	// <DataDir>/machines (required for local pools).
	DataDir string
	// Binary is the maestro binary machines run (default: this executable).
	Binary string
	// LocalAgentArgs are added to every local machine's `maestro agent`
	// command line (e.g. --infra-image, --runtime).
	LocalAgentArgs []string
	// LocalNetwork, when set, makes every local machine an emulated host on
	// this bridge and subnet (local.Network): its agent runs its own service
	// proxy and pod network, and joins LocalServerURL (the server at the
	// bridge's address). Nil: local machines share this host's network.
	LocalNetwork   *local.Network
	LocalServerURL string
	// Client reads ssh pools' key secrets (namespace maestro-system).
	Client *client.Client
	// SSHAgentArgs are added to every ssh machine's `maestro agent`
	// command line.
	SSHAgentArgs []string
	// CloudAgentArgs are added to every aws and gcp machine's `maestro
	// agent` command line (in its user data).
	CloudAgentArgs []string
	// NewSSH builds an ssh pool's cloud from the pool and its private key
	// (default: NewSSHCloud with Binary and SSHAgentArgs).
	NewSSH func(pool *api.NodePool, privateKey cloud.Secret) (cloud.Cloud, error)
	Logger *slog.Logger
}

// Clouds is the Resolver over local and ssh clouds.
type Clouds struct {
	opts Options

	mu    sync.Mutex
	local *local.Cloud
	pools map[string]poolEntry // <provider>/<pool name> -> its cloud, for one pool generation and secret version
}

type poolEntry struct {
	generation int64
	keyVersion int64
	cloud      cloud.Cloud
}

var _ Resolver = (*Clouds)(nil)

// New returns a resolver.
func New(opts Options) (*Clouds, error) {
	if opts.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("clouds: Options.Binary: no default (%w)", err)
		}
		opts.Binary = exe
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.NewSSH == nil {
		opts.NewSSH = func(pool *api.NodePool, key cloud.Secret) (cloud.Cloud, error) {
			return NewSSHCloud(pool, key, opts.Binary, opts.SSHAgentArgs, opts.Logger)
		}
	}
	return &Clouds{opts: opts, pools: map[string]poolEntry{}}, nil
}

// For implements Resolver.
func (c *Clouds) For(ctx context.Context, pool *api.NodePool) (cloud.Cloud, error) {
	switch pool.Spec.Provider {
	case api.ProviderLocal:
		return c.localCloud()
	case api.ProviderSSH:
		return c.sshCloud(ctx, pool)
	case api.ProviderAWS:
		return c.awsCloud(ctx, pool)
	case api.ProviderGCP:
		return c.gcpCloud(ctx, pool)
	}
	return nil, cloud.Errorf(cloud.ErrInvalid, pool.Spec.Provider, "create",
		"pool %s: spec.provider %q is not available on this server (local, ssh, aws, gcp)", pool.Name, pool.Spec.Provider)
}

func (c *Clouds) localCloud() (cloud.Cloud, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.local != nil {
		return c.local, nil
	}
	if c.opts.DataDir == "" {
		return nil, cloud.Errorf(cloud.ErrInvalid, api.ProviderLocal, "create", "local machines need the server's data directory")
	}
	lo := local.Options{Root: filepath.Join(c.opts.DataDir, "machines"),
		Command: LocalAgentCommand(c.opts.Binary, c.opts.LocalAgentArgs...), Uninstall: c.uninstallLocal, Logger: c.opts.Logger}
	if c.opts.LocalNetwork != nil {
		lo.Network, lo.Command = c.opts.LocalNetwork, local.AgentCommand(c.opts.Binary, c.opts.LocalAgentArgs...)
	}
	lc, err := local.New(lo)
	if err != nil {
		return nil, err
	}
	c.local = lc
	return lc, nil
}

// ServerURL is the API server URL machines of pool join: LocalServerURL
// for local pools on a LocalNetwork, else "" (the controller's default).
func (c *Clouds) ServerURL(pool *api.NodePool) string {
	if pool.Spec.Provider == api.ProviderLocal && c.opts.LocalNetwork != nil {
		return c.opts.LocalServerURL
	}
	return ""
}

// LocalAgentCommand is the command of a local machine: `maestro agent`
// as local.AgentCommand runs it, on the address its join comes from (the
// server's, when it is an IP: the machines share this host with it; else
// 127.0.0.1), serving logs on a free port, without a service proxy (one
// proxy per host: the host's own, not each machine's).
func LocalAgentCommand(binary string, extraArgs ...string) func(local.Spec) []string {
	return func(s local.Spec) []string {
		args := append([]string{"--address", localAddress(s.ServerURL), "--port", "0", "--proxy=false"}, extraArgs...)
		return local.AgentCommand(binary, args...)(s)
	}
}

// uninstallLocal removes a deleted local machine's pods (its agent, stopped
// or killed, leaves them to adopt them when it comes back) and pod network.
// The machine's cluster is the cluster id its agent labels everything with
// (the machine controller's cloud cluster) and its name is its node's. A
// Docker engine that does not answer is logged, not an error: it must not
// keep a machine from ever being deleted.
func (c *Clouds) uninstallLocal(ctx context.Context, m cloud.Machine) error {
	nodes := []string{m.Name}
	if !processRuntime(c.opts.LocalAgentArgs) {
		if err := leftovers.RemoveContainers(ctx, m.Cluster, nodes); err != nil {
			c.opts.Logger.Warn("could not remove a deleted machine's containers", "machine", m.ID, "node", m.Name, "err", err)
		}
	}
	return leftovers.RemoveNetworks(ctx, m.Cluster, nodes)
}

// processRuntime reports whether agent args choose the process runtime
// (whose pods are processes of the agent's session, stopped with it).
func processRuntime(args []string) bool {
	for i, a := range args {
		if a == "--runtime=process" || a == "--runtime" && i+1 < len(args) && args[i+1] == "process" {
			return true
		}
	}
	return false
}

// localAddress is the address a process on this host reaches serverURL
// from: the server's own IP (a local one, as the machines run beside the
// server), or loopback for a name.
func localAddress(serverURL string) string {
	u, err := url.Parse(serverURL)
	if err == nil {
		if ip := net.ParseIP(u.Hostname()); ip != nil && !ip.IsUnspecified() {
			return ip.String()
		}
	}
	return "127.0.0.1"
}

// sshCloud builds (or reuses, while the pool's generation and key secret
// are unchanged) the cloud of an ssh pool.
func (c *Clouds) sshCloud(ctx context.Context, pool *api.NodePool) (cloud.Cloud, error) {
	if c.opts.NewSSH == nil {
		return nil, cloud.Errorf(cloud.ErrInvalid, api.ProviderSSH, "create", "pool %s: ssh pools are not available on this server", pool.Name)
	}
	if pool.Spec.SSH == nil {
		return nil, cloud.Errorf(cloud.ErrInvalid, api.ProviderSSH, "create", "pool %s: spec.ssh: required", pool.Name)
	}
	key, keyVersion, err := c.sshKey(ctx, pool)
	if err != nil {
		return nil, err
	}
	return c.cached(pool, keyVersion, func() (cloud.Cloud, error) { return c.opts.NewSSH(pool, key) })
}

// sshKey reads the pool's private key secret; no secret named is no key
// (the ssh cloud then says what it lacks).
func (c *Clouds) sshKey(ctx context.Context, pool *api.NodePool) (cloud.Secret, int64, error) {
	data, version, err := c.secretData(ctx, pool, api.ProviderSSH, "spec.ssh.privateKeySecretRef", pool.Spec.SSH.PrivateKeySecretRef, SSHKeyField)
	return cloud.Secret(data[SSHKeyField]), version, err
}

// NewSSHCloud is the ssh cloud of a pool: its hosts, user, port, pinned
// host keys and install directory, authenticating with key, installing
// binary and running `maestro agent` with agentArgs.
func NewSSHCloud(pool *api.NodePool, key cloud.Secret, binary string, agentArgs []string, log *slog.Logger) (cloud.Cloud, error) {
	c := pool.Spec.SSH
	return ssh.New(ssh.Options{
		Hosts: c.Hosts, User: c.User, Port: int(c.Port), PrivateKey: key,
		HostKeys: c.HostKeys, InsecureIgnoreHostKey: c.InsecureIgnoreHostKey, InstallDir: c.InstallDir,
		Binary: binary, AgentArgs: agentArgs, Logger: log.With("pool", pool.Name),
	})
}
