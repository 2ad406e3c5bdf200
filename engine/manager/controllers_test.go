package manager_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/simnode"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// Rolling update of 10 replicas with maxUnavailable 0 and maxSurge 2: at
// every observed instant at least 10 pods are ready and at most 12 exist;
// the old replica set ends at 0; rollback restores the previous template
// as a new revision.
func TestRollingUpdateAndRollback(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	c.AddNodes(t, "node-", 6, zones...)
	d := create(t, c, deployment("web", 10, func(d *api.Deployment) {
		d.Spec.Strategy.RollingUpdate = &api.RollingUpdateDeployment{
			MaxUnavailable: api.Ptr(api.FromInt(0)), MaxSurge: api.Ptr(api.FromInt(2))}
	}))
	deps := c.Client.Deployments("default")
	waitRolledOut(t, c, "web", 10, 1)

	// Watch every pod change and check the invariants at each one.
	pods := client.NewInformer(c.Client.Pods("default"), client.ListOptions{LabelSelector: "app=web"})
	violations := make(chan string, 100)
	check := func() {
		ready, total := 0, 0
		for _, p := range pods.List() {
			if p.DeletionTimestamp != nil || api.IsPodTerminal(p) {
				continue
			}
			total++
			if api.IsPodReady(p) {
				ready++
			}
		}
		if ready < 10 || total > 12 {
			select {
			case violations <- fmt.Sprintf("ready=%d total=%d", ready, total):
			default:
			}
		}
	}
	pods.AddHandler(client.Handler[*api.Pod]{OnAdd: func(*api.Pod) { check() }, OnUpdate: func(_, _ *api.Pod) { check() }, OnDelete: func(*api.Pod) { check() }})
	ctx, cancel := context.WithCancel(c.Ctx)
	defer cancel()
	go pods.Run(ctx)
	pods.WaitForSync(ctx)

	d, _ = deps.Get(c.Ctx, "web")
	d.Spec.Template.Spec.Containers[0].Image = "demo:2"
	if _, err := deps.Update(c.Ctx, d); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "web", 10, 2)
	cancel()
	select {
	case v := <-violations:
		t.Fatalf("rolling update broke its bounds: %s", v)
	default:
	}
	rss, _, _ := c.Client.ReplicaSets("default").List(c.Ctx, client.ListOptions{})
	var oldRS *api.ReplicaSet
	for _, rs := range rss {
		if rs.Spec.Template.Spec.Containers[0].Image == "demo:1" {
			oldRS = rs
		}
	}
	if oldRS == nil || *oldRS.Spec.Replicas != 0 {
		t.Fatalf("old replica set %+v, want kept with 0 replicas", oldRS)
	}

	// Roll back: the demo:1 template returns as revision 3.
	d, _ = deps.Get(c.Ctx, "web")
	d.Annotations = map[string]string{api.AnnotationRollbackTo: "0"}
	if _, err := deps.Update(c.Ctx, d); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "web", 10, 3)
	d, _ = deps.Get(c.Ctx, "web")
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "demo:1" {
		t.Fatalf("after rollback the template runs %s, want demo:1", img)
	}
	back, err := c.Client.ReplicaSets("default").Get(c.Ctx, oldRS.Name)
	if err != nil || back.Annotations[api.AnnotationRevision] != "3" || *back.Spec.Replicas != 10 {
		t.Fatalf("rolled-back replica set: %v revision=%v", err, back)
	}
}

// waitRolledOut waits for a deployment to finish rolling out revision rev.
func waitRolledOut(t *testing.T, c *cluster.Cluster, name string, replicas int32, rev int) {
	t.Helper()
	cluster.Eventually(t, 60*time.Second, fmt.Sprintf("%s rolled out at revision %d", name, rev), func() (bool, string) {
		d, err := c.Client.Deployments("default").Get(c.Ctx, name)
		if err != nil {
			return false, err.Error()
		}
		st := d.Status
		state := fmt.Sprintf("rev=%s gen=%d/%d replicas=%d updated=%d available=%d", d.Annotations[api.AnnotationRevision],
			st.ObservedGeneration, d.Generation, st.Replicas, st.UpdatedReplicas, st.AvailableReplicas)
		return d.Annotations[api.AnnotationRevision] == strconv.Itoa(rev) && st.ObservedGeneration == d.Generation &&
			st.Replicas == replicas && st.UpdatedReplicas == replicas && st.AvailableReplicas == replicas, state
	})
}

// A pod that never becomes ready makes the rollout report Progressing=False
// with its reason once the progress deadline passes.
func TestProgressDeadlineExceeded(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	c.AddNodes(t, "node-", 3, zones...)
	start := time.Now()
	create(t, c, deployment("stuck", 2, func(d *api.Deployment) {
		d.Spec.ProgressDeadlineSeconds = api.Ptr[int32](3)
		d.Spec.Template.Annotations = map[string]string{simnode.AnnotationReady: "false"}
	}))
	cluster.Eventually(t, 20*time.Second, "Progressing=False", func() (bool, string) {
		d, _ := c.Client.Deployments("default").Get(c.Ctx, "stuck")
		cond := api.FindCondition(d.Status.Conditions, api.DeploymentProgressing)
		if cond == nil {
			return false, "no condition"
		}
		return cond.Status == api.ConditionFalse && cond.Reason == api.ReasonProgressDeadlineExceeded, cond.Reason + ": " + cond.Message
	})
	took := time.Since(start)
	if took < 3*time.Second {
		t.Fatalf("reported after %s, before the 3 s deadline", took)
	}
	t.Logf("progress deadline of 3 s reported after %s", took.Round(100*time.Millisecond))
}

// Stopping a node's heartbeats: its pods leave the service's endpoints
// after the grace period and are replaced on other nodes after grace +
// eviction timeout (both times reported). The defaults (10 s + 20 s) are shortened here
// the way `maestro server --node-monitor-grace-period --pod-eviction-timeout` would.
func TestNodeFailureReplacesPods(t *testing.T) {
	t.Parallel()
	const grace, eviction = 3 * time.Second, 4 * time.Second
	c := cluster.Start(t, func(o *cluster.Options) {
		o.Manager.Controllers.NodeMonitorGracePeriod = grace
		o.Manager.Controllers.PodEvictionTimeout = eviction
	})
	c.AddNodes(t, "node-", 3, zones...)
	create(t, c, deployment("web", 6))
	if _, err := c.Client.Services("default").Create(c.Ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "web"},
		Spec: api.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []api.ServicePort{{Port: 80, TargetPort: api.FromString("http")}}}}); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, c, "web", 6, 1)
	endpoints := func() []string {
		ep, err := c.Client.Endpoints("default").Get(c.Ctx, "web")
		if err != nil {
			return nil
		}
		var nodes []string
		for _, s := range ep.Subsets {
			for _, a := range s.Addresses {
				nodes = append(nodes, a.NodeName)
			}
		}
		return nodes
	}
	cluster.Eventually(t, 10*time.Second, "6 endpoints", func() (bool, string) { return len(endpoints()) == 6, fmt.Sprint(endpoints()) })
	byNode, _, _, _ := placement(t, c, "app=web")
	victim := "node-0"
	if byNode[victim] == 0 {
		t.Fatalf("no pods on %s: %v", victim, byNode)
	}

	c.Fleet.Node(victim).Stop()
	dropped := cluster.Eventually(t, grace+10*time.Second, "endpoints drop the node's pods", func() (bool, string) {
		eps := endpoints()
		return !slices.Contains(eps, victim), fmt.Sprint(eps)
	})
	replaced := cluster.Eventually(t, grace+eviction+15*time.Second, "pods replaced elsewhere", func() (bool, string) {
		byNode, _, bound, _ := placement(t, c, "app=web")
		ready := 0
		for _, p := range bound {
			if api.IsPodReady(p) {
				ready++
			}
		}
		return byNode[victim] == 0 && ready == 6, spread(byNode)
	})
	// The figures are reported, not asserted: a loaded CI machine (-race)
	// adds seconds; the bounds above only tell "happens" from "never".
	t.Logf("endpoints dropped the node after %s (grace %s); pods replaced after %s (grace + eviction %s)",
		dropped.Round(100*time.Millisecond), grace, (dropped + replaced).Round(100*time.Millisecond), grace+eviction)
}

// Deleting a deployment removes its replica sets and pods; deleting a
// namespace removes everything in it.
func TestCascadingDeletes(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	c.AddNodes(t, "node-", 3, zones...)
	if _, err := c.Client.Namespaces().Create(c.Ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"default", "shop"} {
		d := deployment("web", 3)
		d.Namespace = ns
		create(t, c, d)
	}
	if _, err := c.Client.ConfigMaps("shop").Create(c.Ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "cfg"}}); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 20*time.Second, "6 pods running", func() (bool, string) {
		all, _, _ := c.Client.Pods("").List(c.Ctx, client.ListOptions{})
		return len(all) == 6, fmt.Sprint(len(all))
	})

	if err := c.Client.Deployments("default").Delete(c.Ctx, "web"); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 10*time.Second, "deployment's replica sets and pods gone", func() (bool, string) {
		rss, _, _ := c.Client.ReplicaSets("default").List(c.Ctx, client.ListOptions{})
		pods, _, _ := c.Client.Pods("default").List(c.Ctx, client.ListOptions{})
		return len(rss) == 0 && len(pods) == 0, fmt.Sprintf("rs=%d pods=%d", len(rss), len(pods))
	})

	if err := c.Client.Namespaces().Delete(c.Ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 20*time.Second, "namespace and contents gone", func() (bool, string) {
		_, err := c.Client.Namespaces().Get(c.Ctx, "shop")
		pods, _, _ := c.Client.Pods("shop").List(c.Ctx, client.ListOptions{})
		return api.IsNotFound(err), fmt.Sprintf("ns err=%v pods=%d", err, len(pods))
	})
	for _, kind := range []string{"pods", "replicasets", "deployments", "configmaps", "endpoints"} {
		objs, _, err := client.Dynamic(c.Client, api.MustKind(kind), "shop").List(c.Ctx, client.ListOptions{})
		if err != nil || len(objs) != 0 {
			t.Errorf("%s left in deleted namespace: %d (%v)", kind, len(objs), err)
		}
	}
}
