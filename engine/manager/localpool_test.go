package manager_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/engine/cloud/clouds"
	"github.com/maestro-dev/maestro/engine/cloud/local"
	"github.com/maestro-dev/maestro/engine/controlplane"
	"github.com/maestro-dev/maestro/engine/manager"
	"github.com/maestro-dev/maestro/engine/network"
	"github.com/maestro-dev/maestro/engine/runtime"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
	"github.com/maestro-dev/maestro/internal/testreq"
)

// localPools is a cluster whose leader runs the node pool and machine
// controllers with the real local cloud: every machine is a `maestro
// agent` process (the binary built from this checkout) on Docker.
type localPools struct {
	*cluster.Cluster
	root    string // the server's data dir: machines under <root>/machines
	demo    string
	cluster string // cluster id
}

func startLocalPools(t testing.TB) *localPools { return startLocalPoolsOn(t, nil) }

// startLocalPoolsOn starts the cluster with its local machines as emulated
// hosts on network n (a bridge and subnet of the test's own; nil: in this
// host's network), the server listening on the bridge's address too.
func startLocalPoolsOn(t testing.TB, n *local.Network) *localPools {
	t.Helper()
	return startLocalPoolsWith(t, n, nil)
}

// startLocalPoolsWith is startLocalPoolsOn with the manager's config
// edited by edit (nil: as is).
func startLocalPoolsWith(t testing.TB, n *local.Network, edit func(*manager.Config)) *localPools {
	t.Helper()
	testenv.RequireDocker(t)
	if n != nil {
		testreq.Root(t, "local machines as emulated hosts need network namespaces and a bridge")
		if err := n.EnsureBridge(context.Background()); err != nil {
			t.Fatalf("making bridge %s: %v", n.Bridge, err)
		}
		t.Cleanup(func() {
			if err := n.Remove(context.Background()); err != nil {
				t.Errorf("removing bridge %s: %v", n.Bridge, err)
			}
		})
	}
	bin := testenv.BuildBinary(t, "./cmd/maestro")
	pause, demo := testenv.PauseImage(t), testenv.DemoImage(t)
	log := testenv.Logger(t)
	lp := &localPools{demo: demo}
	mcfg := manager.Config{}
	mcfg.Controllers.NodeMonitorGracePeriod = 3 * time.Second
	if edit != nil {
		edit(&mcfg)
	}
	lp.Cluster = cluster.Start(t, func(o *cluster.Options) {
		o.ControlPlane = func(cfg *controlplane.Config) {
			lp.root = cfg.DataDir
			if n != nil {
				cfg.Listen, cfg.TLSSANs = "0.0.0.0:0", append(cfg.TLSSANs, n.Gateway().String())
			}
			cfg.Leader = func(ctx context.Context, c *client.Client) {
				m := mcfg
				var err error
				m.Machines, err = manager.MachinesConfig(cfg.DataDir, clouds.Options{Binary: bin, Logger: log, LocalNetwork: n,
					LocalAgentArgs: []string{"--infra-image", pause, "--heartbeat-interval", "500ms", "--log-level", "debug"}}, c)
				if err != nil {
					t.Errorf("machines config: %v", err)
					return
				}
				_ = manager.Run(ctx, c, log, m)
			}
		}
	})
	info, err := lp.Client.ClusterInfo(lp.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	lp.cluster = info.ClusterID
	// Agents killed by a test leave their containers; deleted nodes' pods too.
	testenv.CleanupContainers(t, map[string]string{runtime.LabelCluster: lp.cluster})
	t.Cleanup(func() { lp.deleteAllMachines(t, bin) })
	return lp
}

// deleteAllMachines stops every machine the test left, as the server's
// local cloud deletes them (pods and pod network included).
func (lp *localPools) deleteAllMachines(t testing.TB, bin string) {
	res, err := clouds.New(clouds.Options{DataDir: lp.root, Binary: bin})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	c, err := res.For(context.Background(), &api.NodePool{Spec: api.NodePoolSpec{Provider: api.ProviderLocal}})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	ms, _ := c.List(context.Background(), cloud.Filter{Cluster: lp.cluster})
	for _, m := range ms {
		if err := c.Delete(context.Background(), m.ID); err != nil {
			t.Errorf("cleanup: deleting machine %s: %v", m.ID, err)
		}
	}
}

// processes lists the local cloud's machines (by name) that still run.
func (lp *localPools) processes(t testing.TB) []string {
	t.Helper()
	c, err := local.New(local.Options{Root: filepath.Join(lp.root, "machines"), Command: func(local.Spec) []string { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := c.List(lp.Ctx, cloud.Filter{Cluster: lp.cluster})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		if m.State == cloud.StateRunning {
			out = append(out, m.Name)
		}
	}
	slices.Sort(out)
	return out
}

// pid reads a machine's agent PID from its record.
func (lp *localPools) pid(t testing.TB, providerID string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(lp.root, "machines", "machines", providerID, "machine.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		PID int `json:"pid"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.PID == 0 {
		t.Fatalf("machine %s record: pid %d, %v", providerID, rec.PID, err)
	}
	return rec.PID
}

func localPool(name string, size int32) *api.NodePool {
	return &api.NodePool{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.NodePoolSpec{
		Provider: api.ProviderLocal, MinSize: 0, MaxSize: 10, Size: api.Ptr(size), DrainTimeoutSeconds: api.Ptr[int64](60),
		Remediation: api.MachineRemediation{StartupTimeoutSeconds: api.Ptr[int64](120), NotReadyTimeoutSeconds: api.Ptr[int64](3)}}}
}

func (lp *localPools) editPool(t testing.TB, name string, edit func(*api.NodePool)) {
	t.Helper()
	cluster.Update(t, lp.Ctx, lp.Client.NodePools(), name, edit)
}

// waitReady waits until pool reports size Ready machines on its current
// template, each with a Ready node, and returns the machines.
func (lp *localPools) waitReady(t testing.TB, pool string, size int, timeout time.Duration) []*api.Machine {
	t.Helper()
	var ms []*api.Machine
	cluster.Eventually(t, timeout, fmt.Sprintf("pool %s: %d machines Ready", pool, size), func() (bool, string) {
		p, err := lp.Client.NodePools().Get(lp.Ctx, pool)
		if err != nil {
			return false, err.Error()
		}
		ms, _, err = lp.Client.Machines().List(lp.Ctx, client.ListOptions{LabelSelector: api.LabelNodePool + "=" + pool})
		if err != nil {
			return false, err.Error()
		}
		c := api.FindCondition(p.Status.Conditions, api.NodePoolReady)
		ok := c != nil && c.Status == api.ConditionTrue && len(ms) == size && p.Status.ObservedGeneration == p.Generation
		for _, m := range ms {
			n, err := lp.Client.Nodes().Get(lp.Ctx, m.Name)
			ok = ok && err == nil && api.IsNodeReady(n)
		}
		return ok, fmt.Sprintf("%+v; %d machines", c, len(ms))
	})
	slices.SortFunc(ms, func(a, b *api.Machine) int { return strings.Compare(a.Name, b.Name) })
	return ms
}

// webPods returns the node of each Ready pod of deployment web.
func (lp *localPools) webPods(t testing.TB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, p := range lp.Pods(t, "default", "app=web") {
		if api.IsPodReady(p) && p.DeletionTimestamp == nil {
			out[p.Spec.NodeName]++
		}
	}
	return out
}

func names(ms []*api.Machine) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	slices.Sort(out)
	return out
}

// TestLocalPool: a local pool of 2 becomes 2 Ready nodes (real agents);
// a template change replaces them one at a time (never more than 3
// machines, the workload's pods Ready throughout); 2 -> 3 -> 1 removes the
// machines with the fewest pods, each drained (its pods Ready elsewhere
// first), its process stopped and its Node deleted.
func TestLocalPool(t *testing.T) {
	lp := startLocalPools(t)
	if _, err := lp.Client.NodePools().Create(lp.Ctx, localPool("lp", 2)); err != nil {
		t.Fatal(err)
	}
	first := lp.waitReady(t, "lp", 2, 90*time.Second)
	if got := lp.processes(t); !slices.Equal(got, names(first)) {
		t.Fatalf("agent processes %v, want %v", got, names(first))
	}
	d := testenv.DemoDeployment(lp.demo, "web", 3)
	if _, err := lp.Client.Deployments("default").Create(lp.Ctx, d); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 60*time.Second, "web Ready on both nodes", func() (bool, string) {
		w := lp.webPods(t)
		return len(w) == 2 && w[first[0].Name]+w[first[1].Name] == 3, fmt.Sprint(w)
	})

	lp.templateChange(t, "lp", first)

	// 2 -> 3: the new machine has no pods; 3 -> 1 removes it and the one
	// of the other two with fewer web pods (3 pods on 2 nodes: 2 and 1).
	lp.editPool(t, "lp", func(p *api.NodePool) { p.Spec.Size = api.Ptr[int32](3) })
	three := lp.waitReady(t, "lp", 3, 90*time.Second)
	var w map[string]int
	cluster.Eventually(t, 60*time.Second, "web Ready, 2 and 1", func() (bool, string) {
		w = lp.webPods(t)
		n := slices.Sorted(maps.Values(w))
		return slices.Equal(n, []int{1, 2}), fmt.Sprint(w)
	})
	busiest := slices.MaxFunc(three, func(a, b *api.Machine) int { return w[a.Name] - w[b.Name] })
	lp.editPool(t, "lp", func(p *api.NodePool) { p.Spec.Size = api.Ptr[int32](1) })
	one := lp.waitReady(t, "lp", 1, 2*time.Minute)
	if one[0].Name != busiest.Name {
		t.Errorf("kept %s, want %s, the machine with most pods (%v)", one[0].Name, busiest.Name, w)
	}
	cluster.Eventually(t, 60*time.Second, "web Ready on the remaining node", func() (bool, string) {
		w := lp.webPods(t)
		return w[one[0].Name] == 3, fmt.Sprint(w)
	})
	evs, _, _ := lp.Client.Events("").List(lp.Ctx, client.ListOptions{})
	for _, m := range three {
		if m.Name == one[0].Name {
			continue
		}
		if !slices.ContainsFunc(evs, func(ev *api.Event) bool {
			return ev.InvolvedObject.Name == m.Name && ev.Reason == api.ReasonDrained
		}) {
			t.Errorf("removed machine %s was not drained (no %s event)", m.Name, api.ReasonDrained)
		}
	}
	if got := lp.processes(t); !slices.Equal(got, []string{one[0].Name}) {
		t.Errorf("agent processes %v, want only %s", got, one[0].Name)
	}
	nodes, _, _ := lp.Client.Nodes().List(lp.Ctx, client.ListOptions{})
	if len(nodes) != 1 {
		t.Errorf("%d nodes left, want 1", len(nodes))
	}
	lp.deletePoolLeavesNothing(t, "lp")
}

// deletePoolLeavesNothing deletes a pool and checks that its machines go
// with it, and with them every process, node, container and pod network
// they had on this host.
func (lp *localPools) deletePoolLeavesNothing(t *testing.T, pool string) {
	t.Helper()
	if err := lp.Client.NodePools().Delete(lp.Ctx, pool); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 2*time.Minute, "the pool and its machines gone", func() (bool, string) {
		_, err := lp.Client.NodePools().Get(lp.Ctx, pool)
		ms, _, _ := lp.Client.Machines().List(lp.Ctx, client.ListOptions{})
		return api.IsNotFound(err) && len(ms) == 0, fmt.Sprintf("%v; %d machines", err, len(ms))
	})
	if got := lp.processes(t); len(got) != 0 {
		t.Errorf("agent processes left: %v", got)
	}
	if nodes, _, _ := lp.Client.Nodes().List(lp.Ctx, client.ListOptions{}); len(nodes) != 0 {
		t.Errorf("%d nodes left", len(nodes))
	}
	cs, err := testenv.RequireDocker(t).ContainerList(lp.Ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", runtime.LabelCluster+"="+lp.cluster))})
	if err != nil || len(cs) != 0 {
		t.Errorf("%d containers of the cluster left (%v)", len(cs), err)
	}
	if os.Geteuid() == 0 {
		if brs, err := network.Bridges(lp.cluster); err != nil || len(brs) != 0 {
			t.Errorf("pod network bridges left: %v (%v)", brs, err)
		}
	}
}

// templateChange changes the template of pool (2 machines, first) and
// checks the rollout: one machine at a time (never more than 3), web Ready
// throughout, every machine and agent replaced, the nodes labelled anew.
func (lp *localPools) templateChange(t *testing.T, pool string, first []*api.Machine) {
	t.Helper()
	var most atomic.Int32
	var fewestWeb atomic.Int32
	fewestWeb.Store(3)
	stop := cluster.Every(50*time.Millisecond, func() {
		ms, _, err := lp.Client.Machines().List(lp.Ctx, client.ListOptions{})
		if err == nil && int32(len(ms)) > most.Load() {
			most.Store(int32(len(ms)))
		}
		n := int32(0)
		for _, c := range lp.webPods(t) {
			n += int32(c)
		}
		if n < fewestWeb.Load() {
			fewestWeb.Store(n)
		}
	})
	start := time.Now()
	lp.editPool(t, pool, func(p *api.NodePool) { p.Spec.Labels = map[string]string{"generation": "2"} })
	var second []*api.Machine
	cluster.Eventually(t, 3*time.Minute, "both machines replaced", func() (bool, string) {
		second = lp.waitReady(t, pool, 2, 3*time.Minute)
		for _, m := range second {
			if slices.Contains(names(first), m.Name) {
				return false, strings.Join(names(second), ",")
			}
		}
		return true, ""
	})
	stop()
	t.Logf("template change: 2 machines replaced in %s", time.Since(start).Round(time.Millisecond))
	if most.Load() > 3 {
		t.Errorf("up to %d machines during the rollout, want <= 3 (size 2 + surge 1)", most.Load())
	}
	if fewestWeb.Load() < 1 {
		t.Errorf("web had %d Ready pods during the rollout, want >= 1 (drain waits for replacements)", fewestWeb.Load())
	}
	for _, m := range second {
		if n, _ := lp.Client.Nodes().Get(lp.Ctx, m.Name); n == nil || n.Labels["generation"] != "2" {
			t.Errorf("node %s lacks the new template's label", m.Name)
		}
	}
	if got := lp.processes(t); !slices.Equal(got, names(second)) {
		t.Errorf("agent processes %v after the rollout, want %v", got, names(second))
	}
}

// TestMachineReplacedLocal: a machine whose agent process is killed is
// replaced (its node NotReady past the pool's NotReady timeout), and its
// pod runs again on the replacement.
func TestMachineReplacedLocal(t *testing.T) {
	lp := startLocalPools(t)
	if _, err := lp.Client.NodePools().Create(lp.Ctx, localPool("lp", 1)); err != nil {
		t.Fatal(err)
	}
	ms := lp.waitReady(t, "lp", 1, 90*time.Second)
	d := testenv.DemoDeployment(lp.demo, "web", 1)
	if _, err := lp.Client.Deployments("default").Create(lp.Ctx, d); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 60*time.Second, "web Ready", func() (bool, string) { return len(lp.webPods(t)) == 1, "" })
	victim := ms[0]
	cut := time.Now()
	if err := syscall.Kill(lp.pid(t, victim.Status.ProviderID), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var replacement []*api.Machine
	cluster.Eventually(t, 2*time.Minute, "a replacement machine Ready", func() (bool, string) {
		replacement = lp.waitReady(t, "lp", 1, 2*time.Minute)
		return replacement[0].Name != victim.Name, replacement[0].Name
	})
	machineReady := time.Since(cut)
	cluster.Eventually(t, 2*time.Minute, "web Ready on the replacement", func() (bool, string) {
		w := lp.webPods(t)
		return w[replacement[0].Name] == 1, fmt.Sprint(w)
	})
	t.Logf("agent killed -> replacement machine Ready %s, -> its pod Ready %s", machineReady.Round(time.Millisecond), time.Since(cut).Round(time.Millisecond))
	evs, _, _ := lp.Client.Events("").List(lp.Ctx, client.ListOptions{})
	found := false
	for _, ev := range evs {
		if ev.InvolvedObject.Name == victim.Name && ev.Reason == api.ReasonRemediating && strings.Contains(ev.Message, "NotReady for more than 3s") {
			found = true
		}
	}
	if !found {
		t.Errorf("no Remediating event for %s", victim.Name)
	}
	if _, err := lp.Client.Nodes().Get(lp.Ctx, victim.Name); !api.IsNotFound(err) {
		t.Errorf("the dead machine's node is still there (%v)", err)
	}
	if got := lp.processes(t); !slices.Equal(got, []string{replacement[0].Name}) {
		t.Errorf("agent processes %v, want only %s", got, replacement[0].Name)
	}
	lp.deletePoolLeavesNothing(t, "lp") // the killed agent's pod and network included
}
