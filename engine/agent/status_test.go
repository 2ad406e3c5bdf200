package agent

import (
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/runtime"
)

// status.podIP follows the sandbox's address, but an adopted sandbox that
// lists none (the pod network failed to come back after an agent restart)
// keeps the pod's: it still runs with it, and endpoints keep pointing there.
func TestStatusPodIP(t *testing.T) {
	tests := []struct {
		name, old string
		hostNet   bool
		sb        *runtime.Sandbox
		want      string
	}{
		{"new address", "", false, &runtime.Sandbox{ID: "s", IP: "10.244.1.2"}, "10.244.1.2"},
		{"replaced sandbox's address", "10.244.1.2", false, &runtime.Sandbox{ID: "s2", IP: "10.244.1.3"}, "10.244.1.3"},
		{"adopted, network not back", "10.244.1.2", false, &runtime.Sandbox{ID: "s"}, "10.244.1.2"},
		{"no sandbox", "10.244.1.2", false, nil, "10.244.1.2"},
		{"host network", "", true, &runtime.Sandbox{ID: "s", IP: "192.0.2.1"}, "192.0.2.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &Agent{cfg: Config{Address: "192.0.2.1"}, waiting: map[string]api.ContainerStateWaiting{},
				lastState: map[string]runtime.ContainerState{}, exits: map[string]string{}}
			pod := &api.Pod{Spec: api.PodSpec{HostNetwork: tc.hostNet}, Status: api.PodStatus{PodIP: tc.old}}
			if got := a.computeStatus(pod, tc.sb, nil, time.Now()).PodIP; got != tc.want {
				t.Errorf("podIP = %q, want %q", got, tc.want)
			}
		})
	}
}
