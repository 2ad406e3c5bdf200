package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/engine/network/mesh"
)

// Reasons of the NetworkUnavailable condition the agent sets. It only ever
// clears a condition with one of its own reasons, so the control plane's
// (PodCIDRExhausted) and the mesh's stay as they were set.
const (
	ReasonNoPodCIDR          = "NoPodCIDR"
	ReasonPodNetworkFailed   = "PodNetworkSetupFailed"
	ReasonPodNetworkReady    = "PodNetworkReady"
	podNetworkPollInterval   = 500 * time.Millisecond
	podNetworkSetupTimeout   = 30 * time.Second
	podNetworkStateDirectory = "network"
	hostNetworkMessage       = "pods share the host's network: the runtime gives them no network namespaces of their own"
)

// podNet is the agent's pod network state: the node's network once its
// pod CIDR is known, and what the agent has to say about it.
type podNet struct {
	rt *network.Runtime

	mu   sync.Mutex
	cidr netip.Prefix // the CIDR rt's node was set up with
	cond *api.Condition
}

// podCIDR is the node's pod CIDR: the Node's spec.podCIDR, set by the
// control plane (zero while it has none).
func (a *Agent) podCIDR(node *api.Node) (netip.Prefix, error) {
	s := node.Spec.PodCIDR
	if s == "" {
		return netip.Prefix{}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("spec.podCIDR %q: %w", s, err)
	}
	return p.Masked(), nil
}

// syncPodNetwork sets the node's pod network up once its Node has a pod
// CIDR (again if the CIDR changed) and reports whether it is up.
func (a *Agent) syncPodNetwork(ctx context.Context, node *api.Node) bool {
	cidr, err := a.podCIDR(node)
	a.net.mu.Lock()
	defer a.net.mu.Unlock()
	if !network.OwnNamespaces(a.cfg.Runtime) {
		// Pods share the host's network (the process runtime without
		// root): nothing to set up, no pod CIDR needed.
		if a.net.cond == nil {
			a.log.Info("the runtime gives pods no network namespaces of their own; they share the host's network")
		}
		a.net.cond = networkCondition(api.ConditionFalse, ReasonPodNetworkReady, hostNetworkMessage)
		return true
	}
	switch {
	case err != nil:
		a.net.cond = networkCondition(api.ConditionTrue, ReasonPodNetworkFailed, err.Error())
		return false
	case !cidr.IsValid():
		if a.net.cond == nil || a.net.cond.Reason != ReasonNoPodCIDR {
			a.log.Info("waiting for the control plane to give this node a pod CIDR (spec.podCIDR); pods that are not on the host network wait too")
		}
		// The Node lost its CIDR (deleted and registered again): no new
		// sandbox takes an address of the CIDR it may not get back.
		a.net.rt.SetNode(nil)
		a.net.cond = networkCondition(api.ConditionTrue, ReasonNoPodCIDR, "the node has no pod CIDR (spec.podCIDR) yet")
		return false
	case cidr == a.net.cidr && a.net.rt.Node() != nil:
		return true
	}
	if a.net.cidr.IsValid() && cidr != a.net.cidr {
		a.log.Warn("the node's pod CIDR changed; pods of the old one are cut off and get new sandboxes with addresses of the new one",
			"old", a.net.cidr, "new", cidr)
	}
	setupCtx, cancel := context.WithTimeout(ctx, podNetworkSetupTimeout)
	defer cancel()
	cfg, err := a.podNetworkConfig(setupCtx, cidr)
	var n *network.Node
	if err == nil {
		n, err = network.Setup(setupCtx, cfg)
	}
	if err != nil {
		a.log.Error("setting up the pod network failed", "pod_cidr", cidr, "err", err)
		a.net.cond = networkCondition(api.ConditionTrue, ReasonPodNetworkFailed, err.Error())
		return false
	}
	a.net.rt.SetNode(n)
	a.net.cidr = cidr
	a.net.cond = networkCondition(api.ConditionFalse, ReasonPodNetworkReady,
		fmt.Sprintf("pods get addresses of %s on bridge %s", cidr, n.Bridge))
	for _, p := range a.pods.List() { // pods that waited for the network
		a.queue.Add(p.Key())
	}
	return true
}

// podNetworkConfig is the network of a node with cidr; the cluster's id
// (learnt at start) names the bridge with the node's name, and its pod
// range (not masqueraded) comes from cluster-info, read again each time:
// the server's --pod-cidr may have changed.
func (a *Agent) podNetworkConfig(ctx context.Context, cidr netip.Prefix) (network.Config, error) {
	cfg := network.Config{NodeName: a.cfg.NodeName, ClusterID: a.cluster, PodCIDR: cidr,
		StateDir: filepath.Join(a.cfg.DataDir, podNetworkStateDirectory), Log: a.log}
	info, err := a.cfg.Client.ClusterInfo(ctx)
	if err != nil {
		return cfg, fmt.Errorf("reading the cluster's pod range from cluster-info: %w", err)
	}
	if info.PodCIDR != "" {
		p, err := netip.ParsePrefix(info.PodCIDR)
		if err != nil {
			return cfg, fmt.Errorf("cluster-info podCIDR %q: %w", info.PodCIDR, err)
		}
		cfg.ClusterCIDR = p.Masked()
	}
	return cfg, nil
}

// waitForPodNetwork polls the Node until the pod network is up (a new
// node's CIDR comes moments after it registers; heartbeats are slower),
// publishes the condition, then leaves changes to the heartbeats.
func (a *Agent) waitForPodNetwork(ctx context.Context) {
	t := time.NewTicker(podNetworkPollInterval)
	defer t.Stop()
	for {
		node, err := a.cfg.Client.Nodes().Get(ctx, a.cfg.NodeName)
		if err == nil && a.syncPodNetwork(ctx, node) {
			// Say so now rather than at the next heartbeat.
			if err := a.heartbeat(ctx); err != nil && ctx.Err() == nil {
				a.log.Debug("heartbeat after the pod network came up failed", "err", err)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// agentNetworkReasons are the NetworkUnavailable reasons this agent
// writes: its node's own network and the mesh to the other nodes.
var agentNetworkReasons = []string{ReasonNoPodCIDR, ReasonPodNetworkFailed, ReasonPodNetworkReady,
	mesh.ReasonMeshReady, mesh.ReasonWireGuardUnavailable, mesh.ReasonRoutesFailed, mesh.ReasonUnknownMode}

// agentNetworkCondition is the agent's one view of NetworkUnavailable out
// of its two parts: a problem of the node's own pod network first (pods
// cannot even start), then one of the mesh, else ready.
func (a *Agent) agentNetworkCondition() *api.Condition {
	a.net.mu.Lock()
	local := a.net.cond
	a.net.mu.Unlock()
	_, meshCond := a.meshStatus()
	switch {
	case local != nil && local.Status == api.ConditionTrue:
		return local
	case meshCond != nil && meshCond.Status == api.ConditionTrue:
		return meshCond
	case local != nil:
		return local
	}
	return meshCond
}

// networkCondition returns the condition to publish over cur's, or nil to
// leave cur alone (it is another writer's).
func (a *Agent) networkCondition(cur []api.Condition) *api.Condition {
	want := a.agentNetworkCondition()
	if want == nil {
		return nil
	}
	old := api.FindCondition(cur, api.NodeNetworkUnavailable)
	own := agentNetworkReasons
	switch {
	case old == nil:
		return want
	case want.Status == api.ConditionTrue && old.Status == api.ConditionTrue && !slices.Contains(own, old.Reason):
		return nil // the control plane's reason (PodCIDRExhausted) says more
	case want.Status == api.ConditionFalse && !slices.Contains(own, old.Reason):
		return nil // another writer's state: not ours to clear or restate
	}
	return want
}

func networkCondition(status api.ConditionStatus, reason, msg string) *api.Condition {
	return &api.Condition{Type: api.NodeNetworkUnavailable, Status: status, Reason: reason, Message: msg}
}

// reconcilePodNetwork frees the addresses of sandboxes that are gone and
// repairs the node's bridge and rules (removed by hand, or by a firewall
// reload).
func (a *Agent) reconcilePodNetwork(ctx context.Context) error {
	err := a.net.rt.Reconcile(ctx, a.cfg.NodeName)
	if n := a.net.rt.Node(); n != nil {
		if rerr := n.Repair(ctx); rerr != nil {
			err = errors.Join(err, fmt.Errorf("repairing the pod network: %w", rerr))
		}
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
