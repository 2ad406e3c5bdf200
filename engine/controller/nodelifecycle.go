package controller

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// Reasons and messages the node lifecycle controller writes.
const (
	// ReasonNodeStatusUnknown is the Ready condition's reason once a node's
	// agent has been silent for longer than the grace period.
	ReasonNodeStatusUnknown = "NodeStatusUnknown"
	// ReasonNodeNotReady is the reason of the Warning event on a node
	// that stopped being ready.
	ReasonNodeNotReady = "NodeNotReady"
	// ReasonTaintManagerEviction is the reason of the event on each
	// pod evicted from a tainted node.
	ReasonTaintManagerEviction = "TaintManagerEviction"

	nlMessageStopped = "agent stopped posting node status"
)

// NodeLifecycleController watches node heartbeats. A node silent for longer
// than NodeMonitorGracePeriod is marked Ready=Unknown and tainted
// unreachable (one whose agent reports Ready=False is tainted not-ready),
// its pods are marked not ready at once so endpoints drop them, and pods
// that do not tolerate the NoExecute taint are evicted once their
// eviction deadline (taint timeAdded + PodEvictionTimeout or the pod's
// tolerationSeconds) passes. When many nodes fail together the cluster
// more likely lost its network than its machines, so evictions slow to
// one node per SecondaryEvictionInterval.
type NodeLifecycleController struct {
	d      Deps
	nodes  *client.Informer[*api.Node]
	pods   *client.Informer[*api.Pod]
	runner *Runner

	limiter *nlEvictionLimiter

	mu sync.Mutex
	// state holds each tainted node's pending evictions, derived from
	// taint timeAdded, so a restarted controller keeps the same schedule.
	state map[string]*nlNodeState
}

// NewNodeLifecycleController registers the controller's informer handlers.
func NewNodeLifecycleController(d Deps) *NodeLifecycleController {
	d = d.withDefaults()
	c := &NodeLifecycleController{
		d:       d,
		nodes:   d.Informers.Nodes(),
		pods:    d.Informers.Pods(),
		limiter: newNLEvictionLimiter(d.Config.UnhealthyThreshold, d.Config.SecondaryEvictionInterval),
		state:   map[string]*nlNodeState{},
	}
	c.runner = NewRunner("nodelifecycle", d.Config.Workers, d.Log, c.reconcile)
	c.nodes.AddHandler(Handler[*api.Node](c.runner))
	c.pods.AddHandler(client.Handler[*api.Pod]{
		OnAdd:    c.enqueueNodeOf,
		OnUpdate: func(_, p *api.Pod) { c.enqueueNodeOf(p) },
	})
	return c
}

// Run checks every node each NodeMonitorPeriod until ctx ends.
func (c *NodeLifecycleController) Run(ctx context.Context) {
	if !c.d.Informers.WaitForSync(ctx) {
		return
	}
	go c.monitor(ctx)
	c.runner.Run(ctx)
}

func (c *NodeLifecycleController) monitor(ctx context.Context) {
	t := time.NewTicker(c.d.Config.NodeMonitorPeriod)
	defer t.Stop()
	for {
		c.observeCluster()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// observeCluster updates the disruption state and enqueues every node.
func (c *NodeLifecycleController) observeCluster() {
	now := c.d.Now()
	nodes := c.nodes.List()
	notReady := 0
	for _, n := range nodes {
		if !nlHealthy(n, now, c.d.Config.NodeMonitorGracePeriod) {
			notReady++
		}
		c.runner.Enqueue(n)
	}
	if entered, left := c.limiter.observe(len(nodes), notReady); entered {
		c.d.Log.Warn("many nodes are not ready at once; the cluster looks partitioned, so evictions are slowed",
			"notReady", notReady, "nodes", len(nodes), "oneNodeEvery", c.d.Config.SecondaryEvictionInterval)
	} else if left {
		c.d.Log.Info("most nodes are ready again; evictions back to normal", "notReady", notReady, "nodes", len(nodes))
	}
}

// enqueueNodeOf enqueues the node of a pod that may have to leave it.
func (c *NodeLifecycleController) enqueueNodeOf(p *api.Pod) {
	if p.Spec.NodeName == "" {
		return
	}
	if n, ok := c.nodes.Get(p.Spec.NodeName); ok && (!api.IsNodeReady(n) || nlHasNoExecute(n.Spec.Taints)) {
		c.runner.Enqueue(n)
	}
}

func (c *NodeLifecycleController) reconcile(ctx context.Context, key string) error {
	node, ok := c.nodes.Get(key)
	if !ok {
		c.forgetNode(key)
		return c.deletePodsOfGoneNode(ctx, key)
	}
	now := c.d.Now()
	node, err := c.updateReadyCondition(ctx, node, now)
	if err != nil {
		return err
	}
	if node, err = c.updateTaints(ctx, node, now); err != nil {
		return err
	}
	if api.IsNodeReady(node) {
		c.limiter.forget(node.Name)
		c.scheduleHeartbeatCheck(node, now)
	} else if err := c.markPodsNotReady(ctx, node); err != nil {
		return err
	}
	return c.evictPods(ctx, node, now)
}

// updateReadyCondition marks a silent node's Ready condition Unknown.
func (c *NodeLifecycleController) updateReadyCondition(ctx context.Context, node *api.Node, now time.Time) (*api.Node, error) {
	cond, change := nlReadyCondition(node, now, c.d.Config.NodeMonitorGracePeriod)
	if !change {
		return node, nil
	}
	up := *node
	up.Status.Conditions = slices.Clone(node.Status.Conditions)
	api.SetCondition(&up.Status.Conditions, cond, now.UTC())
	out, err := c.d.Client.Nodes().UpdateStatus(ctx, &up)
	if err != nil {
		return nil, fmt.Errorf("marking node %s not ready: %w", node.Name, err)
	}
	c.d.Log.Warn("node stopped posting status; marked not ready", "node", node.Name,
		"lastHeartbeat", api.NodeHeartbeat(node))
	c.d.Recorder.Eventf(node, api.EventWarning, ReasonNodeNotReady, "Node %s status is now: NodeNotReady (%s)", node.Name, nlMessageStopped)
	return out, nil
}

// updateTaints puts the NoExecute taint matching the Ready condition on
// the node and takes the other one off.
func (c *NodeLifecycleController) updateTaints(ctx context.Context, node *api.Node, now time.Time) (*api.Node, error) {
	cond := api.FindCondition(node.Status.Conditions, api.NodeReady)
	if cond == nil {
		return node, nil // not reported yet: updateReadyCondition sets one after the grace period
	}
	ready := cond.Status
	taints, change := nlDesiredTaints(node.Spec.Taints, ready, now.UTC())
	if !change {
		return node, nil
	}
	up := *node
	up.Spec.Taints = taints
	out, err := c.d.Client.Nodes().Update(ctx, &up)
	if err != nil {
		return nil, fmt.Errorf("updating taints of node %s: %w", node.Name, err)
	}
	if ready == api.ConditionFalse && nlFindTaint(taints, api.TaintNodeNotReady) != nil {
		c.d.Recorder.Eventf(node, api.EventWarning, ReasonNodeNotReady, "Node %s status is now: NodeNotReady", node.Name)
	}
	return out, nil
}

// scheduleHeartbeatCheck looks at a ready node again the moment its last
// heartbeat turns stale, so detection does not wait for the next period.
func (c *NodeLifecycleController) scheduleHeartbeatCheck(node *api.Node, now time.Time) {
	if hb := api.NodeHeartbeat(node); !hb.IsZero() {
		c.runner.EnqueueAfter(node.Name, hb.Add(c.d.Config.NodeMonitorGracePeriod).Sub(now)+10*time.Millisecond)
	}
}

// markPodsNotReady sets Ready and ContainersReady to False on every pod of
// a node that is not ready: its agent can no longer vouch for them.
func (c *NodeLifecycleController) markPodsNotReady(ctx context.Context, node *api.Node) error {
	for _, p := range c.pods.ByIndex(IndexNodeName, node.Name) {
		status, change := nlPodNotReadyStatus(&p.Status, c.d.Now().UTC())
		if !change || api.IsPodTerminal(p) {
			continue
		}
		up := *p
		up.Status = status
		if _, err := c.d.Client.Pods(p.Namespace).UpdateStatus(ctx, &up); err != nil && !api.IsNotFound(err) {
			return fmt.Errorf("marking pod %s not ready: %w", p.Key(), err)
		}
	}
	return nil
}

func (c *NodeLifecycleController) forgetNode(name string) {
	c.limiter.forget(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.state, name)
}

// nlHealthy reports whether a node is ready with a fresh heartbeat.
func nlHealthy(n *api.Node, now time.Time, grace time.Duration) bool {
	_, stale := nlReadyCondition(n, now, grace)
	return api.IsNodeReady(n) && !stale
}

// nlReadyCondition decides whether a node's Ready condition must turn
// Unknown: its last heartbeat (or, without one, its creation) is older
// than the grace period and it is not Unknown already. The heartbeat time
// is kept, so the node stays stale until its agent posts again.
func nlReadyCondition(n *api.Node, now time.Time, grace time.Duration) (api.Condition, bool) {
	cur := api.FindCondition(n.Status.Conditions, api.NodeReady)
	probe := n.CreationTimestamp
	if cur != nil && !cur.LastHeartbeatTime.IsZero() {
		probe = cur.LastHeartbeatTime
	}
	if now.Sub(probe) <= grace || cur != nil && cur.Status == api.ConditionUnknown {
		return api.Condition{}, false
	}
	next := api.Condition{Type: api.NodeReady, Status: api.ConditionUnknown, Reason: ReasonNodeStatusUnknown, Message: nlMessageStopped}
	if cur != nil {
		next.LastHeartbeatTime = cur.LastHeartbeatTime
	}
	return next, true
}

// nlDesiredTaints returns the node's taints with the lifecycle NoExecute
// taint matching its Ready status (Unknown: unreachable, False:
// not-ready, True: none), keeping the timeAdded of one already there.
func nlDesiredTaints(taints []api.Taint, ready api.ConditionStatus, now time.Time) ([]api.Taint, bool) {
	want := map[api.ConditionStatus]string{api.ConditionUnknown: api.TaintNodeUnreachable, api.ConditionFalse: api.TaintNodeNotReady}[ready]
	out := make([]api.Taint, 0, len(taints)+1)
	changed, have := false, false
	for _, t := range taints {
		managed := (t.Key == api.TaintNodeUnreachable || t.Key == api.TaintNodeNotReady) && t.Effect == api.TaintNoExecute
		switch {
		case managed && t.Key == want && !have:
			have = true
			out = append(out, t)
		case managed:
			changed = true
		default:
			out = append(out, t)
		}
	}
	if want != "" && !have {
		out = append(out, api.Taint{Key: want, Effect: api.TaintNoExecute, TimeAdded: &now})
		changed = true
	}
	if len(out) == 0 {
		out = nil
	}
	return out, changed
}

// nlPodNotReadyStatus returns the status of a pod whose node was lost:
// Ready and ContainersReady False with reason NodeLost.
func nlPodNotReadyStatus(st *api.PodStatus, now time.Time) (api.PodStatus, bool) {
	out := *st
	out.Conditions = slices.Clone(st.Conditions)
	changed := false
	for _, typ := range []string{api.PodReady, api.ContainersReady} {
		if cur := api.FindCondition(st.Conditions, typ); cur != nil && cur.Status == api.ConditionFalse {
			continue
		}
		api.SetCondition(&out.Conditions, api.Condition{Type: typ, Status: api.ConditionFalse, Reason: api.ReasonNodeLost,
			Message: "the pod's node is not ready"}, now)
		changed = true
	}
	return out, changed
}

func nlFindTaint(taints []api.Taint, key string) *api.Taint {
	for i := range taints {
		if taints[i].Key == key && taints[i].Effect == api.TaintNoExecute {
			return &taints[i]
		}
	}
	return nil
}

func nlHasNoExecute(taints []api.Taint) bool {
	return slices.ContainsFunc(taints, func(t api.Taint) bool { return t.Effect == api.TaintNoExecute })
}

// deletePodsOfGoneNode force-deletes the pods bound to a node that no longer
// exists: no agent will ever confirm they stopped, and their controllers
// have replaced them already if they were evicted.
func (c *NodeLifecycleController) deletePodsOfGoneNode(ctx context.Context, node string) error {
	for _, p := range c.pods.ByIndex(IndexNodeName, node) {
		err := c.d.Client.Pods(p.Namespace).Delete(ctx, p.Name, client.DeleteOptions{GracePeriodSeconds: api.Ptr[int64](0)})
		if err != nil && !api.IsNotFound(err) {
			return fmt.Errorf("deleting pod %s of deleted node %s: %w", p.Key(), node, err)
		}
	}
	return nil
}
