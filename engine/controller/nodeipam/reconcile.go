package nodeipam

import (
	"context"
	"fmt"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
)

func (c *Controller) reconcile(ctx context.Context, key string) error {
	node, ok := c.nodes.Get(key)
	if !ok {
		c.forget(key) // gone: level-based, whatever the delete handler saw
		return nil
	}
	if node.Spec.PodCIDR != "" {
		c.observe(node)
		return c.setCondition(ctx, node, nil)
	}
	cidr, ok := c.reserve(node.Name)
	if !ok {
		return c.setCondition(ctx, node, &api.Condition{Type: api.NodeNetworkUnavailable, Status: api.ConditionTrue,
			Reason: ReasonPodCIDRExhausted, Message: c.exhaustedMessage()})
	}
	up := *node // the cached object is shared: change a copy
	up.Spec.PodCIDR = cidr.String()
	// A compare-and-swap on the cached resourceVersion: a node changed
	// meanwhile is read again. The reservation stays on any failure (a
	// write that timed out may have landed); only a deleted node frees it.
	out, err := c.d.Client.Nodes().Update(ctx, &up)
	if api.IsNotFound(err) {
		c.forget(node.Name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("assigning pod CIDR %s to node %s: %w", cidr, node.Name, err)
	}
	// No event: a thousand nodes joining would queue a thousand event
	// writes behind the scheduler's (BenchmarkSchedulingEndToEnd lost two
	// thirds of its throughput); the spec and the log say it.
	c.d.Log.Info("node pod CIDR assigned", "node", node.Name, "podCIDR", out.Spec.PodCIDR)
	return c.setCondition(ctx, out, nil)
}

// setCondition writes want as the node's NetworkUnavailable condition;
// nil clears an exhaustion this controller reported (other reasons are
// the agent's and stay).
func (c *Controller) setCondition(ctx context.Context, node *api.Node, want *api.Condition) error {
	cur := api.FindCondition(node.Status.Conditions, api.NodeNetworkUnavailable)
	if want == nil {
		if !exhausted(node) {
			return nil
		}
		want = &api.Condition{Type: api.NodeNetworkUnavailable, Status: api.ConditionFalse, Reason: ReasonPodCIDRAssigned,
			Message: "pod CIDR " + node.Spec.PodCIDR + " assigned"}
	} else if cur != nil && cur.Status == want.Status && cur.Reason == want.Reason && cur.Message == want.Message {
		return nil
	}
	up := *node
	up.Status.Conditions = slices.Clone(node.Status.Conditions)
	api.SetCondition(&up.Status.Conditions, *want, c.d.Now().UTC())
	if _, err := c.d.Client.Nodes().UpdateStatus(ctx, &up); err != nil {
		if api.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("setting condition %s of node %s: %w", api.NodeNetworkUnavailable, node.Name, err)
	}
	if want.Status == api.ConditionTrue {
		c.d.Log.Warn("no pod CIDR left for node", "node", node.Name, "podCIDR", c.set.Cluster().String(), "nodeCIDRs", c.set.Size())
		c.d.Recorder.Eventf(node, api.EventWarning, want.Reason, "%s", want.Message)
	}
	return nil
}
