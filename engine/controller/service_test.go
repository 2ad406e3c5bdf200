package controller

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// svcTestNode is a node with an InternalIP (none when ip is "") and a
// Ready condition.
func svcTestNode(name, ip string, ready bool) *api.Node {
	n := &api.Node{ObjectMeta: api.ObjectMeta{Name: name}}
	if ip != "" {
		n.Status.Addresses = []api.NodeAddress{{Type: api.NodeInternalIP, Address: ip}, {Type: api.NodeHostName, Address: name}}
	}
	status := api.ConditionFalse
	if ready {
		status = api.ConditionTrue
	}
	n.Status.Conditions = []api.Condition{{Type: api.NodeReady, Status: status}}
	return n
}

func svcIngress(ips ...string) []api.LoadBalancerIngress {
	var out []api.LoadBalancerIngress
	for _, ip := range ips {
		out = append(out, api.LoadBalancerIngress{IP: ip})
	}
	return out
}

func TestLBIngressFor(t *testing.T) {
	lb := &api.Service{Spec: api.ServiceSpec{Type: api.ServiceTypeLoadBalancer}}
	nodes := []*api.Node{
		svcTestNode("a", "10.0.0.10", true),
		svcTestNode("b", "10.0.0.9", true),
		svcTestNode("c", "10.0.0.8", false),
		svcTestNode("d", "", true),
		svcTestNode("e", "fd00::1", true),
		svcTestNode("f", "10.0.0.9", true), // two nodes behind one address
	}
	for _, tc := range []struct {
		name  string
		svc   *api.Service
		nodes []*api.Node
		want  []api.LoadBalancerIngress
	}{
		{"ready nodes with addresses, numerically, once each", lb, nodes, svcIngress("10.0.0.9", "10.0.0.10", "fd00::1")},
		{"no ready nodes", lb, nodes[2:4], nil},
		{"no nodes", lb, nil, nil},
		{"node ports only", &api.Service{Spec: api.ServiceSpec{Type: api.ServiceTypeNodePort}}, nodes, nil},
		{"cluster IP", &api.Service{Spec: api.ServiceSpec{Type: api.ServiceTypeClusterIP}}, nodes, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lbIngressFor(tc.svc, tc.nodes); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestServiceControllerLoadBalancerStatus: a LoadBalancer service follows
// its cluster's Ready nodes; other types lose any ingress; unrelated node
// updates write nothing.
func TestServiceControllerLoadBalancerStatus(t *testing.T) {
	t.Parallel()
	cl := ctlStart(t)
	ctx := cl.ctx
	for _, n := range []*api.Node{svcTestNode("n1", "10.0.0.10", true), svcTestNode("n2", "10.0.0.9", true), svcTestNode("n3", "10.0.0.8", false)} {
		ctlMust(cl.c.Nodes().Create(ctx, n))(t)
	}
	d := cl.deps(Config{})
	cl.run(t, d, NewServiceController(d))

	svcs := cl.c.Services("default")
	ctlMust(svcs.Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "lb"},
		Spec: api.ServiceSpec{Type: api.ServiceTypeLoadBalancer, Ports: []api.ServicePort{{Port: 80}}}}))(t)
	ctlMust(svcs.Create(ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "plain"},
		Spec: api.ServiceSpec{Ports: []api.ServicePort{{Port: 80}}}}))(t)
	waitIngress := func(name string, want ...string) *api.Service {
		t.Helper()
		var got *api.Service
		ctlWait(t, 10*time.Second, name+" ingress "+fmt.Sprint(want), func() (bool, string) {
			got = ctlMust(svcs.Get(ctx, name))(t)
			return slices.Equal(got.Status.LoadBalancer.Ingress, svcIngress(want...)), fmt.Sprint(got.Status.LoadBalancer.Ingress)
		})
		return got
	}
	lb := waitIngress("lb", "10.0.0.9", "10.0.0.10")

	// A node update that changes neither readiness nor address writes nothing.
	n1 := ctlMust(cl.c.Nodes().Get(ctx, "n1"))(t)
	n1.Labels = map[string]string{"touched": "yes"}
	ctlMust(cl.c.Nodes().Update(ctx, n1))(t)
	// n3 turning Ready joins; n2 going NotReady leaves.
	setReady := func(name string, ready bool) {
		n := ctlMust(cl.c.Nodes().Get(ctx, name))(t)
		n.Status.Conditions = svcTestNode(name, "", ready).Status.Conditions
		ctlMust(cl.c.Nodes().UpdateStatus(ctx, n))(t)
	}
	setReady("n3", true)
	waitIngress("lb", "10.0.0.8", "10.0.0.9", "10.0.0.10")
	setReady("n2", false)
	waitIngress("lb", "10.0.0.8", "10.0.0.10")
	if plain := ctlMust(svcs.Get(ctx, "plain"))(t); len(plain.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("ClusterIP service got ingress %v", plain.Status.LoadBalancer.Ingress)
	}

	// Two changes, two writes: the label-only node update added none.
	cur := ctlMust(svcs.Get(ctx, "lb"))(t)
	if writes := svcStatusWrites(t, cl, lb.ResourceVersion, cur.ResourceVersion); writes != 2 {
		t.Errorf("%d status writes between revisions, want 2", writes)
	}

	// No longer a load balancer: the ingress goes.
	cur.Spec.Type = api.ServiceTypeNodePort
	ctlMust(svcs.Update(ctx, cur))(t)
	waitIngress("lb")
	// Ingress someone wrote on a ClusterIP service goes too.
	plain := ctlMust(svcs.Get(ctx, "plain"))(t)
	plain.Status.LoadBalancer.Ingress = svcIngress("192.0.2.1")
	ctlMust(svcs.UpdateStatus(ctx, plain))(t)
	waitIngress("plain")
}

// svcStatusWrites counts the writes to service default/lb after revision
// from up to revision to, from the service watch.
func svcStatusWrites(t *testing.T, cl *ctlCluster, from, to int64) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(cl.ctx, 10*time.Second)
	defer cancel()
	w, err := cl.c.Services("default").Watch(ctx, client.ListOptions{ResourceVersion: from})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	writes := 0
	for ev := range w.Events() {
		if ev.Object.Name == "lb" {
			writes++
		}
		if ev.Object.ResourceVersion >= to {
			return writes
		}
	}
	t.Fatalf("watch ended before revision %d", to)
	return 0
}
