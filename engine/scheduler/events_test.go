package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/client"
)

// TestEveryReasonHasRolloutAdvice keeps the rollout wait's advice table
// (engine/client) in step with the scheduler's rejection reasons: a
// reason without advice would leave a failed rollout with none.
func TestEveryReasonHasRolloutAdvice(t *testing.T) {
	known := client.SchedulingReasons()
	for r := Reason(0); r < numReasons; r++ {
		found := false
		for _, k := range known {
			found = found || k == r.String()
		}
		if !found {
			t.Errorf("reason %q has no advice in engine/client's schedulingAdvice", r)
		}
		if strings.Contains(client.RolloutAdvice(client.RolloutUnschedulable, "0/1 nodes available: 1 "+r.String()), "Make room for the pods") {
			t.Errorf("reason %q gets only the generic advice", r)
		}
	}
}

// TestFailedSchedulingEventsLimited: a changed verdict is recorded at
// once, the same one at most once per failedSchedulingRepeat.
func TestFailedSchedulingEventsLimited(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	var l eventLimiter
	steps := []struct {
		at   time.Duration
		key  string
		msg  string
		want bool
	}{
		{0, "default/a", "0/3 nodes available: 3 insufficient cpu", true},
		{time.Second, "default/a", "0/3 nodes available: 3 insufficient cpu", false},
		{time.Second, "default/b", "0/3 nodes available: 3 insufficient cpu", true},
		{2 * time.Second, "default/a", "0/4 nodes available: 4 insufficient cpu", true},
		{30 * time.Second, "default/a", "0/4 nodes available: 4 insufficient cpu", false},
		{62 * time.Second, "default/a", "0/4 nodes available: 4 insufficient cpu", true},
	}
	for i, s := range steps {
		if got := l.allow(s.key, s.msg, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d (%s at %s): recorded %v, want %v", i, s.key, s.at, got, s.want)
		}
	}
	l.prune(t0.Add(2 * time.Minute))
	if _, ok := l.last["default/b"]; ok {
		t.Error("an old verdict was not pruned")
	}
	if !l.allow("default/b", "0/3 nodes available: 3 insufficient cpu", t0.Add(2*time.Minute)) {
		t.Error("a pruned pod's verdict is not recorded again")
	}
}
