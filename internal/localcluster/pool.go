package localcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/clouds"
	"github.com/maestro-dev/maestro/engine/cloud/local"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/manager"
)

// PoolName is the node pool `maestro up` makes its nodes with.
const PoolName = "local"

// MachineNetwork is the subnet of a slot's local machines: 10.(160+slot).0.0/24.
// Their bridge holds its first address, where the API server listens.
func MachineNetwork(slot int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(160 + slot), 0, 0}), 24)
}

// MachineBridge names a cluster's machine bridge: mlb-<hash of the name>.
func MachineBridge(name string) string {
	h := sha256.Sum256([]byte(name))
	return "mlb-" + hex.EncodeToString(h[:4])
}

// PoolCluster is a local control plane whose nodes are the machines of a
// local node pool: each an emulated host (a network namespace on a bridge
// of this host) running `maestro agent`, made and removed by the node pool
// and machine controllers, as every node of every pool is.
type PoolCluster struct {
	CP      *controlplane.ControlPlane
	Client  *client.Client
	Network local.Network
	cfg     Config
	log     *slog.Logger
}

// upDrainTimeout bounds the drain of `maestro up`'s machines: its pool is
// deleted when it stops, and its pods have nowhere else to go.
const upDrainTimeout = 20

// PoolOptions say where a PoolCluster's machines live and what they run.
type PoolOptions struct {
	// Network is the machines' bridge and subnet; the API server listens on
	// its gateway, at cfg.Listen's port.
	Network local.Network
	// AgentArgs are added to each machine's `maestro agent` (e.g.
	// --runtime=process).
	AgentArgs []string
	// Binary is the maestro binary machines run (default: this executable).
	Binary string
}

// StartPool starts the control plane with the node pool controllers, and a
// local pool of cfg.Nodes machines spread over Zones, and returns once
// every node is Ready.
func StartPool(ctx context.Context, cfg Config, o PoolOptions) (_ *PoolCluster, err error) {
	n := o.Network
	if cfg.Nodes < 1 || cfg.Nodes > 250 {
		return nil, fmt.Errorf("nodes: %d: must be between 1 and 250", cfg.Nodes)
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	n.KeepBridge = true
	port := strconv.Itoa(DefaultAPIPort)
	if _, p, err := net.SplitHostPort(cfg.Listen); err == nil {
		port = p
	}
	c := &PoolCluster{Network: n, cfg: cfg, log: cfg.Log}
	defer func() {
		if err != nil {
			_ = c.Stop(context.WithoutCancel(ctx))
		}
	}()
	if err := n.EnsureBridge(ctx); err != nil {
		return nil, fmt.Errorf("making the machines' bridge %s: %w", n.Bridge, err)
	}
	dataDir := filepath.Join(cfg.DataDir, "server")
	mlog := cfg.Log.With("component", "controller-manager")
	c.CP, err = controlplane.Start(ctx, controlplane.Config{
		DataDir: dataDir, Listen: net.JoinHostPort(n.Gateway().String(), port), ClientConfigPath: cfg.ClientConfigPath,
		UnsafeNoFsync: cfg.UnsafeNoFsync, Version: cfg.Version, Log: cfg.Log.With("component", "server"),
		ServiceCIDR: cfg.ServiceCIDR,
		PodCIDR:     cfg.PodCIDR, NodeCIDRMaskSize: cfg.NodeCIDRMaskSize, PodNetworkMode: cfg.PodNetworkMode,
		Leader: func(ctx context.Context, cl *client.Client) {
			mcfg := cfg.Manager
			var err error
			mcfg.Machines, err = manager.MachinesConfig(dataDir, clouds.Options{
				Binary: o.Binary, LocalNetwork: &n, LocalAgentArgs: o.AgentArgs, Logger: cfg.Log.With("component", "clouds")}, cl)
			if err != nil {
				mlog.Error("node pools are off", "err", err)
			}
			if err := manager.Run(ctx, cl, mlog, mcfg); err != nil {
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
	if err := c.Scale(ctx, int32(cfg.Nodes)); err != nil {
		return nil, err
	}
	return c, c.WaitReady(ctx, 2*time.Minute)
}

// Scale makes (or resizes) the local pool to size machines.
func (c *PoolCluster) Scale(ctx context.Context, size int32) error {
	pools := c.Client.NodePools()
	p, err := pools.Get(ctx, PoolName)
	if err == nil && p.DeletionTimestamp != nil {
		// Left deleting by an earlier run that stopped before its
		// machines were gone: let it finish, then start afresh.
		c.log.Info("waiting for the previous run's pool to be deleted")
		if err := c.waitPoolGone(ctx); err != nil {
			return err
		}
		p, err = pools.Get(ctx, PoolName)
	}
	if api.IsNotFound(err) {
		p = &api.NodePool{ObjectMeta: api.ObjectMeta{Name: PoolName}, Spec: api.NodePoolSpec{
			Provider: api.ProviderLocal, MinSize: 0, MaxSize: max(size, 250), Size: &size, Zones: Zones,
			DrainTimeoutSeconds: api.Ptr[int64](upDrainTimeout),
		}}
		_, err = pools.Create(ctx, p)
		return err
	}
	if err != nil {
		return err
	}
	p.Spec.Size = &size
	p.Spec.MaxSize = max(p.Spec.MaxSize, size)
	_, err = pools.Update(ctx, p)
	return err
}

// WaitReady waits until the pool's machines all run with Ready nodes.
func (c *PoolCluster) WaitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		p, err := c.Client.NodePools().Get(ctx, PoolName)
		if api.IsNotFound(err) {
			return fmt.Errorf("node pool %q was deleted while waiting for its machines", PoolName)
		}
		if err == nil {
			size := api.Deref(p.Spec.Size, 0)
			if p.Status.ReadyMachines == size && p.Status.Machines == size {
				return nil
			}
			last = fmt.Sprintf("%d of %d machines ready", p.Status.ReadyMachines, size)
			if cond := api.FindCondition(p.Status.Conditions, api.NodePoolReady); cond != nil && cond.Message != "" {
				last += ": " + cond.Message
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("local pool not ready after %s: %s", timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop deletes the pool (its machines are drained and removed by the
// controllers, which still run), then stops the control plane and removes
// the bridge.
func (c *PoolCluster) Stop(ctx context.Context) error {
	var errs []error
	cluster := ""
	if c.CP != nil {
		cluster = c.CP.ClusterInfo().ClusterID
	}
	if c.Client != nil {
		if err := c.deletePool(ctx); err != nil {
			c.log.Warn("the pool's machines were not removed through the API; removing them directly", "err", err)
		}
	}
	if c.CP != nil {
		errs = append(errs, c.CP.Close())
	}
	if cluster != "" {
		// Whatever the controllers did not remove (a drain cut short).
		errs = append(errs, RemoveMachines(context.WithoutCancel(ctx), c.cfg.DataDir, c.Network, cluster))
	}
	return errors.Join(errs...)
}

// RemoveMachines deletes the local machines of cluster (an id) that a
// cluster in dataDir left on network n, without the API: their processes,
// namespaces and addresses, then the bridge.
func RemoveMachines(ctx context.Context, dataDir string, n local.Network, cluster string) error {
	root := filepath.Join(dataDir, "server", "machines")
	n.KeepBridge = true // removed below, once every machine is gone
	lc, err := local.New(local.Options{Root: root, Network: &n})
	if err != nil {
		return err
	}
	ms, err := lc.List(ctx, cloud.Filter{Cluster: cluster})
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range ms {
		if err := lc.Delete(ctx, m.ID); err != nil {
			errs = append(errs, fmt.Errorf("removing machine %s: %w", m.Name, err))
		}
	}
	if len(errs) == 0 && !local.InUse(root) && os.Geteuid() == 0 {
		errs = append(errs, n.Remove(ctx))
	}
	return errors.Join(errs...)
}

func (c *PoolCluster) deletePool(ctx context.Context) error {
	err := c.Client.NodePools().Delete(ctx, PoolName)
	if api.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting the local pool: %w", err)
	}
	return c.waitPoolGone(ctx)
}

func (c *PoolCluster) waitPoolGone(ctx context.Context) error {
	for {
		_, err := c.Client.NodePools().Get(ctx, PoolName)
		if api.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the local pool's machines were not removed in time: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
