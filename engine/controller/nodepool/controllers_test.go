package nodepool_test

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

var machineName = regexp.MustCompile(`^np-[a-z0-9]{5}$`)

// TestPoolMachinesJoin: a pool of 2 over two zones gets two machines named
// <pool>-<5 chars>, labelled and owned by the pool, one per zone, each
// created with a single-use join token bound to it (never stored in the
// machine) and the machine's uid as idempotency key; their nodes carry the
// pool's taints; the pool reports Ready.
func TestPoolMachinesJoin(t *testing.T) {
	t.Parallel()
	e := start(t)
	taint := api.Taint{Key: "dedicated", Value: "web", Effect: api.TaintNoSchedule}
	e.createPool(t, pool("np", 2, func(p *api.NodePool) {
		p.Spec.Zones, p.Spec.Labels, p.Spec.Taints = []string{"z1", "z2"}, map[string]string{"tier": "web"}, []api.Taint{taint}
		p.Spec.MachineType = "small"
	}))
	ms := e.waitPoolReady(t, "np", 2, 30*time.Second)
	p, _ := e.Client.NodePools().Get(e.Ctx, "np")
	if p.Status.UpdatedMachines != 2 || p.Status.TemplateHash == "" || !slices.Contains(p.Finalizers, api.FinalizerNodePool) {
		t.Errorf("pool status %+v, finalizers %v; want 2 updated, a template hash, the pool finalizer", p.Status, p.Finalizers)
	}
	tokens, err := e.Client.ListTokens(e.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	reqs := e.fake.Requests()
	var zones []string
	for _, m := range ms {
		zones = append(zones, m.Spec.Zone)
		if !machineName.MatchString(m.Name) || m.Labels[api.LabelTemplateHash] != p.Status.TemplateHash ||
			m.ControllerRef() == nil || m.ControllerRef().UID != p.UID || !slices.Contains(m.Finalizers, api.FinalizerMachine) {
			t.Errorf("machine %s: labels %v, owner %v, finalizers %v", m.Name, m.Labels, m.OwnerReferences, m.Finalizers)
		}
		if m.Status.Phase != api.MachineRunning || m.Status.ProviderID == "" || m.Status.NodeReadyAt == nil || m.Status.ProvisionedAt == nil {
			t.Errorf("machine %s status %+v; want Running with provider id and times", m.Name, m.Status)
		}
		i := slices.IndexFunc(tokens, func(tk api.TokenInfo) bool { return tk.ID == m.Status.JoinTokenID })
		if i < 0 {
			t.Fatalf("machine %s: join token %q not found in %+v", m.Name, m.Status.JoinTokenID, tokens)
		}
		tk := tokens[i]
		wantLabels := map[string]string{"tier": "web", api.LabelNodePool: "np", api.LabelZone: m.Spec.Zone, api.LabelInstanceType: "small"}
		if tk.Role != "join" || tk.Node != m.Name || tk.UsesLeft != 1 || !maps.Equal(tk.Labels, wantLabels) || tk.Expires == nil ||
			tk.Expires.Sub(tk.Created) > 601*time.Second {
			t.Errorf("machine %s: join token %+v; want single-use, node %s, labels %v, startup-timeout TTL", m.Name, tk, m.Name, wantLabels)
		}
		j := slices.IndexFunc(reqs, func(r cloud.MachineRequest) bool { return r.Name == m.Name })
		if j < 0 || reqs[j].IdempotencyKey != m.UID || reqs[j].Bootstrap.JoinToken == "" || len(reqs[j].Cluster) != 16 {
			t.Fatalf("machine %s: cloud request %+v; want the uid as key, a token, the cluster id", m.Name, reqs[j])
		}
		if secret := reqs[j].Bootstrap.JoinToken.Reveal(); strings.Contains(jsonOf(t, m), secret) {
			t.Errorf("machine %s holds its join token's secret", m.Name)
		}
		n, ok := e.node(t, m.Name)
		if !ok || !slices.Contains(n.Spec.Taints, taint) || n.Spec.ProviderID == "" {
			t.Errorf("node of machine %s: %+v; want the pool's taint", m.Name, n)
		}
	}
	if slices.Sort(zones); !slices.Equal(zones, []string{"z1", "z2"}) {
		t.Errorf("zones %v, want one machine in each", zones)
	}
}

// TestScaleDownRemovesFewestPods: 3 -> 1 removes the two machines with
// fewest pods, each drained (its bare pod deleted), released in the cloud,
// its join token revoked and its Node deleted.
func TestScaleDownRemovesFewestPods(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.createPool(t, pool("np", 3))
	ms := e.waitPoolReady(t, "np", 3, 30*time.Second)
	for i, m := range ms {
		for j := range 2 - i { // 2, 1, 0 pods
			p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("p-%s-%d", m.Name, j), Namespace: "default"},
				Spec: api.PodSpec{NodeName: m.Name, TerminationGracePeriodSeconds: api.Ptr[int64](0),
					Containers: []api.Container{{Name: "c", Image: "x"}}}}
			if _, err := e.Client.Pods("default").Create(e.Ctx, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	cluster.Eventually(t, 10*time.Second, "pods running", func() (bool, string) {
		n := 0
		for _, p := range e.Pods(t, "default", "") {
			if p.Status.Phase == api.PodRunning {
				n++
			}
		}
		return n == 3, fmt.Sprint(n)
	})
	e.editPool(t, "np", func(p *api.NodePool) { p.Spec.Size = api.Ptr[int32](1) })
	left := e.waitPoolReady(t, "np", 1, 30*time.Second)
	if left[0].Name != ms[0].Name {
		t.Fatalf("kept %s, want %s (the one with most pods)", left[0].Name, ms[0].Name)
	}
	deleted := e.fake.Deleted()
	tokens, _ := e.Client.ListTokens(e.Ctx)
	for _, m := range ms[1:] {
		if !slices.Contains(deleted, m.Name) {
			t.Errorf("machine %s not deleted in the cloud (deleted: %v)", m.Name, deleted)
		}
		if _, ok := e.node(t, m.Name); ok {
			t.Errorf("node %s left behind", m.Name)
		}
		if slices.ContainsFunc(tokens, func(tk api.TokenInfo) bool { return tk.ID == m.Status.JoinTokenID }) {
			t.Errorf("join token of machine %s not revoked", m.Name)
		}
	}
	for _, p := range e.Pods(t, "default", "") {
		if p.Spec.NodeName != ms[0].Name {
			t.Errorf("pod %s still on removed node %s", p.Name, p.Spec.NodeName)
		}
	}
	evs := strings.Join(e.events(t, "NodePool", "np"), "\n")
	if !strings.Contains(evs, api.ReasonScalingDown+": deleting machine "+ms[1].Name) {
		t.Errorf("pool events lack the scale-down:\n%s", evs)
	}
}

// TestRolloutOneAtATime: a template change replaces each machine with a
// new one (surge 1, unavailable 0): never more than 3 machines, never
// fewer than 2 Ready, every machine on the new template and its labels.
func TestRolloutOneAtATime(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.createPool(t, pool("np", 2))
	old := e.waitPoolReady(t, "np", 2, 30*time.Second)
	var maxTotal, minReady atomic.Int32
	minReady.Store(2)
	stop := cluster.Every(20*time.Millisecond, func() {
		ms, _, err := e.Client.Machines().List(e.Ctx, client.ListOptions{})
		if err != nil {
			return
		}
		ready := int32(0)
		for _, m := range ms {
			if m.DeletionTimestamp == nil && m.Status.Phase == api.MachineRunning {
				ready++
			}
		}
		if n := int32(len(ms)); n > maxTotal.Load() {
			maxTotal.Store(n)
		}
		if ready < minReady.Load() {
			minReady.Store(ready)
		}
	})
	e.editPool(t, "np", func(p *api.NodePool) { p.Spec.Labels = map[string]string{"version": "2"} })
	cluster.Eventually(t, 60*time.Second, "every machine replaced", func() (bool, string) {
		ms := e.machines(t, "np")
		p, _ := e.Client.NodePools().Get(e.Ctx, "np")
		done := len(ms) == 2 && p.Status.UpdatedMachines == 2 && p.Status.ReadyMachines == 2
		for _, m := range ms {
			done = done && m.Spec.Labels["version"] == "2" && m.Labels[api.LabelTemplateHash] == p.Status.TemplateHash
		}
		return done, summary(ms)
	})
	stop()
	if maxTotal.Load() > 3 || minReady.Load() < 2 {
		t.Errorf("during the rollout: up to %d machines, down to %d Running; want <= 3 and >= 2", maxTotal.Load(), minReady.Load())
	}
	for _, m := range old {
		if !slices.Contains(e.fake.Deleted(), m.Name) {
			t.Errorf("old machine %s not deleted", m.Name)
		}
	}
	if evs := strings.Join(e.events(t, "NodePool", "np"), "\n"); strings.Count(evs, api.ReasonRollingOut+": created machine") < 1 {
		t.Errorf("pool events lack the rollout:\n%s", evs)
	}
}

// TestDrainWaitsForReplacement: a deleted machine's node is cordoned, its
// pod evicted, and the machine released only once the pod's replacement
// is Ready on another node.
func TestDrainWaitsForReplacement(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.createPool(t, pool("np", 2))
	e.waitPoolReady(t, "np", 2, 30*time.Second)
	d := testenv.DemoDeployment("demo:test", "web", 1)
	if _, err := e.Client.Deployments("default").Create(e.Ctx, d); err != nil {
		t.Fatal(err)
	}
	var victim string
	cluster.Eventually(t, 20*time.Second, "the pod Ready", func() (bool, string) {
		ps := e.Pods(t, "default", "app=web")
		if len(ps) == 1 && api.IsPodReady(ps[0]) {
			victim = ps[0].Spec.NodeName
			return true, ""
		}
		return false, fmt.Sprint(len(ps))
	})
	var atDelete atomic.Value // what held when the cloud deleted the victim
	hook := e.fake.OnDelete
	e.fake.OnDelete = func(m cloud.Machine) {
		if m.Name == victim {
			n, _ := e.node(t, victim)
			var elsewhere []string
			for _, p := range e.Pods(t, "default", "app=web") {
				if p.Spec.NodeName != victim && api.IsPodReady(p) {
					elsewhere = append(elsewhere, p.Spec.NodeName)
				}
			}
			atDelete.Store(fmt.Sprintf("cordoned=%v ready-elsewhere=%d", n != nil && n.Spec.Unschedulable, len(elsewhere)))
		}
		hook(m)
	}
	if err := e.Client.Machines().Delete(e.Ctx, victim); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 30*time.Second, "the machine released", func() (bool, string) {
		_, err := e.Client.Machines().Get(e.Ctx, victim)
		return api.IsNotFound(err), fmt.Sprint(err)
	})
	if got, _ := atDelete.Load().(string); got != "cordoned=true ready-elsewhere=1" {
		t.Fatalf("when the cloud deleted the machine: %q, want its node cordoned and the pod Ready elsewhere", got)
	}
	e.waitPoolReady(t, "np", 2, 30*time.Second) // the pool replaced it
	evs := strings.Join(e.events(t, "Machine", victim), "\n")
	if !strings.Contains(evs, api.ReasonDrained+": node "+victim+" drained") {
		t.Errorf("machine events lack the drain:\n%s", evs)
	}
}

// TestCloudErrorReported: a cloud that refuses machines shows on the
// machine (Provisioned=False, CloudError, the cloud's message), on the
// pool (MachineFailed) and in events; a transient error is retried until
// the cloud accepts.
func TestCloudErrorReported(t *testing.T) {
	t.Parallel()
	e := start(t)
	const msg = "ssh root@10.0.0.9:22: unreachable: connect: connection refused"
	e.fake.FailCreates(cloud.Errorf(cloud.ErrTransient, "ssh", "create", "%s", msg))
	e.createPool(t, pool("np", 1))
	cluster.Eventually(t, 20*time.Second, "the cloud error on machine and pool", func() (bool, string) {
		ms := e.machines(t, "np")
		p, _ := e.Client.NodePools().Get(e.Ctx, "np")
		if len(ms) != 1 || p == nil {
			return false, summary(ms)
		}
		mc := api.FindCondition(ms[0].Status.Conditions, api.MachineProvisioned)
		pc := api.FindCondition(p.Status.Conditions, api.NodePoolReady)
		ok := mc != nil && mc.Status == api.ConditionFalse && mc.Reason == api.ReasonCloudError && strings.Contains(mc.Message, msg) &&
			pc != nil && pc.Reason == api.ReasonMachineFailed && strings.Contains(pc.Message, msg) && strings.Contains(pc.Message, ms[0].Name)
		return ok, fmt.Sprintf("machine %+v; pool %+v", mc, pc)
	})
	ms := e.machines(t, "np")
	if evs := strings.Join(e.events(t, "Machine", ms[0].Name), "\n"); !strings.Contains(evs, api.ReasonCloudError) || !strings.Contains(evs, msg) {
		t.Errorf("machine events lack the cloud error:\n%s", evs)
	}
	e.fake.FailCreates(nil)
	e.waitPoolReady(t, "np", 1, 30*time.Second)
}

// TestMachineRemediated: a machine whose node never joins is replaced once
// the startup timeout passes, with the agent's last log lines in its
// message; one whose node goes NotReady past the NotReady timeout too.
func TestMachineRemediated(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.fake.SetLogs("agent: joining https://127.0.0.1:6443: x509: certificate signed by unknown authority")
	e.noJoin.Store("np", true)
	e.createPool(t, pool("np", 1, func(p *api.NodePool) {
		p.Spec.Remediation.StartupTimeoutSeconds = api.Ptr[int64](2)
		p.Spec.Remediation.NotReadyTimeoutSeconds = api.Ptr[int64](1)
	}))
	var first string
	cluster.Eventually(t, 20*time.Second, "the first machine remediated", func() (bool, string) {
		ms := e.machines(t, "np")
		if len(ms) > 0 && first == "" {
			first = ms[0].Name
		}
		return first != "" && slices.Contains(e.fake.Deleted(), first), summary(ms)
	})
	evs := strings.Join(e.events(t, "Machine", first), "\n")
	if !strings.Contains(evs, api.ReasonRemediating+": node "+first+" did not join within 2s") || !strings.Contains(evs, "x509: certificate signed by unknown authority") {
		t.Errorf("remediation events lack the reason and the agent's log:\n%s", evs)
	}
	e.noJoin.Delete("np")
	ms := e.waitPoolReady(t, "np", 1, 30*time.Second)
	e.Fleet.Node(ms[0].Name).Stop() // the machine dies
	cluster.Eventually(t, 30*time.Second, "the dead machine replaced", func() (bool, string) {
		return slices.Contains(e.fake.Deleted(), ms[0].Name), summary(e.machines(t, "np"))
	})
	e.waitPoolReady(t, "np", 1, 30*time.Second)
	if evs := strings.Join(e.events(t, "Machine", ms[0].Name), "\n"); !strings.Contains(evs, "NotReady for more than 1s") {
		t.Errorf("remediation events lack NotReady:\n%s", evs)
	}
}

// TestRemediationMaxInFlight: with maxInFlight 1, machines that never
// join are replaced one at a time.
func TestRemediationMaxInFlight(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.noJoin.Store("np", true)
	var mu sync.Mutex
	inFlight, most := 0, 0
	e.fake.OnDelete = func(cloud.Machine) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(300 * time.Millisecond) // a slow cloud delete keeps the machine in flight
		mu.Lock()
		inFlight--
		mu.Unlock()
	}
	e.createPool(t, pool("np", 3, func(p *api.NodePool) {
		p.Spec.Remediation.StartupTimeoutSeconds = api.Ptr[int64](1)
		p.Spec.Remediation.MaxInFlight = api.Ptr(api.FromInt(1))
	}))
	cluster.Eventually(t, 30*time.Second, "six machines remediated", func() (bool, string) {
		return len(e.fake.Deleted()) >= 6, fmt.Sprint(e.fake.Deleted())
	})
	mu.Lock()
	defer mu.Unlock()
	if most != 1 {
		t.Fatalf("up to %d machines of the pool were deleted at once, want 1 (maxInFlight)", most)
	}
}

// TestSSHHosts: an ssh pool's machines each get a host of the pool no
// other machine holds, passed to the cloud; a pool larger than its host
// list makes what it can and says NotEnoughHosts; a host added to the list
// is taken without replacing the others (the host list is not template).
func TestSSHHosts(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.createPool(t, pool("np", 3, func(p *api.NodePool) {
		p.Spec.Provider = api.ProviderSSH
		p.Spec.SSH = &api.SSHPoolConfig{Hosts: []string{"10.0.0.1", "10.0.0.2"}, PrivateKeySecretRef: "k", InsecureIgnoreHostKey: true}
	}))
	cluster.Eventually(t, 20*time.Second, "NotEnoughHosts with 2 machines Running", func() (bool, string) {
		p, _ := e.Client.NodePools().Get(e.Ctx, "np")
		ms := e.machines(t, "np")
		c := api.FindCondition(p.Status.Conditions, api.NodePoolReady)
		return c != nil && c.Reason == api.ReasonNotEnoughHosts && strings.Contains(c.Message, "needs 1 more host") &&
			len(ms) == 2 && p.Status.ReadyMachines == 2, fmt.Sprintf("%+v; %s", c, summary(ms))
	})
	hosts := map[string]string{}
	for _, m := range e.machines(t, "np") {
		hosts[m.Spec.Host] = m.Name
	}
	for _, r := range e.fake.Requests() {
		if hosts[r.Host] != r.Name {
			t.Errorf("cloud request for %s on host %q; machines by host %v", r.Name, r.Host, hosts)
		}
	}
	if len(hosts) != 2 || hosts["10.0.0.1"] == "" || hosts["10.0.0.2"] == "" {
		t.Fatalf("machines by host %v, want one on each", hosts)
	}
	e.editPool(t, "np", func(p *api.NodePool) { p.Spec.SSH.Hosts = append(p.Spec.SSH.Hosts, "10.0.0.3") })
	ms := e.waitPoolReady(t, "np", 3, 20*time.Second)
	for _, m := range ms {
		if m.Spec.Host != "10.0.0.3" && hosts[m.Spec.Host] != m.Name {
			t.Errorf("machine %s on %s: the host list change replaced machines (%v)", m.Name, m.Spec.Host, hosts)
		}
	}
}

// TestDeletedNodeReplaced: a Running machine whose Node is deleted is
// replaced.
func TestDeletedNodeReplaced(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.createPool(t, pool("np", 1))
	ms := e.waitPoolReady(t, "np", 1, 30*time.Second)
	e.Fleet.Node(ms[0].Name).Stop()
	if err := e.Client.Nodes().Delete(e.Ctx, ms[0].Name); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 20*time.Second, "the machine replaced", func() (bool, string) {
		return slices.Contains(e.fake.Deleted(), ms[0].Name), summary(e.machines(t, "np"))
	})
	if evs := strings.Join(e.events(t, "Machine", ms[0].Name), "\n"); !strings.Contains(evs, "node "+ms[0].Name+" was deleted") {
		t.Errorf("events lack the reason:\n%s", evs)
	}
	e.waitPoolReady(t, "np", 1, 20*time.Second)
}
