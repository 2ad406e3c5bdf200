package nodeipam_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// TestNodeWithoutPodCIDRTakesOnlyHostNetworkPods: in a whole cluster
// (scheduler and controllers), a node left without a pod CIDR runs no pod
// that needs one: the pod waits saying the node has no pod network, a
// hostNetwork pod goes there; once a CIDR frees up, the waiting pod lands.
func TestNodeWithoutPodCIDRTakesOnlyHostNetworkPods(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t, func(o *cluster.Options) {
		o.ControlPlane = func(cfg *controlplane.Config) { cfg.PodCIDR = netip.MustParsePrefix("10.244.0.0/23") }
	})
	nodes := c.Client.Nodes()
	for _, name := range []string{"s0", "s1", "s2"} { // in turn: s2 is the one left out
		c.AddNode(t, simnode.NodeSpec{Name: name})
		cluster.Eventually(t, 10*time.Second, name+" handled by the allocator", func() (bool, string) {
			n, err := nodes.Get(c.Ctx, name)
			if err != nil {
				return false, err.Error()
			}
			return n.Spec.PodCIDR != "" || api.FindCondition(n.Status.Conditions, api.NodeNetworkUnavailable) != nil, n.Spec.PodCIDR
		})
	}
	onS2 := func(name string, hostNetwork bool) *api.Pod {
		return &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name},
			Spec: api.PodSpec{HostNetwork: hostNetwork, NodeSelector: map[string]string{api.LabelHostname: "s2"},
				Containers: []api.Container{{Name: "app", Image: "app:1"}}}}
	}
	pods := c.Client.Pods("default")
	for _, p := range []*api.Pod{onS2("needs-network", false), onS2("host-network", true)} {
		if _, err := pods.Create(c.Ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	cluster.Eventually(t, 10*time.Second, "the hostNetwork pod placed on s2", func() (bool, string) {
		p, err := pods.Get(c.Ctx, "host-network")
		return err == nil && p.Spec.NodeName == "s2", p.Spec.NodeName
	})
	cluster.Eventually(t, 10*time.Second, "the other pod waiting because s2 has no pod network", func() (bool, string) {
		p, err := pods.Get(c.Ctx, "needs-network")
		if err != nil {
			return false, err.Error()
		}
		cond := api.FindCondition(p.Status.Conditions, api.PodScheduled)
		return p.Spec.NodeName == "" && cond != nil && strings.Contains(cond.Message, "1 node(s) had no pod network"),
			p.Spec.NodeName + " " + condMessage(cond)
	})

	if err := nodes.Delete(c.Ctx, "s0", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 15*time.Second, "the waiting pod placed on s2 once it got s0's CIDR", func() (bool, string) {
		p, err := pods.Get(c.Ctx, "needs-network")
		return err == nil && p.Spec.NodeName == "s2", p.Spec.NodeName
	})
}

func condMessage(c *api.Condition) string {
	if c == nil {
		return "<no condition>"
	}
	return c.Message
}
