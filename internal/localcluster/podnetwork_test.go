package localcluster_test

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/agent"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/localcluster"
)

// TestPodNetworkOnOneHost: the agents' own pod network on one host. Every
// pod has an address of its node's pod CIDR; a pod reaches a pod of
// another node by address and is seen with its own address (no
// masquerade inside the cluster); host ports are published on the node's
// address; nodes report the network ready; and an agent restart keeps the
// addresses of running pods.
func TestPodNetworkOnOneHost(t *testing.T) {
	c := startCluster(t, 2)
	hostPort := freeTCPPort(t)
	c.create(t, c.demoDeployment("web", 2, readyWhenServing, func(d *api.Deployment) {
		d.Spec.Template.Spec.Containers[0].Ports[0].HostPort = hostPort
	}))
	pods := c.readyPods(t, "app=web", 2, 60*time.Second)
	if pods[0].Spec.NodeName == pods[1].Spec.NodeName {
		t.Fatalf("both pods on %s; the host port should have spread them", pods[0].Spec.NodeName)
	}
	for _, p := range pods {
		n := c.node(t, p.Spec.NodeName)
		node, err := c.Client.Nodes().Get(c.ctx, n.Name)
		if err != nil {
			t.Fatal(err)
		}
		cidr, err := netip.ParsePrefix(node.Spec.PodCIDR)
		if err != nil {
			t.Fatalf("node %s spec.podCIDR %q: %v", n.Name, node.Spec.PodCIDR, err)
		}
		if ip, err := netip.ParseAddr(p.Status.PodIP); err != nil || !cidr.Contains(ip) {
			t.Errorf("pod %s on %s has IP %q, want one of the node's pod CIDR %s", p.Name, n.Name, p.Status.PodIP, cidr)
		}
		if body, err := get(fmt.Sprintf("http://%s:%d/", n.Address, hostPort)); err != nil || !strings.Contains(body, "pod="+p.Name) {
			t.Errorf("host port %d on node %s (%s): %q, %v; want pod %s", hostPort, n.Name, n.Address, body, err, p.Name)
		}
		if cond := api.FindCondition(node.Status.Conditions, api.NodeNetworkUnavailable); cond == nil ||
			cond.Status != api.ConditionFalse || cond.Reason != agent.ReasonPodNetworkReady {
			t.Errorf("node %s NetworkUnavailable = %+v, want False/%s (conditions %+v)", n.Name, cond, agent.ReasonPodNetworkReady, node.Status.Conditions)
		}
	}
	a, b := pods[0], pods[1]
	whoami := func() {
		t.Helper()
		url := fmt.Sprintf("http://%s:8080/call?url=http://%s:8080/whoami", a.Status.PodIP, b.Status.PodIP)
		body, err := get(url)
		if err != nil || !strings.Contains(body, "remote="+a.Status.PodIP+":") {
			t.Errorf("pod %s asking pod %s (other node) who it is: %q, %v; want its own address %s",
				a.Name, b.Name, body, err, a.Status.PodIP)
		}
	}
	whoami()

	// A restarted agent keeps the addresses of the pods it adopts.
	n := c.node(t, b.Spec.NodeName)
	n.Stop()
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // a few sync rounds, and a housekeeping pass
	after, err := c.Client.Pods("default").Get(c.ctx, b.Name)
	if err != nil || after.Status.PodIP != b.Status.PodIP {
		t.Fatalf("after an agent restart pod %s has IP %q (%v), want %s", b.Name, after.Status.PodIP, err, b.Status.PodIP)
	}
	whoami()
}

func (c *lc) node(t *testing.T, name string) *localcluster.Node {
	t.Helper()
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no node %s", name)
	return nil
}

func freeTCPPort(t *testing.T) int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

// TestPodNetworkWaitsForPodCIDR: a node the control plane has no pod CIDR
// for keeps the control plane's NetworkUnavailable reason (its agent does
// not overwrite it) and a pod bound to it waits without an address; once a
// CIDR frees up and is given to it, the agent sets its network up and the
// pod runs with an address of it.
func TestPodNetworkWaitsForPodCIDR(t *testing.T) {
	c := startCluster(t, 3, func(cfg *localcluster.Config) {
		cfg.PodCIDR = netip.PrefixFrom(cfg.PodCIDR.Addr(), 23) // two node CIDRs for three nodes
	})
	var waiting, donor *localcluster.Node
	eventually(t, 20*time.Second, "two nodes with a pod CIDR, one exhausted", func() (bool, string) {
		waiting, donor = nil, nil
		var states []string
		for _, n := range c.Nodes {
			node, err := c.Client.Nodes().Get(c.ctx, n.Name)
			if err != nil {
				return false, err.Error()
			}
			cond := api.FindCondition(node.Status.Conditions, api.NodeNetworkUnavailable)
			switch {
			case node.Spec.PodCIDR == "" && cond != nil && cond.Reason == "PodCIDRExhausted":
				waiting = n
			case node.Spec.PodCIDR != "" && donor == nil:
				donor = n
			}
			states = append(states, fmt.Sprintf("%s:%q:%+v", n.Name, node.Spec.PodCIDR, cond))
		}
		return waiting != nil && donor != nil, strings.Join(states, " ")
	})
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "waiter", Namespace: "default"}, Spec: api.PodSpec{
		NodeName:                      waiting.Name,
		TerminationGracePeriodSeconds: api.Ptr[int64](1),
		Containers:                    []api.Container{{Name: "app", Image: c.demo, ImagePullPolicy: api.PullNever}},
	}}
	if _, err := c.Client.Pods("default").Create(c.ctx, pod); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second) // longer than a heartbeat
	node, err := c.Client.Nodes().Get(c.ctx, waiting.Name)
	if err != nil {
		t.Fatal(err)
	}
	if cond := api.FindCondition(node.Status.Conditions, api.NodeNetworkUnavailable); cond == nil || cond.Reason != "PodCIDRExhausted" {
		t.Errorf("node %s without a CIDR: NetworkUnavailable %+v, want the control plane's PodCIDRExhausted kept", waiting.Name, cond)
	}
	if p, err := c.Client.Pods("default").Get(c.ctx, "waiter"); err != nil || p.Status.PodIP != "" || api.IsPodReady(p) {
		t.Fatalf("pod on a node without a pod network: %+v, %v; want it waiting, without an address", p.Status, err)
	}

	// Free a CIDR: the donor node goes away.
	donor.Stop()
	if err := c.Client.Nodes().Delete(c.ctx, donor.Name); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the waiting pod running with an address of its node's new CIDR", func() (bool, string) {
		node, err := c.Client.Nodes().Get(c.ctx, waiting.Name)
		if err != nil {
			return false, err.Error()
		}
		p, err := c.Client.Pods("default").Get(c.ctx, "waiter")
		if err != nil {
			return false, err.Error()
		}
		cidr, err := netip.ParsePrefix(node.Spec.PodCIDR)
		ip, ipErr := netip.ParseAddr(p.Status.PodIP)
		ok := err == nil && ipErr == nil && cidr.Contains(ip) && api.IsPodReady(p)
		return ok, fmt.Sprintf("node CIDR %q, pod %s IP %q", node.Spec.PodCIDR, podState(p), p.Status.PodIP)
	})
}
