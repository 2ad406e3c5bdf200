package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/apiserver"
	"github.com/maestro-dev/maestro/engine/apiserver/allocator"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/engine/store"
)

// Config describes one control plane process.
type Config struct {
	// DataDir holds the embedded etcd member, the PKI, the encryption key
	// and the bootstrap admin token.
	DataDir string
	// Listen is the API's host:port; port 0 picks a free one.
	Listen string
	// AdvertiseAddress is the host clients use to reach the API (default:
	// the listen host, or 127.0.0.1 when listening on all addresses).
	AdvertiseAddress string
	// TLSSANs are extra names or IPs for the serving certificate.
	TLSSANs []string

	// EtcdEndpoints selects an external etcd cluster instead of the
	// embedded member.
	EtcdEndpoints                         []string
	EtcdCAFile, EtcdCertFile, EtcdKeyFile string
	// EtcdPrefix scopes this cluster's keys (several clusters may share one etcd).
	EtcdPrefix string
	// EncryptionKeyFile holds the AES-256 key for secrets at rest (default
	// <data-dir>/encryption.key, created on first start). Servers sharing
	// an external etcd must share the key.
	EncryptionKeyFile string

	// ClientConfigPath is where the client config (endpoint, CA, admin
	// token) is written; "" means the default path, "-" writes none.
	ClientConfigPath string

	// ServiceCIDR is the range Services' cluster IPs are allocated from
	// (default allocator.DefaultServiceCIDR, 10.96.0.0/16); its tenth
	// address is the cluster DNS address. Servers sharing an etcd must
	// agree on it.
	ServiceCIDR netip.Prefix
	// NodePortRange is the range node ports are allocated from (default
	// allocator.DefaultNodePortRange, 30000-32767).
	NodePortRange allocator.PortRange
	// PodCIDR is the cluster's pod range (default network.DefaultPodCIDR,
	// 10.244.0.0/16); each node gets a CIDR of NodeCIDRMaskSize bits
	// (default network.DefaultNodeCIDRMaskSize, 24) from it when it
	// registers. It must not overlap ServiceCIDR.
	PodCIDR          netip.Prefix
	NodeCIDRMaskSize int
	// PodNetworkMode is how nodes route each other's pods: api.PodNetworkAuto
	// (default), api.PodNetworkHostGW or api.PodNetworkWireGuard.
	PodNetworkMode string

	MaxRequestBytes int64
	// NodeCredentialTTL is the lifetime of node credentials (default
	// DefaultNodeCredentialTTL).
	NodeCredentialTTL time.Duration
	// AgentBinary is the maestro binary served to bootstrapping cloud
	// machines (`maestro server` sets its own); empty serves none.
	AgentBinary string
	// MetricsInterval is how often agents report usage; the API server
	// forgets a node silent for 3 intervals (default 10 s).
	MetricsInterval time.Duration
	Version         string
	Log             *slog.Logger
	// UnsafeNoFsync makes the embedded etcd skip fsync (tests, benchmarks).
	UnsafeNoFsync bool
	// ShutdownTimeout bounds a graceful stop.
	ShutdownTimeout time.Duration

	// Leader runs on the elected leader only, with a client of the local
	// API server, until its context ends (leadership lost or shutdown):
	// the scheduler and controllers (engine/manager). Nil runs none.
	Leader func(ctx context.Context, c *client.Client)

	// LeaseTTL bounds how long a dead leader keeps leadership of the
	// scheduler and controllers (default DefaultLeaseTTL).
	LeaseTTL time.Duration

	// Restore is a backup file (`maestro backup create`) restored into the
	// embedded etcd member before the server starts. The data directory
	// must not hold a member yet; the key file must hold the keys the
	// backed-up secrets were sealed with.
	Restore string
	// BackupInterval, when positive, makes the leader write a backup every
	// interval into BackupDir (default <data-dir>/backups), keeping the
	// newest BackupRetain (default DefaultBackupRetain).
	BackupInterval time.Duration
	BackupRetain   int
	BackupDir      string
	// KeyFilePollInterval is how often the key file is read again, to pick
	// up keys another server added (default DefaultKeyFilePollInterval).
	KeyFilePollInterval time.Duration
	// MaxObjectBytes bounds one stored object (default
	// registry.DefaultMaxObjectBytes, 1 MiB: below etcd's request limit).
	MaxObjectBytes int
	// EtcdRequestTimeout bounds every store call (default
	// store.DefaultRequestTimeout): during an etcd outage requests answer
	// 503 after it instead of hanging.
	EtcdRequestTimeout time.Duration
	// Limits bound what one client can take of the API server (seats per
	// priority level and identity, open watches, read and write
	// deadlines); zero values take apiserver.DefaultLimits.
	Limits apiserver.Limits
}

// Defaults.
const (
	DefaultListen     = "127.0.0.1:6443"
	DefaultEtcdPrefix = "/maestro"
	// DefaultNodeCredentialTTL is how long node credentials last.
	DefaultNodeCredentialTTL = apiserver.DefaultNodeCredentialTTL
)

func (c *Config) setDefaults() error {
	if c.DataDir == "" {
		return errors.New("data directory: required (--data-dir)")
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.EtcdPrefix == "" {
		c.EtcdPrefix = DefaultEtcdPrefix
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	c.Limits = c.Limits.WithDefaults()
	if c.EtcdRequestTimeout <= 0 {
		c.EtcdRequestTimeout = store.DefaultRequestTimeout
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if !c.ServiceCIDR.IsValid() {
		c.ServiceCIDR = allocator.DefaultServiceCIDR
	}
	if c.KeyFilePollInterval <= 0 {
		c.KeyFilePollInterval = DefaultKeyFilePollInterval
	}
	if c.BackupRetain <= 0 {
		c.BackupRetain = DefaultBackupRetain
	}
	if c.BackupDir == "" {
		c.BackupDir = filepath.Join(c.DataDir, "backups")
	}
	if c.Restore != "" && len(c.EtcdEndpoints) > 0 {
		return errors.New("--restore restores into the embedded etcd member; to restore an external etcd, " +
			"extract the snapshot with `maestro backup extract` and restore it with etcdutl (see README)")
	}
	if c.NodePortRange == (allocator.PortRange{}) {
		c.NodePortRange = allocator.DefaultNodePortRange
	}
	if err := allocator.ValidateServiceCIDR(c.ServiceCIDR); err != nil {
		return fmt.Errorf("%w (--service-cidr)", err)
	}
	if err := c.NodePortRange.Validate(); err != nil {
		return fmt.Errorf("%w (--service-node-port-range)", err)
	}
	return c.setPodNetworkDefaults()
}

// setPodNetworkDefaults fills and checks the pod network settings; errors
// name the flag at fault.
func (c *Config) setPodNetworkDefaults() error {
	if !c.PodCIDR.IsValid() {
		c.PodCIDR = network.DefaultPodCIDR
	}
	if c.NodeCIDRMaskSize == 0 {
		c.NodeCIDRMaskSize = network.DefaultNodeCIDRMaskSize
	}
	if c.PodNetworkMode == "" {
		c.PodNetworkMode = api.PodNetworkAuto
	}
	if err := network.ValidatePodCIDR(c.PodCIDR); err != nil {
		return fmt.Errorf("%w (--pod-cidr)", err)
	}
	if _, err := network.NewCIDRSet(c.PodCIDR, c.NodeCIDRMaskSize); err != nil {
		flag := "--pod-cidr"
		if errors.Is(err, network.ErrInvalidMaskSize) {
			flag = "--node-cidr-mask-size"
		}
		return fmt.Errorf("%w (%s)", err, flag)
	}
	if c.PodCIDR.Overlaps(c.ServiceCIDR) {
		return fmt.Errorf("pod CIDR %s overlaps the service CIDR %s: pod and service addresses must be distinct (--pod-cidr, --service-cidr)",
			c.PodCIDR, c.ServiceCIDR)
	}
	return ValidatePodNetworkMode(c.PodNetworkMode)
}

// ValidatePodNetworkMode checks a --pod-network value.
func ValidatePodNetworkMode(mode string) error {
	switch mode {
	case api.PodNetworkAuto, api.PodNetworkHostGW, api.PodNetworkWireGuard:
		return nil
	}
	return fmt.Errorf("pod network mode %q: want %s, %s or %s (--pod-network)",
		mode, api.PodNetworkAuto, api.PodNetworkHostGW, api.PodNetworkWireGuard)
}
