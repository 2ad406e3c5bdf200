package localcluster_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	dcontainer "github.com/docker/docker/api/types/container"
	dfilters "github.com/docker/docker/api/types/filters"
	"github.com/miekg/dns"

	"github.com/maestro-dev/maestro/engine/agent"
	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/localcluster"
)

// TestTwoLocalClusters runs two clusters side by side on one Docker
// engine as `maestro up --name` does (identities planned for their names,
// default agent ports): each serves its own app by cluster IP, node port
// and DNS name, and neither's agents touch the other's containers, nor
// containers labelled like a maestro pod of one of their nodes but with
// another cluster's id or none (a test's, an older maestro's), through
// agent restarts, housekeeping passes and a deployment's deletion.
func TestTwoLocalClusters(t *testing.T) {
	home := t.TempDir()
	run := make([]byte, 3)
	_, _ = rand.Read(run)
	var clusters []*lc
	var ids []localcluster.Identity
	for _, suffix := range []string{"a", "b"} {
		name := "tc" + hex.EncodeToString(run) + "-" + suffix
		dataDir := localcluster.DataDir(home, name)
		id, err := localcluster.ResolveIdentity(home, dataDir, name)
		if err != nil {
			t.Fatal(err)
		}
		clusters = append(clusters, startClusterB(t, 2, func(cfg *localcluster.Config) {
			id.Apply(cfg)
			cfg.DataDir, cfg.Listen = dataDir, id.Listen
			tweak := cfg.Agent
			cfg.Agent = func(c *agent.Config) {
				tweak(c)
				c.ServerPort = agent.DefaultServerPort // as maestro up: each node its own address
				c.ResyncInterval = time.Second         // housekeeping every second
			}
		}))
		ids = append(ids, id)
		t.Logf("cluster %s: slot %d, API %s, services %s, pods %s, nodes %s1.., at %s1..", name, id.Slot, id.Listen, id.ServiceCIDR,
			id.PodCIDR, id.NodePrefix, id.AddressPrefix)
	}
	a, b := clusters[0], clusters[1]
	idA, idB := a.CP.ClusterInfo().ClusterID, b.CP.ClusterInfo().ClusterID
	if idA == "" || idA == idB {
		t.Fatalf("cluster ids %q and %q: want two distinct ids", idA, idB)
	}

	// Each cluster's nodes get pod CIDRs from its own range.
	for i, c := range clusters {
		if info := c.CP.ClusterInfo(); info.PodCIDR != ids[i].PodCIDR.String() {
			t.Errorf("cluster %s serves pod range %s, want its planned %s", ids[i].Name, info.PodCIDR, ids[i].PodCIDR)
		}
		eventually(t, 10*time.Second, "node pod CIDRs inside the cluster's range", func() (bool, string) {
			nodes, _, err := c.Client.Nodes().List(c.ctx, client.ListOptions{})
			if err != nil {
				return false, err.Error()
			}
			var got []string
			for _, n := range nodes {
				p, err := netip.ParsePrefix(n.Spec.PodCIDR)
				if err != nil || !ids[i].PodCIDR.Contains(p.Addr()) {
					return false, fmt.Sprintf("%s: %q", n.Name, n.Spec.PodCIDR)
				}
				got = append(got, n.Spec.PodCIDR)
			}
			return len(got) == len(c.Nodes), fmt.Sprint(got)
		})
	}

	// Each cluster serves its own app under the same names.
	apps := map[*lc]*api.Service{}
	for _, c := range clusters {
		apps[c] = c.createService(t, backendService("web"))
		c.create(t, c.demoDeployment("web", 2))
	}
	for _, c := range clusters {
		pods := podNames(c.readyPods(t, "app=web", 2, 90*time.Second))
		svc := apps[c]
		servedBy(t, "http://"+net.JoinHostPort(svc.Spec.ClusterIP, "80")+"/", pods, 10*time.Second)
		servedBy(t, fmt.Sprintf("http://%s/", net.JoinHostPort(c.Nodes[1].Address, fmt.Sprint(svc.Spec.Ports[0].NodePort))), pods, 10*time.Second)
		if got := resolve(t, c.Host.DNSAddress(), "web.default.svc.cluster.local."); got != svc.Spec.ClusterIP {
			t.Errorf("cluster DNS at %s: web is %q, want its own cluster IP %s", c.Host.DNSAddress(), got, svc.Spec.ClusterIP)
		}
	}

	// Containers labelled for a's first node, but not of cluster a.
	node := a.Nodes[0].Name
	foreign := map[string]string{
		"another cluster's pod": a.plant(t, node, map[string]string{runtime.LabelCluster: "0123456789abcdef"}),
		"a pod without cluster": a.plant(t, node, nil),
	}
	before := map[*lc]map[string]string{a: a.containers(t, idA), b: b.containers(t, idB)}
	for c, cs := range before {
		if len(cs) != 4 { // two pods: an infra and an app container each
			t.Fatalf("containers of cluster %s: %v, want 4", c.CP.ClusterInfo().ClusterID, cs)
		}
	}

	// Every agent of both clusters restarts and runs housekeeping.
	for _, c := range clusters {
		for _, n := range c.Nodes {
			n.Stop()
			if err := n.Start(); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(4 * time.Second) // several housekeeping passes of every new agent
	for c, want := range before {
		c.readyPods(t, "app=web", 2, 20*time.Second)
		if got := c.containers(t, c.CP.ClusterInfo().ClusterID); !maps.Equal(got, want) {
			t.Errorf("after agent restarts, containers %v; want the same as before %v", got, want)
		}
	}
	a.checkPlanted(t, foreign)

	// a's deployment goes: a's agents remove exactly a's containers.
	if err := a.Client.Deployments("default").Delete(a.ctx, "web"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "cluster a's containers gone", func() (bool, string) {
		left := a.containers(t, idA)
		return len(left) == 0, fmt.Sprint(left)
	})
	time.Sleep(2 * time.Second)
	if got := b.containers(t, idB); !maps.Equal(got, before[b]) {
		t.Errorf("cluster b's containers after a's deployment went: %v; want %v", got, before[b])
	}
	servedBy(t, "http://"+net.JoinHostPort(apps[b].Spec.ClusterIP, "80")+"/", podNames(b.readyPods(t, "app=web", 2, 10*time.Second)), 10*time.Second)
	a.checkPlanted(t, foreign)
}

// plant runs a pause container labelled as a maestro pod sandbox of node,
// with extra labels, as another cluster or a test would leave; it is
// removed when the test ends.
func (c *lc) plant(t *testing.T, node string, extra map[string]string) string {
	t.Helper()
	uid := make([]byte, 8)
	_, _ = rand.Read(uid)
	labels := map[string]string{runtime.LabelManaged: "true", runtime.LabelRole: runtime.RoleSandbox, runtime.LabelNode: node,
		runtime.LabelPodUID: hex.EncodeToString(uid), runtime.LabelPodName: "planted", runtime.LabelPodNamespace: "default"}
	for k, v := range extra {
		labels[k] = v
	}
	created, err := c.docker.ContainerCreate(c.ctx, &dcontainer.Config{Image: c.infra, Labels: labels}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.docker.ContainerRemove(c.ctx, created.ID, removeForce) })
	if err := c.docker.ContainerStart(c.ctx, created.ID, dcontainer.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	return created.ID
}

// checkPlanted fails the test unless every planted container still runs.
func (c *lc) checkPlanted(t *testing.T, planted map[string]string) {
	t.Helper()
	for what, id := range planted {
		in, err := c.docker.ContainerInspect(c.ctx, id)
		if err != nil || in.State == nil || !in.State.Running {
			t.Errorf("%s (container %.12s), labelled for node %s: %v; want it left running", what, id, c.Nodes[0].Name, err)
		}
	}
}

// containers maps the running containers labelled with a cluster id to
// their pod and container names.
func (c *lc) containers(t *testing.T, cluster string) map[string]string {
	t.Helper()
	cs, err := c.docker.ContainerList(c.ctx, dcontainer.ListOptions{Filters: dfilters.NewArgs(
		dfilters.Arg("label", runtime.LabelCluster+"="+cluster))})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, ct := range cs {
		if !slices.ContainsFunc(c.Nodes, func(n *localcluster.Node) bool { return n.Name == ct.Labels[runtime.LabelNode] }) {
			t.Errorf("container %.12s of cluster %s on node %q, not one of the cluster's", ct.ID, cluster, ct.Labels[runtime.LabelNode])
		}
		out[ct.ID[:12]] = ct.Labels[runtime.LabelPodName] + "/" + ct.Labels[runtime.LabelRole] + "/" + ct.Labels[runtime.LabelContainerName]
	}
	return out
}

func resolve(t *testing.T, server, name string) string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, err := dns.Exchange(m, server)
	if err != nil {
		t.Fatalf("asking %s for %s: %v", server, name, err)
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String()
		}
	}
	return ""
}
