package controller

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/simnode"
)

var rsTestNow = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// rsTestPod builds a pod for the pure tests; mutators adjust it.
func rsTestPod(name string, mut ...func(*api.Pod)) *api.Pod {
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", UID: "uid-" + name,
		Labels: map[string]string{"app": "web"}, CreationTimestamp: rsTestNow.Add(-time.Hour)}}
	for _, m := range mut {
		m(p)
	}
	return p
}

func rsBound(p *api.Pod) { p.Spec.NodeName = "node-1" }

func rsPhase(phase api.PodPhase) func(*api.Pod) {
	return func(p *api.Pod) { p.Status.Phase = phase }
}

// rsReadySince marks a pod bound, running and ready since the given time.
func rsReadySince(t time.Time) func(*api.Pod) {
	return func(p *api.Pod) {
		rsBound(p)
		p.Status.Phase = api.PodRunning
		p.Status.Conditions = []api.Condition{{Type: api.PodReady, Status: api.ConditionTrue, LastTransitionTime: t}}
	}
}

func rsUnready(p *api.Pod) {
	rsBound(p)
	p.Status.Phase = api.PodRunning
	p.Status.Conditions = []api.Condition{{Type: api.PodReady, Status: api.ConditionFalse}}
}

func rsCreated(t time.Time) func(*api.Pod) { return func(p *api.Pod) { p.CreationTimestamp = t } }

func rsRestarts(n int32) func(*api.Pod) {
	return func(p *api.Pod) { p.Status.ContainerStatuses = []api.ContainerStatus{{Name: "app", RestartCount: n}} }
}

func rsNames(pods []*api.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return out
}

func TestReplicaSetPodDeletionRanking(t *testing.T) {
	pods := []*api.Pod{
		rsTestPod("ready-long-old", rsReadySince(rsTestNow.Add(-time.Hour)), rsCreated(rsTestNow.Add(-2*time.Hour))),
		rsTestPod("ready-long-new", rsReadySince(rsTestNow.Add(-time.Hour))),
		rsTestPod("ready-long-restarts", rsReadySince(rsTestNow.Add(-time.Hour)), rsRestarts(3)),
		rsTestPod("ready-short", rsReadySince(rsTestNow.Add(-time.Minute))),
		rsTestPod("unready", rsUnready),
		rsTestPod("pending", rsBound, rsPhase(api.PodPending)),
		rsTestPod("unknown", rsBound, rsPhase(api.PodUnknown)),
		rsTestPod("unscheduled", rsPhase(api.PodPending)),
	}
	want := []string{"unscheduled", "pending", "unknown", "unready", "ready-short", "ready-long-restarts", "ready-long-new", "ready-long-old"}
	for _, n := range []int{0, 1, 3, len(pods), len(pods) + 2} {
		got := rsNames(podsToDelete(pods, n))
		if exp := want[:min(n, len(want))]; !slices.Equal(got, exp) {
			t.Errorf("podsToDelete(%d) = %v, want %v", n, got, exp)
		}
	}
	if pods[0].Name != "ready-long-old" {
		t.Error("podsToDelete reordered its input")
	}
}

func TestReplicaSetPlan(t *testing.T) {
	deleting := func(p *api.Pod) { p.DeletionTimestamp = &rsTestNow }
	ready := rsReadySince(rsTestNow.Add(-time.Hour))
	many := make([]*api.Pod, 0, 600)
	for range 600 {
		many = append(many, rsTestPod("p", ready))
	}
	tests := []struct {
		name       string
		want       int32
		pods       []*api.Pod
		wantCreate int
		wantDelete []string
	}{
		{"nothing to do", 2, []*api.Pod{rsTestPod("a", ready), rsTestPod("b", ready)}, 0, nil},
		{"short by one", 3, []*api.Pod{rsTestPod("a", ready), rsTestPod("b", ready)}, 1, nil},
		{"from zero", 3, nil, 3, nil},
		{"surplus goes cheapest first", 1,
			[]*api.Pod{rsTestPod("a", ready), rsTestPod("b", rsUnready), rsTestPod("c", rsPhase(api.PodPending))}, 0, []string{"c", "b"}},
		{"pods being deleted do not count", 2, []*api.Pod{rsTestPod("a", ready), rsTestPod("b", ready, deleting)}, 1, nil},
		{"finished pods are replaced and deleted", 2,
			[]*api.Pod{rsTestPod("a", ready), rsTestPod("failed", rsBound, rsPhase(api.PodFailed)),
				rsTestPod("done", rsBound, rsPhase(api.PodSucceeded))}, 1, []string{"failed", "done"}},
		{"scale to zero", 0, []*api.Pod{rsTestPod("a", ready)}, 0, []string{"a"}},
		{"creates capped per pass", 1000, nil, rsBurstReplicas, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := rsPlanReplicas(tt.want, tt.pods)
			if plan.Create != tt.wantCreate || !slices.Equal(rsNames(plan.Delete), tt.wantDelete) {
				t.Errorf("plan = create %d delete %v, want create %d delete %v", plan.Create, rsNames(plan.Delete), tt.wantCreate, tt.wantDelete)
			}
		})
	}
	if plan := rsPlanReplicas(0, many); len(plan.Delete) != rsBurstReplicas {
		t.Errorf("deletes per pass = %d, want %d", len(plan.Delete), rsBurstReplicas)
	}
}

func TestReplicaSetComputeStatus(t *testing.T) {
	rs := &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "web", Generation: 4},
		Spec: api.ReplicaSetSpec{MinReadySeconds: 10, Template: rsTestTemplate(map[string]string{"app": "web", "tier": "front"}, "img")}}
	full := func(p *api.Pod) { p.Labels = map[string]string{"app": "web", "tier": "front"} }
	pods := []*api.Pod{
		rsTestPod("available", full, rsReadySince(rsTestNow.Add(-20*time.Second))),
		rsTestPod("ready-4s", full, rsReadySince(rsTestNow.Add(-4*time.Second))),
		rsTestPod("ready-7s-partial-labels", rsReadySince(rsTestNow.Add(-7*time.Second))),
		rsTestPod("unready", full, rsUnready),
		rsTestPod("failed", full, rsBound, rsPhase(api.PodFailed)),
	}
	st, wait := rsComputeStatus(rs, pods, "", nil, rsTestNow)
	want := api.ReplicaSetStatus{Replicas: 4, FullyLabeledReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 1, ObservedGeneration: 4}
	if !rsJSONEqual(st, want) {
		t.Errorf("status = %+v, want %+v", st, want)
	}
	if wait != 3*time.Second {
		t.Errorf("wait = %v, want 3s (the pod ready for 7s of 10)", wait)
	}

	st, _ = rsComputeStatus(rs, nil, rsReasonFailedCreate, errors.New("quota exceeded"), rsTestNow)
	c := api.FindCondition(st.Conditions, rsReplicaFailure)
	if c == nil || c.Status != api.ConditionTrue || c.Reason != rsReasonFailedCreate || c.Message != "quota exceeded" {
		t.Fatalf("failure condition = %+v", c)
	}
	rs.Status = st
	if st, _ = rsComputeStatus(rs, nil, "", nil, rsTestNow); st.Conditions != nil {
		t.Errorf("failure condition kept after a successful pass: %+v", st.Conditions)
	}
}

func TestReplicaSetClaimFor(t *testing.T) {
	owner := api.ObjectMeta{Name: "web", Namespace: "default", UID: "owner"}
	deleting := owner
	deleting.DeletionTimestamp = &rsTestNow
	ref := func(uid string) []api.OwnerReference {
		return []api.OwnerReference{{Kind: "ReplicaSet", Name: "x", UID: uid, Controller: api.Ptr(true)}}
	}
	tests := []struct {
		name    string
		owner   api.ObjectMeta
		obj     api.ObjectMeta
		matches bool
		want    rsClaim
	}{
		{"ours and matching", owner, api.ObjectMeta{Namespace: "default", OwnerReferences: ref("owner")}, true, rsClaimKeep},
		{"ours, labels changed", owner, api.ObjectMeta{Namespace: "default", OwnerReferences: ref("owner")}, false, rsClaimRelease},
		{"ours, owner being deleted", deleting, api.ObjectMeta{Namespace: "default", OwnerReferences: ref("owner")}, false, rsClaimIgnore},
		{"someone else's", owner, api.ObjectMeta{Namespace: "default", OwnerReferences: ref("other")}, true, rsClaimIgnore},
		{"matching orphan", owner, api.ObjectMeta{Namespace: "default"}, true, rsClaimAdopt},
		{"orphan with a non-controller owner", owner, api.ObjectMeta{Namespace: "default",
			OwnerReferences: []api.OwnerReference{{Kind: "Thing", Name: "t", UID: "t"}}}, true, rsClaimAdopt},
		{"orphan not matching", owner, api.ObjectMeta{Namespace: "default"}, false, rsClaimIgnore},
		{"orphan being deleted", owner, api.ObjectMeta{Namespace: "default", DeletionTimestamp: &rsTestNow}, true, rsClaimIgnore},
		{"orphan, owner being deleted", deleting, api.ObjectMeta{Namespace: "default"}, true, rsClaimIgnore},
		{"orphan in another namespace", owner, api.ObjectMeta{Namespace: "other"}, true, rsClaimIgnore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rsClaimFor(&tt.owner, &tt.obj, tt.matches); got != tt.want {
				t.Errorf("rsClaimFor = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReplicaSetNewPodName(t *testing.T) {
	rs := &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "prod", UID: "u"},
		Spec: api.ReplicaSetSpec{Template: rsTestTemplate(map[string]string{"app": "web"}, "img")}}
	p := rsNewPod(rs)
	if p.GenerateName != "web-" || p.Namespace != "prod" || p.Labels["app"] != "web" {
		t.Errorf("pod meta = %+v", p.ObjectMeta)
	}
	if ref := p.ControllerRef(); ref == nil || ref.UID != "u" || ref.Kind != "ReplicaSet" {
		t.Errorf("controller ref = %+v", ref)
	}
	rs.Name = "a-very-long-deployment-name-that-goes-on-and-on-abcdefghij"
	if p := rsNewPod(rs); len(p.GenerateName)+5 > 63 {
		t.Errorf("generateName %q leaves no room for the suffix", p.GenerateName)
	}
}

// TestReplicaSetKeepsReplicas is the acceptance test of the controller:
// replicas are kept, replaced, scaled down cheapest first, orphans adopted
// and pods whose labels change released.
func TestReplicaSetKeepsReplicas(t *testing.T) {
	t.Parallel()
	c := rsStartCluster(t, 2)
	rss := c.client.ReplicaSets(rsTestNamespace)
	rs, err := rss.Create(c.ctx, &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Name: "web", Namespace: rsTestNamespace},
		Spec: api.ReplicaSetSpec{Replicas: api.Ptr[int32](3), Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: rsTestTemplate(map[string]string{"app": "web"}, "registry.local/web:1")},
	})
	if err != nil {
		t.Fatalf("creating replica set: %v", err)
	}
	waitReady := func(n int32) {
		t.Helper()
		rsEventually(t, 15*time.Second, func() (bool, string) {
			cur, err := rss.Get(c.ctx, "web")
			if err != nil {
				return false, err.Error()
			}
			pods := c.activePods(t, "app=web")
			s := cur.Status
			ok := len(pods) == int(n) && s.Replicas == n && s.ReadyReplicas == n && s.AvailableReplicas == n &&
				s.FullyLabeledReplicas == n && s.ObservedGeneration == cur.Generation
			return ok, fmt.Sprintf("waiting for %d ready pods; have %d pods, status %+v", n, len(pods), s)
		})
	}
	waitReady(3)
	for _, p := range c.activePods(t, "app=web") {
		if ref := p.ControllerRef(); ref == nil || ref.UID != rs.UID {
			t.Fatalf("pod %s is not controlled by the replica set: %+v", p.Name, p.OwnerReferences)
		}
		if p.GenerateName != "web-" {
			t.Errorf("pod %s generateName = %q", p.Name, p.GenerateName)
		}
	}

	// A deleted pod is replaced.
	victim := c.activePods(t, "app=web")[0]
	if err := c.client.Pods(rsTestNamespace).Delete(c.ctx, victim.Name); err != nil {
		t.Fatalf("deleting pod: %v", err)
	}
	waitReady(3)
	for _, p := range c.activePods(t, "app=web") {
		if p.Name == victim.Name {
			t.Fatalf("deleted pod %s still listed", victim.Name)
		}
	}

	// Scaling down deletes the unready pod first.
	unready := c.activePods(t, "app=web")[1]
	c.updatePod(t, unready.Name, func(p *api.Pod) { p.Annotations = map[string]string{simnode.AnnotationReady: "false"} })
	rsEventually(t, 10*time.Second, func() (bool, string) {
		cur, err := rss.Get(c.ctx, "web")
		return err == nil && cur.Status.ReadyReplicas == 2, "waiting for the replica set to see 2 ready pods"
	})
	c.updateReplicaSet(t, "web", func(rs *api.ReplicaSet) { rs.Spec.Replicas = api.Ptr[int32](1) })
	waitReady(1)
	if _, err := c.client.Pods(rsTestNamespace).Get(c.ctx, unready.Name); !api.IsNotFound(err) {
		t.Errorf("unready pod %s survived the scale-down (err %v)", unready.Name, err)
	}

	// A matching orphan is adopted (and, being surplus, then deleted).
	w, err := c.client.Pods(rsTestNamespace).Watch(c.ctx, client.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatalf("watching pods: %v", err)
	}
	defer w.Stop()
	orphan := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "orphan", Namespace: rsTestNamespace, Labels: map[string]string{"app": "web"}},
		Spec: api.PodSpec{NodeName: "sim-0", Containers: []api.Container{{Name: "app", Image: "registry.local/web:1"}}}}
	if _, err := c.client.Pods(rsTestNamespace).Create(c.ctx, orphan); err != nil {
		t.Fatalf("creating orphan: %v", err)
	}
	timeout := time.After(10 * time.Second)
	for adopted := false; !adopted; {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watch ended: %v", w.Err())
			}
			ref := ev.Object.ControllerRef()
			adopted = ev.Object.Name == "orphan" && ref != nil && ref.UID == rs.UID
		case <-timeout:
			t.Fatal("the orphan pod was never adopted")
		}
	}
	waitReady(1)

	// A pod whose labels stop matching is released and replaced.
	kept := c.activePods(t, "app=web")[0]
	c.updatePod(t, kept.Name, func(p *api.Pod) { p.Labels = map[string]string{"app": "released"} })
	rsEventually(t, 10*time.Second, func() (bool, string) {
		p, err := c.client.Pods(rsTestNamespace).Get(c.ctx, kept.Name)
		return err == nil && p.ControllerRef() == nil, "waiting for the relabelled pod to be released"
	})
	waitReady(1)
}

// TestReplicaSetMinReadySeconds: pods count as available only once ready
// for minReadySeconds, and the controller wakes itself up to report it.
func TestReplicaSetMinReadySeconds(t *testing.T) {
	t.Parallel()
	c := rsStartCluster(t, 1)
	rss := c.client.ReplicaSets(rsTestNamespace)
	if _, err := rss.Create(c.ctx, &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Name: "slow", Namespace: rsTestNamespace},
		Spec: api.ReplicaSetSpec{Replicas: api.Ptr[int32](2), MinReadySeconds: 2,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "slow"}},
			Template: rsTestTemplate(map[string]string{"app": "slow"}, "registry.local/slow:1")},
	}); err != nil {
		t.Fatalf("creating replica set: %v", err)
	}
	rsEventually(t, 10*time.Second, func() (bool, string) {
		rs, err := rss.Get(c.ctx, "slow")
		if err != nil {
			return false, err.Error()
		}
		return rs.Status.AvailableReplicas == 2, fmt.Sprintf("waiting for 2 available pods; status %+v", rs.Status)
	})
	for _, p := range c.activePods(t, "app=slow") {
		since, ready := podReadySince(p)
		if !ready || time.Now().Before(since.Add(2*time.Second)) {
			t.Errorf("pod %s counted available before it was ready for 2 s (ready %v since %v)", p.Name, ready, since)
		}
	}
}
