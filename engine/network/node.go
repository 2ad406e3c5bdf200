package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync"
)

// DefaultMTU is the pods' MTU when Config.MTU is zero.
const DefaultMTU = 1500

// Config describes one node's pod network.
type Config struct {
	// NodeName and ClusterID name the bridge (see BridgeName).
	NodeName, ClusterID string
	// PodCIDR is the node's range (Node.Spec.PodCIDR); required.
	PodCIDR netip.Prefix
	// ClusterCIDR is the whole cluster's pod range: traffic to it is not
	// masqueraded. Zero means PodCIDR (a cluster of one node).
	ClusterCIDR netip.Prefix
	// StateDir keeps the IPAM file (the agent's data dir/network).
	StateDir string
	// MTU of the bridge and veths; DefaultMTU when zero (the WireGuard
	// mesh may need less).
	MTU int
	// Firewall is where the node's NAT rules go: FirewallNFTables (over
	// netlink) or FirewallIPTables (the iptables command); empty picks
	// nftables when the kernel speaks it, iptables otherwise.
	Firewall string
	Log      *slog.Logger
}

// Firewall backends (Config.Firewall).
const (
	FirewallNFTables = "nftables"
	FirewallIPTables = "iptables"
)

// Node is the pod network of one node: what routes between nodes (the
// mesh) need to know is exported; the rest goes through its methods.
type Node struct {
	// Bridge is the node's bridge; Gateway, the address pods route via,
	// sits on it.
	Bridge      string
	PodCIDR     netip.Prefix
	ClusterCIDR netip.Prefix
	Gateway     netip.Addr
	MTU         int
	// Firewall is the backend the node's rules are in.
	Firewall string

	alias string // the bridge's (bridgeAlias)
	ipam  *IPAM
	ports *hostPorts
	// rulesMu makes each table rewrite use the latest host ports.
	rulesMu sync.Mutex
	// rulesStale: the last rewrite failed, so the rules may not match the
	// saved host ports; the next SetHostPorts or Reconcile rewrites them.
	rulesStale bool
	// applyNAT writes the rules (the firewall backend; tests replace it).
	applyNAT func(context.Context, string, natRules) error
	log      *slog.Logger
}

// Setup makes the node's network ready for pods: the IPAM state, the
// bridge with the gateway address, forwarding, masquerade. Every step is
// idempotent, so a restarted agent converges on what it left; what the
// agent leaves at its stop (bridge, rules, pods' veths) stays, so running
// pods keep their network while the agent is down. Remove takes it away.
func Setup(ctx context.Context, cfg Config) (*Node, error) {
	n, err := newNode(cfg)
	if err != nil {
		return nil, err
	}
	if err := n.converge(ctx, true); err != nil {
		return nil, err
	}
	n.log.Info("pod network ready", "firewall", n.Firewall, "pod_cidr", n.PodCIDR, "gateway", n.Gateway,
		"cluster_cidr", n.ClusterCIDR)
	return n, nil
}

// Repair runs Setup's steps again, for the agent's housekeeping: a bridge,
// address, FORWARD accept or nftables table someone removed comes back.
// The iptables backend's rules are rewritten only when stale (its rewrite
// is not atomic: host ports would blink on every pass).
func (n *Node) Repair(ctx context.Context) error {
	return n.converge(ctx, n.Firewall == FirewallNFTables || n.staleRules())
}

// converge makes the host match the node: forwarding, the bridge with the
// gateway, the FORWARD accepts and, when rules is set, the NAT rules.
func (n *Node) converge(ctx context.Context, rules bool) error {
	if _, err := EnableIPv4Forwarding(nil); err != nil {
		return err
	}
	if err := ensureBridge(n.Bridge, n.alias, netip.PrefixFrom(n.Gateway, n.PodCIDR.Bits()), n.MTU); err != nil {
		return err
	}
	if err := ensureForwardAccept(ctx, n.Bridge); err != nil {
		return err
	}
	if !rules {
		return nil
	}
	return n.applyRules(ctx)
}

// newNode checks cfg and opens the IPAM state, touching nothing else.
func newNode(cfg Config) (*Node, error) {
	if cfg.NodeName == "" {
		return nil, errors.New("network: Config.NodeName is required")
	}
	if !cfg.PodCIDR.IsValid() || !cfg.PodCIDR.Addr().Is4() {
		return nil, fmt.Errorf("network: Config.PodCIDR %q: an IPv4 prefix is required", cfg.PodCIDR)
	}
	if cfg.StateDir == "" {
		return nil, errors.New("network: Config.StateDir is required")
	}
	cfg.PodCIDR = cfg.PodCIDR.Masked()
	if !cfg.ClusterCIDR.IsValid() {
		cfg.ClusterCIDR = cfg.PodCIDR
	}
	if !cfg.ClusterCIDR.Addr().Is4() {
		return nil, fmt.Errorf("network: the cluster's pod range %s (server --pod-cidr): an IPv4 prefix is required", cfg.ClusterCIDR)
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if !cfg.ClusterCIDR.Contains(cfg.PodCIDR.Addr()) || cfg.ClusterCIDR.Bits() > cfg.PodCIDR.Bits() {
		// The server's --pod-cidr changed under a node that keeps its CIDR:
		// its pods keep working (their own range is not masqueraded either).
		cfg.Log.Warn("the node's pod CIDR is outside the cluster's pod range (was the server's --pod-cidr changed?); "+
			"traffic to other nodes outside the range is masqueraded; delete the Node to get a CIDR of the range",
			"pod_cidr", cfg.PodCIDR, "cluster_cidr", cfg.ClusterCIDR)
	}
	switch cfg.Firewall {
	case FirewallNFTables, FirewallIPTables:
	case "":
		cfg.Firewall = FirewallIPTables
		if nftablesWorks() {
			cfg.Firewall = FirewallNFTables
		}
	default:
		return nil, fmt.Errorf("network: Config.Firewall %q: must be %s or %s", cfg.Firewall, FirewallNFTables, FirewallIPTables)
	}
	ipam, err := OpenIPAM(filepath.Join(cfg.StateDir, "ipam.json"), cfg.PodCIDR)
	if err != nil {
		return nil, err
	}
	ports, err := openHostPorts(filepath.Join(cfg.StateDir, "hostports.json"), cfg.PodCIDR)
	if err != nil {
		return nil, err
	}
	return &Node{alias: bridgeAlias(cfg.ClusterID, cfg.NodeName), applyNAT: applyNAT, ports: ports, Firewall: cfg.Firewall, Bridge: BridgeName(cfg.ClusterID, cfg.NodeName), PodCIDR: cfg.PodCIDR,
		ClusterCIDR: cfg.ClusterCIDR.Masked(), Gateway: ipam.Gateway(), MTU: cfg.MTU, ipam: ipam,
		log: cfg.Log.With("component", "network", "bridge", BridgeName(cfg.ClusterID, cfg.NodeName))}, nil
}

// Attach gives owner (a sandbox id) an address and plugs the network
// namespace at netnsPath into the bridge. Calling it again for the same
// owner keeps the address and redoes the links.
func (n *Node) Attach(ctx context.Context, owner, netnsPath string) (netip.Addr, error) {
	if netnsPath == "" {
		return netip.Addr{}, fmt.Errorf("network: attaching %s: no network namespace", owner)
	}
	ip, err := n.ipam.Allocate(owner)
	if err != nil {
		return netip.Addr{}, err
	}
	err = attach(attachSpec{NetNS: netnsPath, HostVeth: hostVethName(owner), Bridge: n.Bridge,
		Addr: netip.PrefixFrom(ip, n.PodCIDR.Bits()), Gateway: n.Gateway, MTU: n.MTU})
	if err != nil {
		_ = n.ipam.Release(owner)
		return netip.Addr{}, err
	}
	n.log.Debug("pod attached", "sandbox", owner, "ip", ip, "veth", hostVethName(owner))
	return ip, nil
}

// Detach deletes owner's host veth (its peer goes with it) and frees its
// address. Unknown owners are no error.
func (n *Node) Detach(ctx context.Context, owner string) error {
	if err := n.SetHostPorts(ctx, owner, nil); err != nil {
		return err
	}
	if err := deleteLink(hostVethName(owner)); err != nil {
		return err
	}
	return n.ipam.Release(owner)
}

// SetHostPorts publishes owner's host ports (none: unpublishes them).
func (n *Node) SetHostPorts(ctx context.Context, owner string, ports []HostPort) error {
	for _, p := range ports {
		if err := p.validate(); err != nil {
			return err
		}
	}
	changed, err := n.ports.set(owner, ports)
	if err != nil {
		return err
	}
	if !changed && !n.staleRules() {
		return nil
	}
	return n.applyRules(ctx)
}

// applyRules rewrites the node's rules from its state (the saved host
// ports); a failure marks them stale, for the next call to retry.
func (n *Node) applyRules(ctx context.Context) error {
	n.rulesMu.Lock()
	defer n.rulesMu.Unlock()
	err := n.applyNAT(ctx, n.Firewall, natRules{Bridge: n.Bridge, PodCIDR: n.PodCIDR, ClusterCIDR: n.ClusterCIDR, HostPorts: n.ports.all()})
	n.rulesStale = err != nil
	if err != nil {
		return fmt.Errorf("network: writing the rules of bridge %s: %w", n.Bridge, err)
	}
	return nil
}

func (n *Node) staleRules() bool {
	n.rulesMu.Lock()
	defer n.rulesMu.Unlock()
	return n.rulesStale
}

// IP is owner's address, if it has one.
func (n *Node) IP(owner string) (netip.Addr, bool) { return n.ipam.Lookup(owner) }

// Retain frees the addresses (and host veths) of owners that live does not
// hold: the level-based step against the runtime's sandboxes.
func (n *Node) Retain(ctx context.Context, live map[string]bool) error {
	var errs []error
	for _, o := range n.ipam.Owners() {
		if !live[o] {
			n.log.Info("freeing the address of a sandbox that is gone", "sandbox", o)
			errs = append(errs, n.Detach(ctx, o))
		}
	}
	if n.staleRules() { // a host port change whose rules failed: retry
		errs = append(errs, n.applyRules(ctx))
	}
	return errors.Join(errs...)
}

// Remove deletes the bridge (and so every pod's host veth) and the node's
// rules. The IPAM state stays; for tests and node teardown.
func (n *Node) Remove(ctx context.Context) error {
	removeForwardAccept(ctx, n.Bridge)
	return errors.Join(removeNAT(ctx, n.Firewall, n.Bridge), deleteLink(n.Bridge))
}

// bridgeAlias marks a node's bridge (ip link shows it), so people and
// janitors can tell whose it is.
func bridgeAlias(clusterID, node string) string {
	return AliasPrefix + "cluster=" + clusterID + " node=" + node
}

// AliasPrefix starts the alias of every node bridge.
const AliasPrefix = "maestro pod network "

// Bridges lists this host's node bridges (name -> alias) whose alias
// starts with AliasPrefix + "cluster=" + clusterPrefix.
func Bridges(clusterPrefix string) (map[string]string, error) {
	return bridgesByAlias(AliasPrefix + "cluster=" + clusterPrefix)
}

// RemoveBridge deletes a node's bridge and rules (both firewall backends)
// by the bridge's name: Node.Remove for a node whose agent is gone (a
// janitor's leftovers).
func RemoveBridge(ctx context.Context, bridge string) error {
	removeForwardAccept(ctx, bridge)
	return errors.Join(removeNAT(ctx, FirewallNFTables, bridge), removeNAT(ctx, FirewallIPTables, bridge), deleteLink(bridge))
}

// attachSpec is one pod's side of the network.
type attachSpec struct {
	NetNS    string       // path of the pod's network namespace
	HostVeth string       // host end's name
	Bridge   string       // the host end's master
	Addr     netip.Prefix // the pod's address, with the CIDR's length
	Gateway  netip.Addr   // default route
	MTU      int
}

// natRules is what the node's nftables table holds.
type natRules struct {
	Bridge      string
	PodCIDR     netip.Prefix // the node's
	ClusterCIDR netip.Prefix // every node's; traffic to it keeps its source
	HostPorts   []HostPort
}

// unmasqueraded are the destinations the pods' traffic keeps its source
// to: the cluster's pod range, and the node's own CIDR when it is outside
// (the server's --pod-cidr changed under the node).
func (r natRules) unmasqueraded() []netip.Prefix {
	if r.ClusterCIDR.Contains(r.PodCIDR.Addr()) && r.ClusterCIDR.Bits() <= r.PodCIDR.Bits() {
		return []netip.Prefix{r.ClusterCIDR}
	}
	return []netip.Prefix{r.ClusterCIDR, r.PodCIDR}
}
