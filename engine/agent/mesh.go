package agent

import (
	"context"
	"net/netip"
	"reflect"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/engine/network/mesh"
)

// MeshConfig configures the routes to other nodes' pods (engine/network/mesh).
type MeshConfig struct {
	// Disabled runs the agent without the mesh (no routes, no WireGuard).
	Disabled bool
	// Port is the WireGuard UDP port (mesh.DefaultPort).
	Port int
	// Interface is the WireGuard interface ("": mesh.InterfaceName of
	// the cluster id).
	Interface string
	// Implementation is mesh.ImplAuto, ImplKernel or ImplUserspace.
	Implementation string
	// Enter runs fn in the host's network namespace (tests); nil: directly.
	Enter func(fn func() error) error
}

// newMesh builds the mesh reconciler, fed by an informer on all Nodes.
func (a *Agent) newMesh() error {
	if a.cfg.Mesh.Disabled || !network.OwnNamespaces(a.cfg.Runtime) { // pods on the host network: nothing to route
		return nil
	}
	addr, err := netip.ParseAddr(a.cfg.Address)
	if err != nil {
		a.log.Warn("pod network mesh disabled: the node address is not an IP address (routes to it and its WireGuard endpoint need one)",
			"address", a.cfg.Address)
		return nil
	}
	if addr.IsLoopback() {
		// Every node is an address on this host's lo (`maestro up`): the
		// peers' bridges are local and need no route, and a mesh here
		// would only share (and fight over) the host's routes, WireGuard
		// interface and port with other agents.
		a.log.Info("pod network mesh off: the node address is a loopback address (all nodes on this host)", "address", addr)
		return nil
	}
	a.nodes = client.NewInformer(a.cfg.Client.Nodes(), client.ListOptions{}, client.WithLogger(a.log))
	a.mesh, err = mesh.New(mesh.Config{NodeName: a.cfg.NodeName, Address: addr, Nodes: a.nodes, Publisher: meshPublisher{a},
		ClusterInfo: a.cfg.Client.ClusterInfo, DataDir: a.cfg.DataDir, Port: a.cfg.Mesh.Port, Interface: a.cfg.Mesh.Interface,
		Implementation: a.cfg.Mesh.Implementation, Enter: a.cfg.Mesh.Enter, Log: a.log.With("component", "mesh")})
	if err != nil {
		return err
	}
	// Level-based: a Node added, deleted or changed in what routes depend
	// on re-plans every route (heartbeats do not; the resync catches all).
	trigger := func(*api.Node) { a.mesh.Trigger() }
	a.nodes.AddHandler(client.Handler[*api.Node]{OnAdd: trigger, OnDelete: trigger, OnUpdate: func(old, n *api.Node) {
		if mesh.Changed(old, n) {
			a.mesh.Trigger()
		}
	}})
	return nil
}

// runMesh runs the Node informer and the reconciler until ctx ends.
func (a *Agent) runMesh(ctx context.Context) {
	if a.mesh == nil {
		return
	}
	go a.nodes.Run(ctx)
	if !a.nodes.WaitForSync(ctx) {
		return
	}
	a.mesh.Run(ctx)
}

// meshPublisher records the mesh's status for nodeObject and writes it
// at once (heartbeats keep it afterwards).
type meshPublisher struct{ a *Agent }

func (p meshPublisher) Publish(ctx context.Context, nw *api.NodeNetworkStatus, cond *api.Condition) error {
	a := p.a
	a.mu.Lock()
	changed := !reflect.DeepEqual(nw, a.netStatus) || !reflect.DeepEqual(cond, a.netCondition)
	a.netStatus, a.netCondition = nw, cond
	a.mu.Unlock()
	if !changed {
		return nil
	}
	return a.heartbeat(ctx)
}

// meshStatus is what nodeObject reports for the network: status.network
// and the mesh's NetworkUnavailable condition, if it has one.
func (a *Agent) meshStatus() (*api.NodeNetworkStatus, *api.Condition) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.netStatus, a.netCondition
}
