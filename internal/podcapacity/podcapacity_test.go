package podcapacity

import (
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func pendingPod(name string) *api.Pod {
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Namespace: "default", Name: name, UID: name + "-uid"}}
	p.Status.Conditions = []api.Condition{{Type: api.PodScheduled, Status: api.ConditionFalse, Reason: api.ReasonUnschedulable}}
	return p
}

func event(pod, reason, msg string, at time.Duration) *api.Event {
	return &api.Event{InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: "default", Name: pod, UID: pod + "-uid"},
		Reason: reason, Message: msg, LastTimestamp: t0.Add(at)}
}

func TestSummarize(t *testing.T) {
	waitWeb := api.MessageWaitingForPool + "web to add 1 node(s) (size 2, max 4)"
	never := api.MessageNoPoolCanHold + ": node pool web: a new node would not fit it (insufficient cpu)"
	atMax := "pod didn't trigger scale-up: node pool web is at its maximum size 4"
	running := pendingPod("run")
	running.Spec.NodeName, running.Status.Conditions = "n1", nil
	cases := []struct {
		name      string
		pods      []*api.Pod
		events    []*api.Event
		waiting   string
		neverText string // substring of Never, "" none
	}{
		{name: "nothing said: nothing", pods: []*api.Pod{pendingPod("a")}},
		{name: "a pool adds nodes: wait, once per message",
			pods:    []*api.Pod{pendingPod("a"), pendingPod("b")},
			events:  []*api.Event{event("a", api.ReasonTriggeredScaleUp, waitWeb, 0), event("b", api.ReasonTriggeredScaleUp, waitWeb, 0)},
			waiting: waitWeb},
		{name: "no pool can hold a pod: fail",
			pods:      []*api.Pod{pendingPod("a"), pendingPod("b")},
			events:    []*api.Event{event("a", api.ReasonTriggeredScaleUp, waitWeb, 0), event("b", api.ReasonNotTriggerScaleUp, never, 0)},
			waiting:   waitWeb,
			neverText: "pod b: no node pool can hold the pod: node pool web: a new node would not fit it (insufficient cpu)"},
		{name: "a pool at its max: keep waiting (pods may go)",
			pods: []*api.Pod{pendingPod("a")}, events: []*api.Event{event("a", api.ReasonNotTriggerScaleUp, atMax, 0)}},
		{name: "the latest event counts",
			pods:    []*api.Pod{pendingPod("a")},
			events:  []*api.Event{event("a", api.ReasonTriggeredScaleUp, waitWeb, 2*time.Second), event("a", api.ReasonNotTriggerScaleUp, never, time.Second)},
			waiting: waitWeb},
		{name: "pods that run, and events of an earlier pod of the name, are ignored",
			pods: []*api.Pod{running, pendingPod("a")},
			events: []*api.Event{event("run", api.ReasonNotTriggerScaleUp, never, 0),
				{InvolvedObject: api.ObjectReference{Kind: "Pod", Namespace: "default", Name: "a", UID: "old"}, Reason: api.ReasonNotTriggerScaleUp, Message: never}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Summarize(tc.pods, tc.events)
			if r.Message() != tc.waiting {
				t.Errorf("waiting %q, want %q", r.Message(), tc.waiting)
			}
			switch {
			case tc.neverText == "" && r.Never != nil:
				t.Errorf("never %v, want none", r.Never)
			case tc.neverText != "" && (r.Never == nil || !strings.Contains(r.Never.Error(), tc.neverText)):
				t.Errorf("never %v, want %q", r.Never, tc.neverText)
			}
		})
	}
}
