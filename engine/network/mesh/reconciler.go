package mesh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/maestro-dev/maestro/engine/api"
)

// Defaults.
const (
	DefaultPort      = 51820
	DefaultInterface = "maestro-wg"
	DefaultResync    = 30 * time.Second
	// retryDelay is how soon a failed sync is tried again.
	retryDelay = 2 * time.Second
)

// Reasons of the NetworkUnavailable condition the reconciler sets.
const (
	ReasonMeshReady            = "MeshReady"            // False: routes and peers match the Node list
	ReasonWireGuardUnavailable = "WireGuardUnavailable" // True: no WireGuard device (no TUN, port in use...)
	ReasonRoutesFailed         = "RoutesFailed"         // True: routes could not be set
	ReasonUnknownMode          = "UnknownPodNetworkMode"
)

// NodeLister lists the cluster's Nodes (the agent's Node informer).
type NodeLister interface {
	List() []*api.Node
}

// Publisher records what other nodes need and whether this node's pod
// network works on the node's status.
type Publisher interface {
	// Publish sets status.network (nil: none) and the NetworkUnavailable
	// condition (nil: leave it as it is, e.g. while the node has no pod
	// CIDR and the control plane owns the condition).
	Publish(ctx context.Context, network *api.NodeNetworkStatus, unavailable *api.Condition) error
}

// Config configures a Reconciler.
type Config struct {
	NodeName string
	// Address is the node's InternalIP: its WireGuard endpoint's address.
	Address   netip.Addr
	Nodes     NodeLister
	Publisher Publisher
	// ClusterInfo returns the cluster's settings (GET /v1/cluster-info),
	// asked at start and at every resync: the pod network mode ("" is
	// auto), the cluster's pod range (only stale routes inside it are
	// deleted) and the cluster id (the default interface name). Nil: auto,
	// ClusterCIDR and DefaultInterface.
	ClusterInfo func(ctx context.Context) (*api.ClusterInfo, error)
	// ClusterCIDR is the cluster's pod range until ClusterInfo serves one.
	// While none is known, no stale route is deleted: a route of maestro's
	// protocol outside the range may be another cluster's on this host.
	ClusterCIDR netip.Prefix
	// DataDir holds the node's WireGuard private key (KeyFile).
	DataDir string
	Port    int // WireGuard UDP port (DefaultPort)
	// Interface is the WireGuard interface; empty: InterfaceName of the
	// cluster id (DefaultInterface without ClusterInfo or a cluster id),
	// so agents of different clusters on one host do not share one.
	Interface      string
	Implementation string // ImplAuto (default), ImplKernel or ImplUserspace
	Resync         time.Duration
	// Enter runs fn in the host's network namespace; nil runs it directly
	// (tests on emulated hosts pass Namespace.Do).
	Enter func(fn func() error) error
	Log   *slog.Logger
}

// Reconciler keeps this host's routes and WireGuard peers matching the
// Node list (see the package comment).
type Reconciler struct {
	cfg     Config
	key     wgtypes.Key
	routes  netlinkRoutes
	trigger chan struct{}

	mu            sync.Mutex // one sync at a time; guards the fields below
	dev           wgDevice
	mode          string
	clusterCIDR   netip.Prefix // stale routes are deleted only inside it
	iface         string       // the WireGuard interface ("" until known)
	infoLoaded    bool         // ClusterInfo answered at least once
	lastSkipped   []Skip
	lastNetwork   *api.NodeNetworkStatus
	lastCondition *api.Condition
	published     bool
}

// New checks the configuration and loads (or makes) the node's key.
func New(cfg Config) (*Reconciler, error) {
	switch {
	case cfg.NodeName == "":
		return nil, errors.New("mesh: NodeName required")
	case !cfg.Address.IsValid():
		return nil, errors.New("mesh: Address (the node's InternalIP) required")
	case cfg.Nodes == nil || cfg.Publisher == nil:
		return nil, errors.New("mesh: Nodes and Publisher required")
	case cfg.DataDir == "":
		return nil, errors.New("mesh: DataDir required")
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if err := CheckPort(cfg.Port); err != nil {
		return nil, fmt.Errorf("mesh: WireGuard port %w", err)
	}
	if cfg.Interface != "" {
		if err := CheckInterface(cfg.Interface); err != nil {
			return nil, fmt.Errorf("mesh: WireGuard interface %w", err)
		}
	}
	if cfg.Implementation == "" {
		cfg.Implementation = ImplAuto
	}
	if err := CheckImplementation(cfg.Implementation); err != nil {
		return nil, fmt.Errorf("mesh: WireGuard implementation %w", err)
	}
	if cfg.Resync <= 0 {
		cfg.Resync = DefaultResync
	}
	if cfg.Enter == nil {
		cfg.Enter = func(fn func() error) error { return fn() }
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	key, err := LoadOrCreateKey(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	r := &Reconciler{cfg: cfg, key: key, routes: netlinkRoutes{enter: cfg.Enter},
		trigger: make(chan struct{}, 1), mode: api.PodNetworkAuto, clusterCIDR: cfg.ClusterCIDR.Masked(), iface: cfg.Interface}
	if r.iface == "" && cfg.ClusterInfo == nil {
		r.iface = DefaultInterface
	}
	return r, nil
}

// PublicKey is the node's WireGuard public key (base64).
func (r *Reconciler) PublicKey() string { return r.key.PublicKey().String() }

// Trigger asks for a sync soon (the Node informer's handlers call it).
func (r *Reconciler) Trigger() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// Run syncs on every Trigger and every Resync until ctx ends, then closes
// the WireGuard device (a userspace one ends with the agent; routes stay).
func (r *Reconciler) Run(ctx context.Context) {
	defer r.Close()
	tick := time.NewTicker(r.cfg.Resync)
	defer tick.Stop()
	r.refresh(ctx)
	for {
		if !r.loaded() {
			r.refresh(ctx) // the interface name and pod range wait for it
		}
		if err := r.Sync(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Log.Warn("pod network mesh: sync failed, retrying", "err", err, "retry", retryDelay)
			time.AfterFunc(retryDelay, r.Trigger)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.trigger:
		case <-tick.C:
			r.refresh(ctx)
		}
	}
}

// refresh reads the cluster's settings; on error the last ones stay.
func (r *Reconciler) refresh(ctx context.Context) {
	if r.cfg.ClusterInfo == nil {
		return
	}
	info, err := r.cfg.ClusterInfo(ctx)
	if err != nil {
		r.cfg.Log.Warn("pod network mesh: reading the cluster's settings (cluster-info)", "err", err)
		return
	}
	mode := info.PodNetworkMode
	if mode == "" {
		mode = api.PodNetworkAuto
	}
	cidr, err := netip.ParsePrefix(info.PodCIDR)
	if info.PodCIDR != "" && err != nil {
		r.cfg.Log.Warn("pod network mesh: cluster-info's podCIDR is not a prefix; stale routes stay", "pod_cidr", info.PodCIDR)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.infoLoaded = true
	if mode != r.mode {
		r.cfg.Log.Info("pod network mode", "mode", mode)
		r.mode = mode
	}
	if err == nil && cidr.Masked() != r.clusterCIDR {
		r.clusterCIDR = cidr.Masked()
	}
	if r.iface == "" { // fixed once known: the device keeps its name
		r.iface = InterfaceName(info.ClusterID)
	}
}

func (r *Reconciler) loaded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg.ClusterInfo == nil || r.infoLoaded
}

// InterfaceName is the default WireGuard interface of a cluster's agents:
// "mwg-" and 8 hex digits of a hash of the cluster id (15 characters at
// most), or DefaultInterface without an id (a server that serves none).
func InterfaceName(clusterID string) string {
	if clusterID == "" {
		return DefaultInterface
	}
	sum := sha256.Sum256([]byte(clusterID))
	return "mwg-" + hex.EncodeToString(sum[:4])
}

// SetMode sets the mode until the next refresh from Config.Mode.
func (r *Reconciler) SetMode(mode string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mode = mode
}

// Close closes the WireGuard device.
func (r *Reconciler) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dev == nil {
		return nil
	}
	err := r.dev.close()
	r.dev = nil
	return err
}

// Peers are the WireGuard device's peers now (none while it has no
// device), sorted by public key; Node is not known to the device and
// stays empty.
func (r *Reconciler) Peers() ([]Peer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dev == nil {
		return nil, nil
	}
	have, err := r.dev.peers()
	if err != nil {
		return nil, err
	}
	out := slices.Collect(maps.Values(have))
	slices.SortFunc(out, func(a, b Peer) int { return strings.Compare(a.PublicKey, b.PublicKey) })
	return out, nil
}
