// Package localcluster runs a whole maestro cluster on this machine: a
// control plane with embedded etcd, the scheduler and controllers, and N
// node agents, each with its own name, zone and loopback address, sharing
// one container runtime. It is what `maestro up` runs and what end-to-end
// tests and benchmarks start. Several run side by side on one machine:
// identity.go plans, per cluster name, the addresses, ranges and node
// names that keep them apart (see Plan), and machine.go records them.
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/agent"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/manager"
	"github.com/maestro-dev/maestro/engine/proxy"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// Zones are assigned to nodes in turn.
var Zones = []string{"zone-a", "zone-b", "zone-c"}

// Config describes a local cluster.
type Config struct {
	DataDir string
	Nodes   int
	// Runtime is "docker" (default, one engine shared by every node) or
	// "process" (one per node).
	Runtime string
	// Listen is the API's address (default 127.0.0.1:6443; port 0 picks one).
	Listen string
	// ClientConfigPath is where the admin client config goes ("" default, "-" none).
	ClientConfigPath string
	// BinDir holds maestro-pause (and maestro-demo) for building images;
	// default: the directory of the running executable.
	BinDir string
	// InfraImage overrides the pause image reference.
	InfraImage string
	Manager    manager.Config
	// Agent tweaks every agent's config (tests shorten backoffs).
	Agent func(*agent.Config)
	// UnsafeNoFsync skips etcd fsyncs (tests).
	UnsafeNoFsync bool
	// NodePrefix names the nodes <prefix>1..N (default "node-"). Agents
	// touch only their own cluster's containers, but persistent volumes
	// are named after nodes, so clusters on one machine use different
	// prefixes (Identity gives them that).
	NodePrefix string
	// AddressPrefix gives node i the address <prefix>i (default "127.0.1.").
	AddressPrefix string
	// ServiceCIDR is where cluster IPs come from (default the server's,
	// 10.96.0.0/16). The proxy owns the addresses of this range on the
	// host, so clusters running at once on one machine need distinct ones.
	ServiceCIDR netip.Prefix
	// PodCIDR, NodeCIDRMaskSize and PodNetworkMode are the server's pod
	// network settings (zero values: its defaults, 10.244.0.0/16, /24, auto).
	// Each node's agent puts its pods on a bridge of its own; all are on
	// this host, so pods of different nodes reach each other with no routes
	// to set up. Clusters running at once on one machine need distinct
	// pod ranges (their bridges would claim the same routes).
	PodCIDR          netip.Prefix
	NodeCIDRMaskSize int
	PodNetworkMode   string
	// DNSPort is the cluster DNS's port on its address (default 53).
	DNSPort int
	Version string
	Log     *slog.Logger
}

// Cluster is a running local cluster.
type Cluster struct {
	cfg    Config
	CP     *controlplane.ControlPlane
	Client *client.Client
	// Host is the machine's service proxy and cluster DNS.
	Host *proxy.Host
	// Runtime is the Docker runtime the nodes share (nil for process).
	Runtime runtime.Runtime
	Nodes   []*Node
	log     *slog.Logger
}

// Node is one local node and its agent.
type Node struct {
	Name, Zone, Address string
	dataDir             string
	cluster             *Cluster
	creds               *agent.Credentials

	mu     sync.Mutex
	agent  *agent.Agent
	cancel context.CancelFunc
	done   chan struct{}
}

// Start brings the cluster up and returns once every node is Ready.
func Start(ctx context.Context, cfg Config) (_ *Cluster, err error) {
	if cfg.Nodes < 1 || cfg.Nodes > 250 {
		return nil, fmt.Errorf("nodes: %d: must be between 1 and 250", cfg.Nodes)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Listen == "" {
		cfg.Listen = controlplane.DefaultListen
	}
	if cfg.NodePrefix == "" {
		cfg.NodePrefix = "node-"
	}
	if cfg.AddressPrefix == "" {
		cfg.AddressPrefix = "127.0.1."
	}

	c := &Cluster{cfg: cfg, log: cfg.Log}
	defer func() {
		if err != nil {
			c.Stop(context.WithoutCancel(ctx))
		}
	}()
	if c.Runtime, err = newRuntime(ctx, cfg); err != nil {
		return nil, err
	}
	mlog := cfg.Log.With("component", "controller-manager")
	c.CP, err = controlplane.Start(ctx, controlplane.Config{
		DataDir: filepath.Join(cfg.DataDir, "server"), Listen: cfg.Listen, ClientConfigPath: cfg.ClientConfigPath,
		UnsafeNoFsync: cfg.UnsafeNoFsync, Version: cfg.Version, Log: cfg.Log.With("component", "server"),
		ServiceCIDR: cfg.ServiceCIDR,
		PodCIDR:     cfg.PodCIDR, NodeCIDRMaskSize: cfg.NodeCIDRMaskSize, PodNetworkMode: cfg.PodNetworkMode,
		Leader: func(ctx context.Context, cl *client.Client) {
			if err := manager.Run(ctx, cl, mlog, cfg.Manager); err != nil {
				mlog.Error("control loops failed", "err", err)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if c.Client, err = client.New(c.CP.ClientConfig()); err != nil {
		return nil, err
	}
	// One proxy and DNS server for the machine, shared by its nodes.
	if c.Host, err = proxy.StartHost(ctx, proxy.HostConfig{Client: c.Client, NodeAddresses: c.nodeAddresses,
		DNSPort: cfg.DNSPort, VerifyPodRecords: true, Log: cfg.Log}); err != nil {
		return nil, err
	}
	for i := 1; i <= cfg.Nodes; i++ {
		name := fmt.Sprintf("%s%d", cfg.NodePrefix, i)
		n := &Node{Name: name, Zone: Zones[(i-1)%len(Zones)], Address: fmt.Sprintf("%s%d", cfg.AddressPrefix, i), cluster: c,
			dataDir: filepath.Join(cfg.DataDir, "agents", name)}
		if n.creds, err = n.bootstrap(ctx); err != nil {
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	for _, n := range c.Nodes {
		if err := n.Start(); err != nil {
			return nil, err
		}
	}
	return c, c.WaitReady(ctx, time.Minute)
}

// nodeAddresses are the addresses of the cluster's nodes, all on this host.
func (c *Cluster) nodeAddresses() []netip.Addr {
	out := make([]netip.Addr, 0, c.cfg.Nodes)
	for i := 1; i <= c.cfg.Nodes; i++ {
		if ip, err := netip.ParseAddr(fmt.Sprintf("%s%d", c.cfg.AddressPrefix, i)); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

// WaitReady waits until every node reports Ready.
func (c *Cluster) WaitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		nodes, _, err := c.Client.Nodes().List(ctx, client.ListOptions{})
		ready := 0
		if err == nil {
			for _, n := range nodes {
				if api.IsNodeReady(n) {
					ready++
				}
			}
			if ready >= len(c.Nodes) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d nodes ready after %s", ready, len(c.Nodes), timeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Start runs the node's agent (again, after Stop), adopting its containers.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cancel != nil {
		return nil
	}
	cfg, err := n.agentConfig()
	if err != nil {
		return err
	}
	a, err := agent.New(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.agent, n.cancel, n.done = a, cancel, make(chan struct{})
	go func() {
		defer close(n.done)
		if err := a.Run(ctx); err != nil {
			n.cluster.log.Error("agent stopped", "node", n.Name, "err", err)
		}
	}()
	return nil
}

// Stop stops the node's agent, as if its process were killed: containers
// keep running.
func (n *Node) Stop() {
	n.mu.Lock()
	cancel, done := n.cancel, n.done
	n.cancel = nil
	n.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// labels are the node's placement labels: its join token admits it with
// them, and its agent registers them.
func (n *Node) labels() map[string]string {
	return map[string]string{api.LabelZone: n.Zone, api.LabelNodePool: "local", api.LabelInstanceType: "local"}
}

// bootstrap loads the node's saved credentials or joins it with a join
// token made for it alone: its name, its loopback address (the join comes
// from 127.0.0.1, so the address must be the token's) and its labels.
func (n *Node) bootstrap(ctx context.Context) (*agent.Credentials, error) {
	log := n.cluster.log.With("component", "agent", "node", n.Name)
	saved, err := agent.LoadCredentials(n.dataDir, log)
	if err != nil && !errors.Is(err, agent.ErrNotJoined) {
		return nil, err
	}
	if saved != nil && !saved.Expired(time.Now()) && !saved.Expires().IsZero() {
		return saved, nil
	}
	cc := n.cluster.CP.ClientConfig()
	join, err := n.cluster.Client.CreateToken(ctx, api.TokenRequest{Role: "join", TTLSeconds: 600, Node: n.Name,
		Addresses: []string{n.Address}, Labels: n.labels(), Description: "maestro up: " + n.Name})
	if err != nil {
		return nil, fmt.Errorf("creating a join token for %s: %w", n.Name, err)
	}
	creds, err := agent.Bootstrap(ctx, agent.BootstrapConfig{Server: cc.Server, JoinToken: join.Token, CAPEM: []byte(cc.CertificateAuthorityData),
		NodeName: n.Name, Address: n.Address, DataDir: n.dataDir, Log: log, Rejoin: saved != nil})
	if err != nil && saved != nil && !saved.Expired(time.Now()) {
		// Credentials from before they expired (and before admissions were
		// recorded) still work; re-joining failed, e.g. the node is still Ready.
		log.Warn("cannot replace the node's credentials from an older version; keeping them (logs and stats need a re-join)", "err", err)
		return saved, nil
	}
	return creds, err
}

func (n *Node) agentConfig() (agent.Config, error) {
	cl, err := n.creds.Client(client.WithUserAgent("maestro-agent/" + n.Name))
	if err != nil {
		return agent.Config{}, err
	}
	cert, pool, err := n.creds.TLS()
	if err != nil {
		return agent.Config{}, err
	}
	rt, err := n.nodeRuntime()
	if err != nil {
		return agent.Config{}, err
	}
	cfg := agent.Config{
		NodeName: n.Name, Client: cl, Runtime: rt, Address: n.Address, DataDir: n.dataDir, Labels: n.labels(),
		ServingCert: cert, ClusterCA: pool, Credentials: n.creds, Version: n.cluster.cfg.Version, Log: n.cluster.log.With("component", "agent"),
		ServerPort: agent.DefaultServerPort,
	}
	if h := n.cluster.Host; h != nil {
		cfg.DNS, cfg.ServiceEnv = h.PodDNS(), h.ServiceEnv
	}
	if n.cluster.cfg.Agent != nil {
		n.cluster.cfg.Agent(&cfg)
	}
	return cfg, nil
}

// Stop stops every pod (removing their containers), the agents, and the
// control plane.
func (c *Cluster) Stop(ctx context.Context) error {
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, n := range c.Nodes {
		wg.Go(func() {
			n.Stop()
			n.mu.Lock()
			a := n.agent
			n.mu.Unlock()
			if a != nil {
				if err := a.StopAllPods(ctx); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if c.Host != nil {
		c.Host.Close()
	}
	if c.CP != nil {
		errs = append(errs, c.CP.Close())
	}
	return errors.Join(errs...)
}

// Node returns a node by name.
func (c *Cluster) Node(name string) *Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func binDir(cfg Config) string {
	if cfg.BinDir != "" {
		return cfg.BinDir
	}
	exe, err := os.Executable()
	if err != nil {
		return "."
	}
	return filepath.Dir(exe)
}
