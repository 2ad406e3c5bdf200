package nodeipam

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller"
	"github.com/maestro-dev/maestro/engine/network"
)

// Reasons the controller writes on Nodes (condition NetworkUnavailable)
// and in events.
const (
	// ReasonPodCIDRExhausted: no node CIDR of the cluster's pod range is free.
	ReasonPodCIDRExhausted = "PodCIDRExhausted"
	// ReasonPodCIDRAssigned: the condition's reason once an exhaustion is
	// over and the node got its pod CIDR.
	ReasonPodCIDRAssigned = "PodCIDRAssigned"
)

// Controller assigns pod CIDRs to Nodes.
type Controller struct {
	d      controller.Deps
	nodes  *client.Informer[*api.Node]
	runner *controller.Runner

	mu  sync.Mutex
	set *network.CIDRSet // nil until Run has read the cluster info
	// holder maps a taken node CIDR number to its node; byNode is the
	// reverse. Both hold stored assignments and reservations in flight.
	holder map[uint64]string
	byNode map[string]uint64
	// next is where the search for a free CIDR starts: past the last one
	// given, so a released CIDR rests as long as possible.
	next uint64
}

// New registers the controller's informer handlers.
func New(d controller.Deps) *Controller {
	d = d.WithDefaults()
	c := &Controller{d: d, nodes: d.Informers.Nodes(), holder: map[uint64]string{}, byNode: map[string]uint64{}}
	c.runner = controller.NewRunner("nodeipam", d.Config.Workers, d.Log, c.reconcile)
	// Heartbeats rewrite every Node every few seconds: only nodes with
	// something to do are enqueued.
	c.nodes.AddHandler(client.Handler[*api.Node]{
		OnAdd:    func(n *api.Node) { c.onNode(nil, n) },
		OnUpdate: c.onNode,
		OnDelete: func(n *api.Node) { c.forget(n.Name) },
	})
	return c
}

// onNode records a CIDR that appeared on a node and enqueues the node if
// it has something to do.
func (c *Controller) onNode(old, n *api.Node) {
	if old == nil || old.Spec.PodCIDR != n.Spec.PodCIDR {
		c.observe(n)
	}
	if needsWork(n) {
		c.runner.Enqueue(n)
	}
}

// Run reads the pod range from the API server, takes the CIDRs the stored
// Nodes hold, then assigns until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	if !c.d.Informers.WaitForSync(ctx) {
		return
	}
	set, err := c.cidrSet(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.d.Log.Error("pod CIDR allocation is off", "err", err)
		}
		return
	}
	c.mu.Lock()
	c.set = set
	for _, n := range c.nodes.List() {
		c.observeLocked(n)
	}
	c.mu.Unlock()
	c.d.Log.Info("allocating node pod CIDRs", "podCIDR", set.Cluster().String(), "maskSize", set.MaskSize(), "nodeCIDRs", set.Size())
	for _, n := range c.nodes.List() {
		if needsWork(n) {
			c.runner.Enqueue(n)
		}
	}
	c.runner.Run(ctx)
}

// cidrSet reads the cluster's pod range (GET /v1/cluster-info), retrying
// while the API server does not answer.
func (c *Controller) cidrSet(ctx context.Context) (*network.CIDRSet, error) {
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		info, err := c.d.Client.ClusterInfo(ctx)
		if err == nil {
			cluster, err := netip.ParsePrefix(info.PodCIDR)
			if err != nil {
				return nil, fmt.Errorf("the API server serves no usable pod CIDR (%q): %w", info.PodCIDR, err)
			}
			return network.NewCIDRSet(cluster, info.NodeCIDRMaskSize)
		}
		c.d.Log.Warn("reading the cluster info failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// needsWork reports whether a node lacks a pod CIDR or still carries the
// exhaustion this controller set.
func needsWork(n *api.Node) bool {
	return n.Spec.PodCIDR == "" || exhausted(n)
}

func exhausted(n *api.Node) bool {
	cond := api.FindCondition(n.Status.Conditions, api.NodeNetworkUnavailable)
	return cond != nil && cond.Status == api.ConditionTrue && cond.Reason == ReasonPodCIDRExhausted
}

// forget frees a deleted node's CIDR and, if it held one, enqueues the
// nodes waiting for one.
func (c *Controller) forget(node string) {
	if c.release(node) {
		c.enqueueWaiting()
	}
}

// enqueueWaiting enqueues every node still without a pod CIDR.
func (c *Controller) enqueueWaiting() {
	for _, n := range c.nodes.List() {
		if n.Spec.PodCIDR == "" {
			c.runner.Enqueue(n)
		}
	}
}
