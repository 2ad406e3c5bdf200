package cli

import (
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/plan"
)

// TestBoundSince: an update planned before the scheduler bound the pod
// goes ahead once it is bound, writing the binding (a pod's node cannot
// be unset); a replacement goes ahead too, its new pod left to the
// scheduler; any other spec change since the plan, or a change of
// something else than a pod, is refused as before.
func TestBoundSince(t *testing.T) {
	pod := func(node, image string, gen int64) *api.Pod {
		return &api.Pod{ObjectMeta: api.ObjectMeta{Name: "debug", Namespace: "default", Generation: gen},
			Spec: api.PodSpec{NodeName: node, Containers: []api.Container{{Name: "debug", Image: image}}}}
	}
	tests := []struct {
		name    string
		action  plan.Action
		was     api.Object // what the plan saw
		desired api.Object
		now     api.Object
		ok      bool
	}{
		{"bound since the plan", plan.Update, pod("", "demo:1", 1), pod("", "demo:2", 1), pod("node-0", "demo:1", 2), true},
		{"bound and changed since the plan", plan.Update, pod("", "demo:1", 1), pod("", "demo:2", 1), pod("node-0", "demo:3", 2), false},
		{"changed since the plan, bound before it", plan.Update, pod("node-0", "demo:1", 2), pod("node-0", "demo:2", 2), pod("node-0", "demo:3", 3), false},
		{"changed, not bound", plan.Update, pod("", "demo:1", 1), pod("", "demo:2", 1), pod("", "demo:3", 2), false},
		{"a replacement bound since the plan", plan.Replace, pod("", "demo:1", 1), pod("", "demo:2", 1), pod("node-0", "demo:1", 2), true},
		{"a replacement changed since the plan", plan.Replace, pod("", "demo:1", 1), pod("", "demo:2", 1), pod("node-0", "demo:3", 2), false},
		{"a deletion", plan.Delete, pod("", "demo:1", 1), pod("", "demo:2", 1), pod("node-0", "demo:1", 2), false},
		{"the manifest names a node", plan.Update, pod("", "demo:1", 1), pod("node-1", "demo:2", 1), pod("node-0", "demo:1", 2), false},
		{"not a pod", plan.Update, &api.ConfigMap{}, &api.ConfigMap{}, &api.ConfigMap{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := plan.Change{Action: tt.action, Kind: "Pod", Live: tt.was, Desired: tt.desired}
			var given string
			if d, isPod := tt.desired.(*api.Pod); isPod {
				given = d.Spec.NodeName
			}
			if got := boundSince(ch, tt.now); got != tt.ok {
				t.Fatalf("boundSince = %v, want %v", got, tt.ok)
			}
			d, isPod := tt.desired.(*api.Pod)
			if !isPod {
				return
			}
			now := tt.now.(*api.Pod)
			if tt.ok && tt.action == plan.Replace && (d.Spec.NodeName != "" || d.Generation != 1) {
				t.Errorf("the replacement's new pod got node %q generation %d, want none and 1 as planned", d.Spec.NodeName, d.Generation)
				return
			}
			if tt.ok && tt.action == plan.Update && (d.Spec.NodeName != now.Spec.NodeName || d.Generation != now.Generation || d.Spec.Containers[0].Image != "demo:2") {
				t.Errorf("the update writes node %q generation %d image %s, want node %q generation %d image demo:2",
					d.Spec.NodeName, d.Generation, d.Spec.Containers[0].Image, now.Spec.NodeName, now.Generation)
			}
			if !tt.ok && d.Spec.NodeName != given {
				t.Errorf("a refused update's node went %q -> %q", given, d.Spec.NodeName)
			}
		})
	}
}
