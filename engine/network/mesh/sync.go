package mesh

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/network"
)

// Sync converges the host on the Node list once: level-based, so it may
// run at any time and any number of times.
func (r *Reconciler) Sync(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.mode {
	case api.PodNetworkAuto, api.PodNetworkHostGW, api.PodNetworkWireGuard:
	default:
		err := fmt.Errorf("mesh: the cluster's pod network mode %q is not auto, host-gw or wireguard", r.mode)
		return r.publish(ctx, nil, unavailable(ReasonUnknownMode, err), err)
	}
	if r.iface == "" {
		return errors.New("mesh: the cluster's settings (cluster-info) are not known yet: its id names the WireGuard interface")
	}
	addrs, subnets, err := hostAddrs(r.cfg.Enter)
	if err != nil {
		return err
	}
	nodes := r.cfg.Nodes.List()
	plan := Compute(Input{Self: r.cfg.NodeName, Nodes: nodes, Mode: r.mode, LocalAddrs: addrs,
		LocalSubnets: subnets, Interface: r.iface})
	r.logSkips(plan.Skipped)

	routes := plan.Routes
	var cond *api.Condition
	wgErr := r.syncPeers(plan.Peers)
	if wgErr != nil {
		cond = unavailable(ReasonWireGuardUnavailable, wgErr)
		routes = hostGWOnly(routes) // keep what works without the device
	}
	routeErr := r.syncRoutes(ctx, routes)
	if routeErr == nil && len(routes) > 0 {
		// Packets for this node's pods arrive from other nodes (on the
		// link or the WireGuard interface) and leave through the bridge.
		changed, err := network.EnableIPv4Forwarding(r.cfg.Enter)
		if changed {
			r.cfg.Log.Info("IPv4 forwarding turned on (pod traffic from other nodes)")
		}
		routeErr = err
	}
	if routeErr != nil && cond == nil {
		cond = unavailable(ReasonRoutesFailed, routeErr)
	}
	if cond == nil {
		cond = &api.Condition{Type: api.NodeNetworkUnavailable, Status: api.ConditionFalse, Reason: ReasonMeshReady,
			Message: fmt.Sprintf("routes to %d nodes (%d through WireGuard), %d nodes skipped", len(plan.Routes), len(plan.Peers), len(plan.Skipped))}
	}
	if !hasPodCIDR(nodes, r.cfg.NodeName) {
		cond = nil // the control plane owns the condition until the node has a CIDR
	}
	var network *api.NodeNetworkStatus
	if r.mode != api.PodNetworkHostGW {
		network = &api.NodeNetworkStatus{PublicKey: r.PublicKey(),
			Endpoint: netip.AddrPortFrom(r.cfg.Address, uint16(r.cfg.Port)).String()}
	}
	if wgErr != nil {
		return r.publish(ctx, network, cond, wgErr)
	}
	return r.publish(ctx, network, cond, routeErr)
}

// publish hands the status to the Publisher when it changed, and returns
// syncErr (or the publishing error).
func (r *Reconciler) publish(ctx context.Context, network *api.NodeNetworkStatus, cond *api.Condition, syncErr error) error {
	if r.published && reflect.DeepEqual(network, r.lastNetwork) && reflect.DeepEqual(cond, r.lastCondition) {
		return syncErr
	}
	if err := r.cfg.Publisher.Publish(ctx, network, cond); err != nil {
		if syncErr != nil {
			return syncErr
		}
		return fmt.Errorf("mesh: publishing the node's network status: %w", err)
	}
	r.published, r.lastNetwork, r.lastCondition = true, network, cond
	return syncErr
}

func unavailable(reason string, err error) *api.Condition {
	return &api.Condition{Type: api.NodeNetworkUnavailable, Status: api.ConditionTrue, Reason: reason, Message: err.Error()}
}

func hasPodCIDR(nodes []*api.Node, self string) bool {
	for _, n := range nodes {
		if n.Name == self {
			return n.Spec.PodCIDR != ""
		}
	}
	return false
}

func hostGWOnly(routes []Route) []Route {
	var out []Route
	for _, rt := range routes {
		if rt.Dev == "" {
			out = append(out, rt)
		}
	}
	return out
}

// logSkips logs the peers without a route when that set changes (and at
// debug level on every sync).
func (r *Reconciler) logSkips(skipped []Skip) {
	level := r.cfg.Log.Debug
	if !reflect.DeepEqual(skipped, r.lastSkipped) {
		level = r.cfg.Log.Info
	}
	for _, s := range skipped {
		level("pod network mesh: no route to node", "peer", s.Node, "reason", s.Reason, "detail", s.Message)
	}
	r.lastSkipped = skipped
}

// syncPeers opens the WireGuard device when peers need it and makes its
// peers match.
func (r *Reconciler) syncPeers(want []Peer) error {
	if r.dev != nil && !linkExists(r.cfg.Enter, r.iface) {
		// Deleted under the agent (ip link del): make it again.
		r.cfg.Log.Warn("WireGuard interface gone, recreating it", "interface", r.iface)
		_ = r.dev.close()
		r.dev = nil
	}
	if r.dev == nil {
		if len(want) == 0 {
			return nil // no device until a peer needs one (several agents may share a host)
		}
		dev, err := openDevice(r.cfg.Enter, r.iface, r.cfg.Implementation, r.key, r.cfg.Port, r.cfg.Log)
		if err != nil {
			return fmt.Errorf("mesh: WireGuard interface %s: %w", r.iface, err)
		}
		r.cfg.Log.Info("WireGuard interface up", "interface", r.iface, "implementation", dev.impl(), "port", r.cfg.Port)
		r.dev = dev
	}
	have, err := r.dev.peers()
	if err != nil {
		return fmt.Errorf("mesh: reading the peers of %s: %w", r.iface, err)
	}
	changes, err := peerChanges(have, want)
	if err != nil || len(changes) == 0 {
		return err
	}
	if err := r.dev.configure(changes); err != nil {
		return fmt.Errorf("mesh: configuring the peers of %s: %w", r.iface, err)
	}
	r.cfg.Log.Info("WireGuard peers configured", "interface", r.iface, "peers", len(want), "changes", len(changes))
	return nil
}

// syncRoutes makes the owned routes match want: stale ones inside the
// cluster's pod range deleted, missing or different ones replaced.
func (r *Reconciler) syncRoutes(ctx context.Context, want []Route) error {
	have, err := r.routes.list(ctx)
	if err != nil {
		return err
	}
	wanted := map[string]Route{}
	for _, rt := range want {
		wanted[rt.Dst.String()] = rt
	}
	for _, h := range have {
		if _, ok := wanted[h.Dst.String()]; !ok && r.owns(h.Dst) {
			if err := r.routes.remove(ctx, h); err != nil {
				return err
			}
			r.cfg.Log.Info("pod network route removed", "route", h.String())
		}
	}
	current := map[string]Route{}
	for _, h := range have {
		current[h.Dst.String()] = h
	}
	for _, rt := range want {
		if h, ok := current[rt.Dst.String()]; ok && sameRoute(h, rt) {
			continue
		}
		if err := r.routes.replace(ctx, rt); err != nil {
			return err
		}
		r.cfg.Log.Info("pod network route set", "route", rt.String(), "peer", rt.Node)
	}
	return nil
}

// owns tells whether a route of maestro's protocol to dst is this
// cluster's to delete: its destination lies inside the cluster's pod
// range. Others may be another cluster's (or another agent's) on this
// host; without a known range none is.
func (r *Reconciler) owns(dst netip.Prefix) bool {
	c := r.clusterCIDR
	return c.IsValid() && dst.Bits() >= c.Bits() && c.Contains(dst.Addr())
}

// sameRoute compares a kernel route with a planned one (which has no node).
func sameRoute(have, want Route) bool {
	return have.Dst == want.Dst && have.Via == want.Via && have.Dev == want.Dev && have.Src == want.Src
}
