package machine

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

func TestNodeLabels(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec api.MachineSpec
		want map[string]string
	}{
		{"pool only", api.MachineSpec{Pool: "p"}, map[string]string{api.LabelNodePool: "p"}},
		{"everything", api.MachineSpec{Pool: "p", Zone: "z1", MachineType: "large", Labels: map[string]string{"tier": "web"}},
			map[string]string{api.LabelNodePool: "p", api.LabelZone: "z1", api.LabelInstanceType: "large", "tier": "web"}},
		{"the pool's label wins over a template label of the same key", api.MachineSpec{Pool: "p", Labels: map[string]string{api.LabelNodePool: "other"}},
			map[string]string{api.LabelNodePool: "p"}},
		{"placed in another zone (no capacity in its own)", api.MachineSpec{Pool: "p", Zone: "z1", Labels: map[string]string{"tier": "web"}},
			map[string]string{api.LabelNodePool: "p", api.LabelZone: "z2", "tier": "web"}},
	} {
		m := &api.Machine{Spec: tc.spec}
		zone := tc.spec.Zone
		if strings.HasPrefix(tc.name, "placed in another zone") {
			zone = "z2"
		}
		if got := nodeLabels(m, zone); !maps.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if tc.spec.Labels != nil && tc.spec.Labels[api.LabelZone] != "" {
			t.Errorf("%s: nodeLabels changed the machine's own labels", tc.name)
		}
	}
}

func TestRemediated(t *testing.T) {
	cond := func(status api.ConditionStatus, reason string) []api.Condition {
		return []api.Condition{{Type: api.MachineNodeReady, Status: status, Reason: reason}}
	}
	for _, tc := range []struct {
		name   string
		status api.MachineStatus
		want   bool
	}{
		{"failed", api.MachineStatus{Phase: api.MachineFailed}, true},
		{"never joined", api.MachineStatus{Phase: api.MachineProvisioning, Conditions: cond(api.ConditionFalse, api.ReasonNodeNotJoined)}, true},
		{"not ready", api.MachineStatus{Phase: api.MachineRunning, Conditions: cond(api.ConditionFalse, api.ReasonNodeNotReady)}, true},
		{"healthy (a scale-down)", api.MachineStatus{Phase: api.MachineRunning, Conditions: cond(api.ConditionTrue, api.ReasonNodeJoined)}, false},
		{"pending", api.MachineStatus{Phase: api.MachinePending}, false},
	} {
		if got := remediated(&api.Machine{Status: tc.status}); got != tc.want {
			t.Errorf("%s: remediated = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTimeouts(t *testing.T) {
	p := &api.NodePool{}
	if startupTimeout(p) != 10*time.Minute || notReadyTimeout(p) != 5*time.Minute || drainTimeout(p) != 5*time.Minute {
		t.Errorf("defaults: %s %s %s", startupTimeout(p), notReadyTimeout(p), drainTimeout(p))
	}
	p.Spec.Remediation.StartupTimeoutSeconds, p.Spec.DrainTimeoutSeconds = api.Ptr[int64](2), api.Ptr[int64](0)
	if startupTimeout(p) != 2*time.Second || drainTimeout(p) != 0 {
		t.Errorf("set: %s %s", startupTimeout(p), drainTimeout(p))
	}
}
