package nodeipam

import (
	"fmt"
	"net/netip"

	"github.com/maestro-dev/maestro/engine/api"
)

// observe records the CIDR a node holds as taken.
func (c *Controller) observe(n *api.Node) {
	if n.Spec.PodCIDR == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observeLocked(n)
}

func (c *Controller) observeLocked(n *api.Node) {
	if c.set == nil || n.Spec.PodCIDR == "" {
		return
	}
	p, err := netip.ParsePrefix(n.Spec.PodCIDR)
	idx, ok := c.set.Index(p)
	if err != nil || !ok {
		// Given under another --pod-cidr or by hand: it stays (the
		// field is immutable), and it takes nothing from this range.
		return
	}
	if prev, had := c.byNode[n.Name]; had && prev != idx && c.holder[prev] == n.Name {
		delete(c.holder, prev) // a reservation the node did not get
	}
	if other, taken := c.holder[idx]; taken && other != n.Name {
		c.d.Log.Warn("two nodes hold one pod CIDR; their pods' addresses may collide", "node", n.Name, "other", other, "podCIDR", n.Spec.PodCIDR)
		return
	}
	c.holder[idx] = n.Name
	c.byNode[n.Name] = idx
}

// reserve takes a CIDR for a node: the one already reserved for it (an
// earlier write whose outcome is unknown), else the next free one.
func (c *Controller) reserve(node string) (netip.Prefix, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if idx, ok := c.byNode[node]; ok {
		return c.set.Subnet(idx), true
	}
	idx, ok := c.set.Next(c.next, func(i uint64) bool { _, taken := c.holder[i]; return taken })
	if !ok {
		return netip.Prefix{}, false
	}
	c.holder[idx] = node
	c.byNode[node] = idx
	c.next = (idx + 1) % c.set.Size()
	return c.set.Subnet(idx), true
}

// release frees the CIDR of a deleted node, reporting whether one was freed.
func (c *Controller) release(node string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	idx, ok := c.byNode[node]
	if !ok {
		return false
	}
	delete(c.byNode, node)
	if c.holder[idx] == node {
		delete(c.holder, idx)
	}
	return true
}

// exhaustedMessage says what is full and what to do about it.
func (c *Controller) exhaustedMessage() string {
	return fmt.Sprintf("no free pod CIDR: all %d node CIDRs (/%d) of the pod CIDR %s are assigned; "+
		"delete a node, or use a larger --pod-cidr or a longer --node-cidr-mask-size", c.set.Size(), c.set.MaskSize(), c.set.Cluster())
}
