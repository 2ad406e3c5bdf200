package controller

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/simnode"
)

var nlT0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func nlNode(status api.ConditionStatus, heartbeat time.Time) *api.Node {
	n := &api.Node{ObjectMeta: api.ObjectMeta{Name: "n1", CreationTimestamp: nlT0.Add(-time.Hour)}}
	if status != "" {
		n.Status.Conditions = []api.Condition{{Type: api.NodeReady, Status: status, LastHeartbeatTime: heartbeat}}
	}
	return n
}

func TestNodeLifecycleReadyCondition(t *testing.T) {
	const grace = 10 * time.Second
	tests := []struct {
		name       string
		node       *api.Node
		wantChange bool
	}{
		{"fresh heartbeat", nlNode(api.ConditionTrue, nlT0.Add(-grace)), false},
		{"stale heartbeat", nlNode(api.ConditionTrue, nlT0.Add(-grace-time.Millisecond)), true},
		{"stale and not ready", nlNode(api.ConditionFalse, nlT0.Add(-time.Minute)), true},
		{"already unknown", nlNode(api.ConditionUnknown, nlT0.Add(-time.Minute)), false},
		{"never posted, created long ago", nlNode("", time.Time{}), true},
		{"never posted, just created", func() *api.Node {
			n := nlNode("", time.Time{})
			n.CreationTimestamp = nlT0.Add(-time.Second)
			return n
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cond, change := nlReadyCondition(tt.node, nlT0, grace)
			if change != tt.wantChange {
				t.Fatalf("change = %v, want %v", change, tt.wantChange)
			}
			if !change {
				return
			}
			want := api.Condition{Type: api.NodeReady, Status: api.ConditionUnknown, Reason: ReasonNodeStatusUnknown,
				Message: "agent stopped posting node status", LastHeartbeatTime: api.NodeHeartbeat(tt.node)}
			if cond != want {
				t.Fatalf("condition %+v, want %+v", cond, want)
			}
			if nlHealthy(tt.node, nlT0, grace) {
				t.Fatal("a stale node counts as healthy")
			}
		})
	}
}

func TestNodeLifecycleDesiredTaints(t *testing.T) {
	earlier := nlT0.Add(-time.Minute)
	unreachable := api.Taint{Key: api.TaintNodeUnreachable, Effect: api.TaintNoExecute, TimeAdded: &earlier}
	notReady := api.Taint{Key: api.TaintNodeNotReady, Effect: api.TaintNoExecute, TimeAdded: &earlier}
	user := api.Taint{Key: "dedicated", Value: "db", Effect: api.TaintNoSchedule}
	// A NoSchedule taint with a lifecycle key is someone else's.
	userUnreachable := api.Taint{Key: api.TaintNodeUnreachable, Effect: api.TaintNoSchedule}
	fresh := func(key string) api.Taint { return api.Taint{Key: key, Effect: api.TaintNoExecute, TimeAdded: &nlT0} }

	tests := []struct {
		name       string
		taints     []api.Taint
		ready      api.ConditionStatus
		want       []api.Taint
		wantChange bool
	}{
		{"unknown adds unreachable", []api.Taint{user}, api.ConditionUnknown, []api.Taint{user, fresh(api.TaintNodeUnreachable)}, true},
		{"unknown keeps timeAdded", []api.Taint{unreachable, user}, api.ConditionUnknown, []api.Taint{unreachable, user}, false},
		{"false adds not-ready, drops unreachable", []api.Taint{unreachable}, api.ConditionFalse, []api.Taint{fresh(api.TaintNodeNotReady)}, true},
		{"false keeps not-ready", []api.Taint{notReady}, api.ConditionFalse, []api.Taint{notReady}, false},
		{"ready drops both", []api.Taint{notReady, user, unreachable}, api.ConditionTrue, []api.Taint{user}, true},
		{"ready with nothing to do", nil, api.ConditionTrue, nil, false},
		{"other effects are left alone", []api.Taint{userUnreachable}, api.ConditionTrue, []api.Taint{userUnreachable}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, change := nlDesiredTaints(tt.taints, tt.ready, nlT0)
			if change != tt.wantChange || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v (change %v), want %+v (change %v)", got, change, tt.want, tt.wantChange)
			}
		})
	}
}

func TestNodeLifecyclePodNotReadyStatus(t *testing.T) {
	st := api.PodStatus{Phase: api.PodRunning, Conditions: []api.Condition{
		{Type: api.PodScheduled, Status: api.ConditionTrue},
		{Type: api.ContainersReady, Status: api.ConditionTrue},
		{Type: api.PodReady, Status: api.ConditionTrue},
	}}
	got, change := nlPodNotReadyStatus(&st, nlT0)
	if !change {
		t.Fatal("no change for a ready pod")
	}
	for _, typ := range []string{api.PodReady, api.ContainersReady} {
		c := api.FindCondition(got.Conditions, typ)
		if c == nil || c.Status != api.ConditionFalse || c.Reason != api.ReasonNodeLost {
			t.Fatalf("%s condition %+v", typ, c)
		}
	}
	if api.FindCondition(st.Conditions, api.PodReady).Status != api.ConditionTrue {
		t.Fatal("the input status was modified")
	}
	if _, again := nlPodNotReadyStatus(&got, nlT0); again {
		t.Fatal("a pod already marked changes again")
	}
}

func TestNodeLifecycleEvictionDeadline(t *testing.T) {
	const timeout = 20 * time.Second
	added := nlT0
	unreachable := api.Taint{Key: api.TaintNodeUnreachable, Effect: api.TaintNoExecute, TimeAdded: &added}
	laterAdded := nlT0.Add(time.Minute)
	userNoExecute := api.Taint{Key: "maintenance", Value: "now", Effect: api.TaintNoExecute, TimeAdded: &laterAdded}
	secs := func(s int64) *int64 { return &s }
	tolerate := func(key string, s *int64) api.Toleration {
		return api.Toleration{Key: key, Operator: api.TolerationOpExists, Effect: api.TaintNoExecute, TolerationSeconds: s}
	}

	tests := []struct {
		name        string
		taints      []api.Taint
		tolerations []api.Toleration
		want        time.Duration // after nlT0
		wantEvict   bool
	}{
		{"no taints", nil, nil, 0, false},
		{"NoSchedule taints do not evict", []api.Taint{{Key: "gpu", Effect: api.TaintNoSchedule}}, nil, 0, false},
		{"untolerated: default timeout", []api.Taint{unreachable}, nil, timeout, true},
		{"tolerationSeconds overrides", []api.Taint{unreachable}, []api.Toleration{tolerate(api.TaintNodeUnreachable, secs(1))}, time.Second, true},
		{"tolerationSeconds longer than the timeout", []api.Taint{unreachable}, []api.Toleration{tolerate(api.TaintNodeUnreachable, secs(300))}, 300 * time.Second, true},
		{"toleration without seconds: stays", []api.Taint{unreachable}, []api.Toleration{tolerate(api.TaintNodeUnreachable, nil)}, 0, false},
		{"toleration for another taint", []api.Taint{unreachable}, []api.Toleration{tolerate(api.TaintNodeNotReady, nil)}, timeout, true},
		{"toleration for another effect", []api.Taint{unreachable},
			[]api.Toleration{{Key: api.TaintNodeUnreachable, Operator: api.TolerationOpExists, Effect: api.TaintNoSchedule}}, timeout, true},
		{"empty key with Exists tolerates everything", []api.Taint{unreachable, userNoExecute},
			[]api.Toleration{{Operator: api.TolerationOpExists}}, 0, false},
		{"smallest tolerationSeconds of matching tolerations", []api.Taint{unreachable},
			[]api.Toleration{tolerate(api.TaintNodeUnreachable, nil), tolerate(api.TaintNodeUnreachable, secs(30)), tolerate("", secs(10))}, 10 * time.Second, true},
		{"negative tolerationSeconds: at once", []api.Taint{unreachable}, []api.Toleration{tolerate(api.TaintNodeUnreachable, secs(-5))}, 0, true},
		{"Equal needs the value", []api.Taint{userNoExecute},
			[]api.Toleration{{Key: "maintenance", Operator: api.TolerationOpEqual, Value: "later", Effect: api.TaintNoExecute}}, time.Minute + timeout, true},
		{"Equal with the value", []api.Taint{userNoExecute},
			[]api.Toleration{{Key: "maintenance", Operator: api.TolerationOpEqual, Value: "now", Effect: api.TaintNoExecute}}, 0, false},
		{"earliest taint decides", []api.Taint{userNoExecute, unreachable}, nil, timeout, true},
		{"a tolerated taint does not hide another", []api.Taint{unreachable, userNoExecute},
			[]api.Toleration{tolerate(api.TaintNodeUnreachable, nil)}, time.Minute + timeout, true},
	}
	since := func(t api.Taint) time.Time { return *t.TimeAdded }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, evict := nlEvictionDeadline(tt.taints, tt.tolerations, timeout, since)
			if evict != tt.wantEvict || evict && !at.Equal(nlT0.Add(tt.want)) {
				t.Fatalf("deadline %v (evict %v), want %v (evict %v)", at.Sub(nlT0), evict, tt.want, tt.wantEvict)
			}
		})
	}
}

func TestNodeLifecycleDisrupted(t *testing.T) {
	tests := []struct {
		total, notReady int
		want            bool
	}{
		{4, 3, true},
		{3, 3, true},
		{10, 6, true},
		{4, 2, false},  // two nodes are not a partition
		{2, 2, false},  // nor is a small cluster
		{6, 3, false},  // exactly the threshold is not more than it
		{10, 3, false}, // a few dead machines in a big cluster
		{0, 0, false},
	}
	for _, tt := range tests {
		if got := nlDisrupted(tt.total, tt.notReady, 0.5); got != tt.want {
			t.Errorf("nlDisrupted(%d nodes, %d not ready) = %v, want %v", tt.total, tt.notReady, got, tt.want)
		}
	}
}

func TestNodeLifecycleEvictionLimiter(t *testing.T) {
	const interval = 30 * time.Second
	l := newNLEvictionLimiter(0.5, interval)
	step := func(name, node string, at time.Duration, wantOK bool, wantWait time.Duration) {
		t.Helper()
		ok, wait := l.allow(node, nlT0.Add(at))
		if ok != wantOK || wait != wantWait {
			t.Fatalf("%s: allow(%s) = %v, %v; want %v, %v", name, node, ok, wait, wantOK, wantWait)
		}
	}
	// Healthy: every node may evict.
	if entered, _ := l.observe(10, 1); entered {
		t.Fatal("one node down is not a disruption")
	}
	step("healthy", "a", 0, true, 0)
	step("healthy", "b", time.Second, true, 0)
	l.forget("a")
	l.forget("b")

	// Disrupted: one more node per interval; a started node may finish.
	if entered, _ := l.observe(4, 3); !entered {
		t.Fatal("3 of 4 nodes down did not enter disruption")
	}
	if entered, _ := l.observe(4, 3); entered {
		t.Fatal("entered twice")
	}
	step("last grant was b at 1s", "c", 10*time.Second, false, 21*time.Second)
	step("interval passed", "c", 31*time.Second, true, 0)
	step("c may finish", "c", 32*time.Second, true, 0)
	step("next node waits", "d", 40*time.Second, false, 21*time.Second)
	step("next node goes", "d", 61*time.Second, true, 0)
	l.forget("c")
	step("a node ready again starts over", "c", 62*time.Second, false, 29*time.Second)

	if _, left := l.observe(4, 1); !left {
		t.Fatal("recovery did not leave disruption")
	}
	step("healthy again", "e", 63*time.Second, true, 0)
}

// nlPodNames lists the names of the pods in the default namespace.
// nlPodNames lists the pods of the default namespace not being deleted.
func nlPodNames(t *testing.T, cl *ctlCluster) []string {
	t.Helper()
	pods, _, err := cl.c.Pods(api.NamespaceDefault).List(cl.ctx, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods {
		// An evicted pod of a silent node is only marked for deletion:
		// nothing can confirm its containers stopped.
		if p.DeletionTimestamp == nil {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return names
}

func TestNodeLifecycleNodeFailure(t *testing.T) {
	t.Parallel()
	const grace, timeout = 2 * time.Second, 3 * time.Second
	cl := ctlStart(t, simnode.NodeSpec{Name: "a", Zone: "zone-a"}, simnode.NodeSpec{Name: "b", Zone: "zone-b"},
		simnode.NodeSpec{Name: "c", Zone: "zone-c"})
	d := cl.deps(Config{NodeMonitorGracePeriod: grace, PodEvictionTimeout: timeout})
	cl.run(t, d, NewEndpointsController(d), NewNodeLifecycleController(d))
	ns := api.NamespaceDefault
	pods := cl.c.Pods(ns)

	web := map[string]string{"app": "web"}
	ctlMust(cl.c.Services(ns).Create(cl.ctx, &api.Service{ObjectMeta: api.ObjectMeta{Name: "web"},
		Spec: api.ServiceSpec{Selector: web, Ports: []api.ServicePort{{Port: 80, TargetPort: api.FromString("http")}}}}))(t)
	for _, p := range []*api.Pod{
		ctlPod(ns, "web-a1", "a", web), ctlPod(ns, "web-a2", "a", web), ctlPod(ns, "web-b", "b", web),
		ctlPod(ns, "tolerates-1s", "a", nil, func(p *api.Pod) {
			p.Spec.Tolerations = []api.Toleration{{Key: api.TaintNodeUnreachable, Operator: api.TolerationOpExists,
				Effect: api.TaintNoExecute, TolerationSeconds: api.Ptr[int64](1)}}
		}),
		ctlPod(ns, "tolerates-forever", "a", nil, func(p *api.Pod) {
			p.Spec.Tolerations = []api.Toleration{{Key: api.TaintNodeUnreachable, Operator: api.TolerationOpExists, Effect: api.TaintNoExecute}}
		}),
	} {
		ctlMust(pods.Create(cl.ctx, p))(t)
	}
	ctlWait(t, 10*time.Second, "3 ready addresses", func() (bool, string) {
		ready, notReady, _ := epAddresses(cl, ns, "web")
		return slices.Equal(ready, []string{"web-a1", "web-a2", "web-b"}), fmt.Sprint(ready, notReady)
	})

	stopped := time.Now()
	cl.fleet.Node("a").Stop()

	// Within the grace period (+1 s): Ready=Unknown, tainted, pods out of addresses.
	ctlWait(t, time.Until(stopped.Add(grace+time.Second)), "node a unknown and tainted", func() (bool, string) {
		n := ctlMust(cl.c.Nodes().Get(cl.ctx, "a"))(t)
		cond := api.FindCondition(n.Status.Conditions, api.NodeReady)
		return cond.Status == api.ConditionUnknown && cond.Reason == ReasonNodeStatusUnknown &&
			nlFindTaint(n.Spec.Taints, api.TaintNodeUnreachable) != nil, fmt.Sprintf("%+v %+v", cond, n.Spec.Taints)
	})
	ctlWait(t, time.Until(stopped.Add(grace+time.Second)), "a's pods out of addresses", func() (bool, string) {
		ready, notReady, _ := epAddresses(cl, ns, "web")
		return slices.Equal(ready, []string{"web-b"}), fmt.Sprint(ready, notReady)
	})
	t.Logf("node unknown, pods out of addresses %v after the stop", time.Since(stopped))
	p := ctlMust(pods.Get(cl.ctx, "web-a1"))(t)
	if c := api.FindCondition(p.Status.Conditions, api.ContainersReady); c == nil || c.Status != api.ConditionFalse || c.Reason != api.ReasonNodeLost {
		t.Fatalf("ContainersReady of a lost pod: %+v", c)
	}

	// Evictions: the 1 s toleration first, the rest after the timeout, the
	// unbounded toleration never.
	ctlWait(t, time.Until(stopped.Add(grace+time.Second+time.Second)), "tolerates-1s evicted", func() (bool, string) {
		names := nlPodNames(t, cl)
		return !slices.Contains(names, "tolerates-1s"), fmt.Sprint(names)
	})
	t.Logf("1s-tolerating pod evicted %v after the stop", time.Since(stopped))
	if names := nlPodNames(t, cl); !slices.Contains(names, "web-a1") || !slices.Contains(names, "web-a2") {
		t.Fatalf("pods without tolerations evicted before the timeout: left %v", names)
	}
	ctlWait(t, time.Until(stopped.Add(grace+timeout+time.Second)), "a's pods evicted", func() (bool, string) {
		names := nlPodNames(t, cl)
		return slices.Equal(names, []string{"tolerates-forever", "web-b"}), fmt.Sprint(names)
	})
	t.Logf("pods evicted %v after the stop", time.Since(stopped))
	ctlWait(t, 5*time.Second, "events recorded", func() (bool, string) {
		node, pod := ctlEvents(t, cl.c, ns, "Node", "a"), ctlEvents(t, cl.c, ns, "Pod", "web-a1")
		return slices.Contains(node, ReasonNodeNotReady) && slices.Contains(pod, ReasonTaintManagerEviction), fmt.Sprint(node, pod)
	})

	// A stand-in ReplicaSet replaces the evicted pods elsewhere.
	ctlMust(pods.Create(cl.ctx, ctlPod(ns, "web-c1", "c", web)))(t)
	ctlWait(t, 5*time.Second, "replacement serving", func() (bool, string) {
		ready, notReady, _ := epAddresses(cl, ns, "web")
		return slices.Equal(ready, []string{"web-b", "web-c1"}), fmt.Sprint(ready, notReady)
	})

	// The node comes back: taint off, ready, the tolerating pod ready again.
	cl.fleet.Resume("a")
	ctlWait(t, 5*time.Second, "node a ready and untainted", func() (bool, string) {
		n := ctlMust(cl.c.Nodes().Get(cl.ctx, "a"))(t)
		return api.IsNodeReady(n) && len(n.Spec.Taints) == 0, fmt.Sprintf("%+v %+v", n.Status.Conditions, n.Spec.Taints)
	})
	// The resumed node reports its pods again, and the controller must not
	// mark a pod of a ready node not ready again.
	ctlWait(t, 5*time.Second, "tolerating pod ready", func() (bool, string) {
		p := ctlMust(pods.Get(cl.ctx, "tolerates-forever"))(t)
		return api.IsPodReady(p), fmt.Sprintf("%+v", p.Status.Conditions)
	})
}

func TestNodeLifecyclePartialDisruption(t *testing.T) {
	t.Parallel()
	const interval = 3 * time.Second
	cl := ctlStart(t, simnode.NodeSpec{Name: "a", Zone: "z1"}, simnode.NodeSpec{Name: "b", Zone: "z1"},
		simnode.NodeSpec{Name: "c", Zone: "z2"}, simnode.NodeSpec{Name: "d", Zone: "z2"})
	d := cl.deps(Config{NodeMonitorGracePeriod: time.Second, PodEvictionTimeout: time.Second, SecondaryEvictionInterval: interval})
	cl.run(t, d, NewNodeLifecycleController(d))
	ns := api.NamespaceDefault
	for _, n := range []string{"a", "b", "c", "d"} {
		ctlMust(cl.c.Pods(ns).Create(cl.ctx, ctlPod(ns, "pod-"+n, n, nil)))(t)
	}
	ctlWait(t, 10*time.Second, "pods running", func() (bool, string) {
		pods, _, err := cl.c.Pods(ns).List(cl.ctx, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, p := range pods {
			if api.IsPodReady(p) {
				ready++
			}
		}
		return ready == 4, fmt.Sprint(ready, " ready")
	})

	for _, n := range []string{"a", "b", "c"} {
		cl.fleet.Node(n).Stop()
	}
	evicted := func() int { return 4 - len(nlPodNames(t, cl)) }
	ctlWait(t, 10*time.Second, "first eviction", func() (bool, string) { return evicted() >= 1, fmt.Sprint(nlPodNames(t, cl)) })
	first := time.Now()
	// The other stopped nodes wait for the interval.
	for time.Since(first) < interval-500*time.Millisecond {
		if n := evicted(); n != 1 {
			t.Fatalf("%d pods evicted %v after the first; want 1 until the interval passes", n, time.Since(first))
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctlWait(t, interval, "second eviction", func() (bool, string) { return evicted() >= 2, fmt.Sprint(nlPodNames(t, cl)) })
	if !slices.Contains(nlPodNames(t, cl), "pod-d") {
		t.Fatal("the pod of the healthy node was evicted")
	}
	if n := cl.logs.count("many nodes are not ready at once; the cluster looks partitioned, so evictions are slowed"); n != 1 {
		t.Fatalf("partition warning logged %d times, want once", n)
	}
}

// Eviction deadlines come from the taint's timeAdded, so a controller that
// restarts (or a new leader) evicts when the first one would have.
func TestNodeLifecycleRestartKeepsDeadlines(t *testing.T) {
	t.Parallel()
	const timeout = 4 * time.Second
	cl := ctlStart(t, simnode.NodeSpec{Name: "r", Zone: "z"})
	cfg := Config{NodeMonitorGracePeriod: time.Second, PodEvictionTimeout: timeout}
	ns := api.NamespaceDefault
	ctlMust(cl.c.Pods(ns).Create(cl.ctx, ctlPod(ns, "victim", "r", nil)))(t)

	firstCtx, stopFirst := context.WithCancel(cl.ctx)
	first := cl.deps(cfg)
	cl.runUntil(t, firstCtx, first, NewNodeLifecycleController(first))
	cl.fleet.Node("r").Stop()
	var added time.Time
	ctlWait(t, 5*time.Second, "node tainted", func() (bool, string) {
		n := ctlMust(cl.c.Nodes().Get(cl.ctx, "r"))(t)
		if taint := nlFindTaint(n.Spec.Taints, api.TaintNodeUnreachable); taint != nil {
			added = *taint.TimeAdded
			return true, ""
		}
		return false, fmt.Sprint(n.Spec.Taints)
	})
	stopFirst()

	time.Sleep(time.Until(added.Add(timeout / 2)))
	second := cl.deps(cfg)
	restarted := time.Now()
	cl.run(t, second, NewNodeLifecycleController(second))
	ctlWait(t, timeout, "eviction", func() (bool, string) {
		names := nlPodNames(t, cl)
		return !slices.Contains(names, "victim"), fmt.Sprint(names)
	})
	evicted := time.Now()
	t.Logf("evicted %v after the taint, %v after the restart", evicted.Sub(added), evicted.Sub(restarted))
	if evicted.Before(added.Add(timeout)) {
		t.Fatalf("evicted %v after the taint, before the timeout %v", evicted.Sub(added), timeout)
	}
	if evicted.After(restarted.Add(timeout * 3 / 4)) {
		t.Fatalf("the restarted controller started the timeout over: evicted %v after the restart", evicted.Sub(restarted))
	}
}

// Pods of a deleted node are deleted too: no agent will ever stop them.
func TestNodeLifecycleDeletedNodeTakesItsPods(t *testing.T) {
	t.Parallel()
	cl := ctlStart(t, simnode.NodeSpec{Name: "a", Zone: "zone-a"})
	d := cl.deps(Config{})
	cl.run(t, d, NewNodeLifecycleController(d))
	pods := cl.c.Pods(api.NamespaceDefault)
	ctlMust(pods.Create(cl.ctx, ctlPod(api.NamespaceDefault, "on-a", "a", nil)))(t)
	cl.fleet.Node("a").Stop() // the agent is gone: the pod's deletion cannot finish
	if err := pods.Delete(cl.ctx, "on-a"); err != nil {
		t.Fatal(err)
	}
	if p := ctlMust(pods.Get(cl.ctx, "on-a"))(t); p.DeletionTimestamp == nil {
		t.Fatal("pod on a node was not held for a graceful shutdown")
	}
	if err := cl.c.Nodes().Delete(cl.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	ctlWait(t, 30*time.Second, "pod of the deleted node gone", func() (bool, string) {
		_, err := pods.Get(cl.ctx, "on-a")
		return api.IsNotFound(err), fmt.Sprint(err)
	})
}
