package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// Config describes one agent.
type Config struct {
	NodeName string
	// Client is authenticated as the node (see Bootstrap).
	Client  *client.Client
	Runtime runtime.Runtime
	// Address is the node's address: its InternalIP, where host ports are
	// published and the agent serves logs and stats.
	Address string
	// Labels are added to the node's own (zone, pool, instance type...).
	Labels map[string]string
	Taints []api.Taint
	// Capacity overrides what the host reports (cpu, memory, pods).
	Capacity api.ResourceList
	// DataDir holds pod volumes and the agent's state (the pod network's
	// addresses in DataDir/network).
	DataDir string

	// ServerPort is where logs and stats are served (on Address); 0 picks a free port.
	ServerPort int
	// ServingCert is the agent's certificate (signed by the node CA) and
	// ClusterCA verifies the API server's client certificate.
	ServingCert tls.Certificate
	ClusterCA   *x509.CertPool
	// Credentials, when set, are the node's joined credentials: the agent
	// renews them before they expire (Client should come from them, so it
	// follows) and serves with their current certificate instead of
	// ServingCert.
	Credentials *Credentials

	HeartbeatInterval  time.Duration
	ResyncInterval     time.Duration
	RestartBackoffBase time.Duration
	RestartBackoffMax  time.Duration
	ImagePullTimeout   time.Duration
	// MetricsInterval is how often container usage is sampled and
	// reported to the API server (default DefaultMetricsInterval).
	MetricsInterval time.Duration

	// DNS is the resolver configuration pods with dnsPolicy ClusterFirst get.
	DNS *runtime.DNSConfig
	// ServiceEnv returns service environment variables for a namespace
	// (FOO_SERVICE_HOST...), added before a container's own env.
	ServiceEnv func(namespace string) []string

	// Mesh configures the routes to other nodes' pods.
	Mesh MeshConfig

	Version string
	Log     *slog.Logger
}

// Defaults.
const (
	DefaultHeartbeatInterval  = 3 * time.Second
	DefaultResyncInterval     = 10 * time.Second
	DefaultRestartBackoffBase = 10 * time.Second
	DefaultRestartBackoffMax  = 5 * time.Minute
	DefaultImagePullTimeout   = 2 * time.Minute
	DefaultMetricsInterval    = 10 * time.Second
	DefaultServerPort         = 10250
)

func (c *Config) setDefaults() error {
	switch {
	case c.NodeName == "":
		return errors.New("agent: node name required")
	case c.Client == nil:
		return errors.New("agent: API client required")
	case c.Runtime == nil:
		return errors.New("agent: runtime required")
	case c.Address == "":
		return errors.New("agent: node address required")
	case c.DataDir == "":
		return errors.New("agent: data directory required")
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.ResyncInterval <= 0 {
		c.ResyncInterval = DefaultResyncInterval
	}
	if c.RestartBackoffBase <= 0 {
		c.RestartBackoffBase = DefaultRestartBackoffBase
	}
	if c.RestartBackoffMax <= 0 {
		c.RestartBackoffMax = DefaultRestartBackoffMax
	}
	if c.ImagePullTimeout <= 0 {
		c.ImagePullTimeout = DefaultImagePullTimeout
	}
	if c.MetricsInterval <= 0 {
		c.MetricsInterval = DefaultMetricsInterval
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return nil
}
