package client

import (
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

var rolloutT0 = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)

const antiAffinityMsg = "0/3 nodes available: 3 node(s) didn't match pod anti-affinity rules"

// rolloutFixture is a deployment of 4 replicas mid-rollout: revision 2
// (rs "web-new") is the new template, revision 1 ("web-old") the old.
func rolloutFixture() (*api.Deployment, []*api.ReplicaSet) {
	d := &api.Deployment{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: "web", UID: "d-uid", Generation: 2},
		Spec:   api.DeploymentSpec{Replicas: api.Ptr[int32](4)},
		Status: api.DeploymentStatus{ObservedGeneration: 2, Replicas: 4, UpdatedReplicas: 4, AvailableReplicas: 3}}
	rs := func(name, rev string) *api.ReplicaSet {
		return &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name, UID: name + "-uid",
			Annotations:     map[string]string{api.AnnotationRevision: rev},
			OwnerReferences: []api.OwnerReference{{Kind: "Deployment", Name: "web", UID: "d-uid", Controller: api.Ptr(true)}}}}
	}
	return d, []*api.ReplicaSet{rs("web-old", "1"), rs("web-new", "2")}
}

func rolloutPod(name, rs string, mutate func(*api.Pod)) *api.Pod {
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name, UID: name + "-uid",
		OwnerReferences: []api.OwnerReference{{Kind: "ReplicaSet", Name: rs, UID: rs + "-uid", Controller: api.Ptr(true)}}},
		Spec: api.PodSpec{NodeName: "n1"}}
	if mutate != nil {
		mutate(p)
	}
	return p
}

// unschedulableSince makes the pod pending since t with the scheduler's msg.
func unschedulableSince(t time.Time, msg string) func(*api.Pod) {
	return func(p *api.Pod) {
		p.Spec.NodeName = ""
		p.Status.Conditions = []api.Condition{{Type: api.PodScheduled, Status: api.ConditionFalse, Reason: api.ReasonUnschedulable,
			Message: msg, LastTransitionTime: t}}
	}
}

// crashed gives the pod a container that restarted n times and now waits
// in CrashLoopBackOff after exiting with code 3.
func crashed(n int32) func(*api.Pod) {
	return func(p *api.Pod) {
		p.Status.ContainerStatuses = []api.ContainerStatus{{Name: "app", RestartCount: n,
			State:     api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: api.ReasonCrashLoopBackOff}},
			LastState: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: 3, Reason: "Error"}}}}
	}
}

const badImage = "registry.example:5000/web:v9"

// pullFailing gives the pod a container of badImage waiting with reason
// (ErrImagePull, ImagePullBackOff, ErrImageNeverPull).
func pullFailing(reason string) func(*api.Pod) {
	return func(p *api.Pod) {
		p.Spec.Containers = []api.Container{{Name: "app", Image: badImage}}
		p.Status.ContainerStatuses = []api.ContainerStatus{{Name: "app",
			State: api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: reason, Message: "manifest for " + badImage + " not found"}}}}
	}
}

// pullEvent is the agent's event of count failed pulls of image.
func pullEvent(pod, image string, count int32) *api.Event {
	ev := podEvent(pod, api.EventReasonFailedPull, api.PullFailedMessage(image, "manifest unknown"), rolloutT0)
	ev.Count = count
	return ev
}

func podEvent(pod, reason, msg string, at time.Time) *api.Event {
	return &api.Event{InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: "default", Name: pod, UID: pod + "-uid"},
		Reason: reason, Message: msg, LastTimestamp: at}
}

// TestCheckRolloutFailFast is the fail-fast decision: when waiting longer
// cannot help, and when it still can.
func TestCheckRolloutFailFast(t *testing.T) {
	now := rolloutT0.Add(time.Minute)
	waitWeb := api.MessageWaitingForPool + "web to add 1 node(s) (size 3, max 4)"
	never := api.MessageNoPoolCanHold + ": node pool web: a new node would not fit it (insufficient cpu)"
	atMax := "pod didn't trigger scale-up: node pool web is at its maximum size 4"
	for _, tc := range []struct {
		name     string
		mutate   func(d *api.Deployment)
		pods     []*api.Pod
		events   []*api.Event
		unsched  time.Duration // UnschedulableTimeout (0 here: the default)
		restarts int32         // CrashLoopRestarts (0 here: the default)
		freed    time.Time     // RoomFreedAt
		done     bool
		reason   RolloutReason // "" keep waiting
		wantMsg  string        // substring of the failure's Message
		waiting  string
	}{
		{name: "complete", mutate: func(d *api.Deployment) { d.Status.AvailableReplicas = 4 }, done: true},
		{name: "spec not yet observed: wait", mutate: func(d *api.Deployment) { d.Status.ObservedGeneration = 1 },
			pods: []*api.Pod{rolloutPod("web-new-a", "web-new", unschedulableSince(rolloutT0, antiAffinityMsg))}},
		{name: "unschedulable 60s, no pool: fail with the scheduler's reason",
			pods:   []*api.Pod{rolloutPod("web-new-a", "web-new", nil), rolloutPod("web-new-b", "web-new", unschedulableSince(rolloutT0, antiAffinityMsg))},
			reason: RolloutUnschedulable, wantMsg: "unschedulable for 1m0s with no node pool adding room: " + antiAffinityMsg},
		{name: "unschedulable 10s: still within the timeout",
			pods: []*api.Pod{rolloutPod("web-new-b", "web-new", unschedulableSince(now.Add(-10*time.Second), antiAffinityMsg))}},
		{name: "a longer unschedulable timeout is honoured", unsched: 2 * time.Minute,
			pods: []*api.Pod{rolloutPod("web-new-b", "web-new", unschedulableSince(rolloutT0, antiAffinityMsg))}},
		{name: "a negative unschedulable timeout never fails", unsched: -1,
			pods: []*api.Pod{rolloutPod("web-new-b", "web-new", unschedulableSince(rolloutT0, antiAffinityMsg))}},
		{name: "a pool adds a node for it: wait, saying so",
			pods:    []*api.Pod{rolloutPod("web-new-b", "web-new", unschedulableSince(rolloutT0, antiAffinityMsg))},
			events:  []*api.Event{podEvent("web-new-b", api.ReasonTriggeredScaleUp, waitWeb, rolloutT0.Add(time.Second))},
			waiting: waitWeb},
		{name: "the pool reached its max 10s ago: the clock restarts from its last scale-up",
			pods: []*api.Pod{rolloutPod("web-new-b", "web-new", unschedulableSince(rolloutT0, antiAffinityMsg))},
			events: []*api.Event{podEvent("web-new-b", api.ReasonTriggeredScaleUp, waitWeb, now.Add(-20*time.Second)),
				podEvent("web-new-b", api.ReasonNotTriggerScaleUp, atMax, now.Add(-10*time.Second))}},
		{name: "the pool reached its max long ago: fail",
			pods: []*api.Pod{rolloutPod("web-new-b", "web-new", unschedulableSince(rolloutT0, antiAffinityMsg))},
			events: []*api.Event{podEvent("web-new-b", api.ReasonTriggeredScaleUp, waitWeb, rolloutT0),
				podEvent("web-new-b", api.ReasonNotTriggerScaleUp, atMax, rolloutT0.Add(time.Second))},
			reason: RolloutUnschedulable, wantMsg: antiAffinityMsg},
		{name: "no pool could ever hold it: fail at once",
			pods:   []*api.Pod{rolloutPod("web-new-b", "web-new", unschedulableSince(now, "0/3 nodes available: 3 insufficient cpu"))},
			events: []*api.Event{podEvent("web-new-b", api.ReasonNotTriggerScaleUp, never, now)},
			reason: RolloutNoPoolCanHold, wantMsg: "0/3 nodes available: 3 insufficient cpu; " + never},
		{name: "an old pod terminating frees room: wait",
			pods: []*api.Pod{rolloutPod("web-new-b", "web-new", unschedulableSince(rolloutT0, antiAffinityMsg)),
				rolloutPod("web-old-a", "web-old", func(p *api.Pod) { p.DeletionTimestamp = &now })}},
		{name: "an old pod went away 5s ago: the clock starts again from then", freed: now.Add(-5 * time.Second),
			pods: []*api.Pod{rolloutPod("web-new-b", "web-new", unschedulableSince(rolloutT0, antiAffinityMsg))}},
		{name: "an old pod went away 40s ago: fail",
			freed:  now.Add(-40 * time.Second),
			pods:   []*api.Pod{rolloutPod("web-new-b", "web-new", unschedulableSince(rolloutT0, antiAffinityMsg))},
			reason: RolloutUnschedulable, wantMsg: "unschedulable for 40s"},
		{name: "old pods pending do not count",
			pods: []*api.Pod{rolloutPod("web-old-b", "web-old", unschedulableSince(rolloutT0, antiAffinityMsg))}},
		{name: "crash loop past 3 restarts: fail",
			pods:   []*api.Pod{rolloutPod("web-new-a", "web-new", crashed(3))},
			reason: RolloutCrashLoop, wantMsg: "exited with code 3 (Error) after 3 restart(s)"},
		{name: "2 restarts: wait", pods: []*api.Pod{rolloutPod("web-new-a", "web-new", crashed(2))}},
		{name: "a set restart count is honoured", restarts: 5, pods: []*api.Pod{rolloutPod("web-new-a", "web-new", crashed(4))}},
		{name: "restarted 3 times but running now: wait", pods: []*api.Pod{rolloutPod("web-new-a", "web-new", func(p *api.Pod) {
			crashed(3)(p)
			p.Status.ContainerStatuses[0].State = api.ContainerState{Running: &api.ContainerStateRunning{StartedAt: now}}
		})}},
		{name: "an old pod crash looping does not fail the rollout that replaces it",
			pods: []*api.Pod{rolloutPod("web-old-a", "web-old", crashed(10))}},
		{name: "image failed to pull 3 times: fail with the registry's answer",
			pods:   []*api.Pod{rolloutPod("web-new-a", "web-new", pullFailing(api.ReasonImagePullBackOff))},
			events: []*api.Event{pullEvent("web-new-a", badImage, 2), pullEvent("web-new-a", badImage, 1)},
			reason: RolloutImagePull, wantMsg: `image "` + badImage + `" failed to pull 3 times: manifest for ` + badImage + " not found"},
		{name: "image failed to pull twice: wait",
			pods:   []*api.Pod{rolloutPod("web-new-a", "web-new", pullFailing(api.ReasonImagePullBackOff))},
			events: []*api.Event{pullEvent("web-new-a", badImage, 2)}},
		{name: "failed pulls of another image or pod do not count",
			pods: []*api.Pod{rolloutPod("web-new-a", "web-new", pullFailing(api.ReasonErrImagePull))},
			events: []*api.Event{pullEvent("web-new-a", "other:v1", 5), pullEvent("web-new-b", badImage, 5),
				podEvent("web-new-a", "Pulling", api.PullFailedMessage(badImage, "x"), rolloutT0)}},
		{name: "pulled at last after failures: wait",
			pods:   []*api.Pod{rolloutPod("web-new-a", "web-new", nil)},
			events: []*api.Event{pullEvent("web-new-a", badImage, 5)}},
		{name: "image not on the node with pull policy Never: fail at once",
			pods:   []*api.Pod{rolloutPod("web-new-a", "web-new", pullFailing(api.ReasonErrImageNeverPull))},
			reason: RolloutImagePull, wantMsg: `image "` + badImage + `" cannot be pulled`},
		{name: "an old pod's image failing does not fail the rollout that replaces it",
			pods:   []*api.Pod{rolloutPod("web-old-a", "web-old", pullFailing(api.ReasonImagePullBackOff))},
			events: []*api.Event{pullEvent("web-old-a", badImage, 9)}},
		{name: "progress deadline exceeded", mutate: func(d *api.Deployment) {
			d.Status.Conditions = []api.Condition{{Type: api.DeploymentProgressing, Status: api.ConditionFalse,
				Reason: api.ReasonProgressDeadlineExceeded, Message: `ReplicaSet "web-new" has timed out progressing.`}}
		}, reason: RolloutProgressDeadline, wantMsg: `no progress for 600s (its progress deadline): ReplicaSet "web-new" has timed out progressing.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, rss := rolloutFixture()
			if tc.mutate != nil {
				tc.mutate(d)
			}
			in := RolloutCheck{Deployment: d, ReplicaSets: rss, Pods: tc.pods, Events: tc.events, Now: now,
				UnschedulableTimeout: DefaultUnschedulableTimeout, CrashLoopRestarts: DefaultCrashLoopRestarts,
				ImagePullFailures: DefaultImagePullFailures, RoomFreedAt: tc.freed}
			if tc.unsched != 0 {
				in.UnschedulableTimeout = tc.unsched
			}
			if tc.restarts != 0 {
				in.CrashLoopRestarts = tc.restarts
			}
			v := CheckRollout(in)
			if v.Done != tc.done {
				t.Fatalf("done %v, want %v (%+v)", v.Done, tc.done, v)
			}
			switch {
			case tc.reason == "" && v.Failed != nil:
				t.Fatalf("failed: %v; want to keep waiting", v.Failed)
			case tc.reason != "" && v.Failed == nil:
				t.Fatalf("keeps waiting (%q); want a %s failure", v.Status, tc.reason)
			case tc.reason != "":
				if v.Failed.Reason != tc.reason || !strings.Contains(v.Failed.Message, tc.wantMsg) {
					t.Fatalf("failure %s %q; want %s containing %q", v.Failed.Reason, v.Failed.Message, tc.reason, tc.wantMsg)
				}
				if v.Failed.Namespace != "default" || v.Failed.Name != "web" || v.Failed.Advice == "" {
					t.Fatalf("failure without its deployment or advice: %+v", v.Failed)
				}
			}
			if got := strings.Join(v.Waiting, "; "); got != tc.waiting {
				t.Fatalf("waiting %q, want %q", got, tc.waiting)
			}
		})
	}
}

// TestRolloutAdvice: the advice matches the reason, and never suggests
// what cannot help (lower requests for an anti-affinity rule).
func TestRolloutAdvice(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reason  RolloutReason
		message string
		want    []string
		never   []string
	}{
		{"anti-affinity", RolloutUnschedulable, antiAffinityMsg,
			[]string{"add nodes", "relax the anti-affinity"}, []string{"requests", "taint", "selector"}},
		{"insufficient cpu", RolloutUnschedulable, "0/3 nodes available: 3 insufficient cpu",
			[]string{"lower the pods' cpu requests", "grow the node pool"}, []string{"anti-affinity", "memory"}},
		{"insufficient memory", RolloutUnschedulable, "0/3 nodes available: 3 insufficient memory",
			[]string{"lower the pods' memory requests", "grow the node pool"}, []string{"anti-affinity", "cpu"}},
		{"node selector", RolloutUnschedulable, "0/3 nodes available: 3 node(s) didn't match Pod's node affinity/selector",
			[]string{"label nodes", "change the selector"}, []string{"requests", "anti-affinity"}},
		{"taints", RolloutUnschedulable, "0/3 nodes available: 3 node(s) had untolerated taint(s)",
			[]string{"tolerations"}, []string{"requests"}},
		{"mixed: each reason's own advice", RolloutUnschedulable, "0/5 nodes available: 3 insufficient memory, 2 node(s) had untolerated taint(s)",
			[]string{"memory requests", "tolerations"}, []string{"anti-affinity", "cpu"}},
		{"host ports", RolloutUnschedulable, "0/2 nodes available: 2 node(s) didn't have free ports for the requested pod ports",
			[]string{"host port"}, []string{"requests"}},
		{"no pool can hold: insufficient cpu", RolloutNoPoolCanHold,
			"0/3 nodes available: 3 insufficient cpu; " + api.MessageNoPoolCanHold + ": node pool web: a new node would not fit it (insufficient cpu)",
			[]string{"cpu requests", "waiting does not help"}, []string{"anti-affinity"}},
		{"crash loop", RolloutCrashLoop, "crash loop: exited with code 3 after 3 restart(s)",
			[]string{"log lines", "keeps running"}, []string{"requests", "nodes"}},
		{"image failed to pull", RolloutImagePull, `image "web:v9" failed to pull 3 times: manifest unknown`,
			[]string{"name and tag", "image_pull_secrets"}, []string{"requests", "Never"}},
		{"image never pulled", RolloutImagePull, `image "web:v9" cannot be pulled: not present with pull policy of Never`,
			[]string{"load the image onto the nodes"}, []string{"requests", "tag"}},
		{"progress deadline", RolloutProgressDeadline, "no progress for 600s", []string{"progress_deadline_seconds"}, nil},
		{"timeout with an anti-affinity pod", RolloutTimeout, "pod web-1: PodScheduled=False (Unschedulable): " + antiAffinityMsg,
			[]string{"relax the anti-affinity"}, []string{"requests"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RolloutAdvice(tc.reason, tc.message)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("advice %q does not say %q", got, w)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(got, n) {
					t.Errorf("advice %q says %q, which does not fit %s", got, n, tc.name)
				}
			}
		})
	}
}

// TestRolloutErrorNamesTheReason: the error a user reads quotes the cause
// and the advice, and for a crash loop the last log lines.
func TestRolloutErrorNamesTheReason(t *testing.T) {
	e := &RolloutError{Namespace: "shop", Name: "web", Reason: RolloutCrashLoop, Pod: "web-1", Container: "app",
		Message: "crash loop: exited with code 3 after 3 restart(s)", Logs: "starting\nno config file", Advice: RolloutAdvice(RolloutCrashLoop, "")}
	got := e.Error()
	for _, want := range []string{"deployment shop/web cannot roll out: pod web-1, container app: crash loop: exited with code 3",
		"its log ends with:\n    starting\n    no config file", "Fix the container"} {
		if !strings.Contains(got, want) {
			t.Errorf("error %q does not say %q", got, want)
		}
	}
}
