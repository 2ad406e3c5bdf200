package cli

import (
	"slices"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

func TestPodStatus(t *testing.T) {
	waiting := func(name, reason string, restarts int32) api.ContainerStatus {
		return api.ContainerStatus{Name: name, RestartCount: restarts, State: api.ContainerState{Waiting: &api.ContainerStateWaiting{Reason: reason}}}
	}
	running := func(name string, restarts int32) api.ContainerStatus {
		return api.ContainerStatus{Name: name, RestartCount: restarts, State: api.ContainerState{Running: &api.ContainerStateRunning{}}}
	}
	exited := func(name string, code int32, reason string, restarts int32) api.ContainerStatus {
		return api.ContainerStatus{Name: name, RestartCount: restarts,
			State: api.ContainerState{Terminated: &api.ContainerStateTerminated{ExitCode: code, Reason: reason}}}
	}
	initialized := func(s api.ConditionStatus) []api.Condition {
		return []api.Condition{{Type: api.PodInitialized, Status: s}}
	}
	pod := func(phase api.PodPhase, conds []api.Condition, inits, apps []api.ContainerStatus) *api.Pod {
		p := &api.Pod{Spec: api.PodSpec{Containers: []api.Container{{Name: "app"}}},
			Status: api.PodStatus{Phase: phase, Conditions: conds, InitContainerStatuses: inits, ContainerStatuses: apps}}
		for _, cs := range inits {
			p.Spec.InitContainers = append(p.Spec.InitContainers, api.Container{Name: cs.Name})
		}
		return p
	}
	deleting := pod(api.PodPending, initialized(api.ConditionFalse), []api.ContainerStatus{running("one", 1)}, nil)
	deleting.DeletionTimestamp = &time.Time{}
	tests := []struct {
		name         string
		pod          *api.Pod
		want         string
		wantRestarts int32
	}{
		{"first init container running", pod(api.PodPending, initialized(api.ConditionFalse),
			[]api.ContainerStatus{running("one", 0), waiting("two", "PodInitializing", 0)},
			[]api.ContainerStatus{waiting("app", "PodInitializing", 0)}), "Init:0/2", 0},
		{"second init container running", pod(api.PodPending, initialized(api.ConditionFalse),
			[]api.ContainerStatus{exited("one", 0, "Completed", 1), running("two", 0)},
			[]api.ContainerStatus{waiting("app", "PodInitializing", 0)}), "Init:1/2", 1},
		{"init container in back-off", pod(api.PodPending, initialized(api.ConditionFalse),
			[]api.ContainerStatus{waiting("one", "CrashLoopBackOff", 2)},
			[]api.ContainerStatus{waiting("app", "PodInitializing", 0)}), "Init:CrashLoopBackOff", 2},
		{"init container failed", pod(api.PodFailed, initialized(api.ConditionFalse),
			[]api.ContainerStatus{exited("one", 5, "Error", 0)},
			[]api.ContainerStatus{waiting("app", "PodInitializing", 0)}), "Init:Error", 0},
		{"init container failed without a reason", pod(api.PodFailed, initialized(api.ConditionFalse),
			[]api.ContainerStatus{exited("one", 5, "", 0)}, nil), "Init:ExitCode:5", 0},
		{"init image not pulled", pod(api.PodPending, initialized(api.ConditionFalse),
			[]api.ContainerStatus{waiting("one", "ImagePullBackOff", 0)}, nil), "Init:ImagePullBackOff", 0},
		{"initialized, app starting", pod(api.PodPending, initialized(api.ConditionTrue),
			[]api.ContainerStatus{exited("one", 0, "Completed", 3)},
			[]api.ContainerStatus{waiting("app", "PodInitializing", 0)}), "PodInitializing", 0},
		{"initialized and running: app restarts only", pod(api.PodRunning, initialized(api.ConditionTrue),
			[]api.ContainerStatus{exited("one", 0, "Completed", 3)},
			[]api.ContainerStatus{running("app", 1)}), "Running", 1},
		{"no init containers", pod(api.PodRunning, initialized(api.ConditionTrue), nil,
			[]api.ContainerStatus{running("app", 4)}), "Running", 4},
		{"app crash loop", pod(api.PodRunning, initialized(api.ConditionTrue), nil,
			[]api.ContainerStatus{waiting("app", "CrashLoopBackOff", 4)}), "CrashLoopBackOff", 4},
		{"terminating while initializing", deleting, "Terminating", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, restarts := podStatus(tc.pod)
			if got != tc.want || restarts != tc.wantRestarts {
				t.Errorf("podStatus = %q, %d restarts; want %q, %d", got, restarts, tc.want, tc.wantRestarts)
			}
		})
	}
}

func TestNodeColumns(t *testing.T) {
	ready := api.Condition{Type: api.NodeReady, Status: api.ConditionTrue}
	noNetwork := api.Condition{Type: api.NodeNetworkUnavailable, Status: api.ConditionTrue, Reason: "PodCIDRExhausted"}
	inPool := api.ObjectMeta{Labels: map[string]string{api.LabelNodePool: "edge", api.LabelZone: "rack-1"}}
	tests := []struct {
		name                        string
		node                        api.Node
		status, pool, zone, podCIDR string
	}{
		{"assigned, in a pool", api.Node{ObjectMeta: inPool, Spec: api.NodeSpec{PodCIDR: "10.244.3.0/24"},
			Status: api.NodeStatus{Conditions: []api.Condition{ready}}}, "Ready", "edge", "rack-1", "10.244.3.0/24"},
		{"waiting for a CIDR, joined by hand", api.Node{Status: api.NodeStatus{Conditions: []api.Condition{ready, noNetwork}}},
			"Ready,NetworkUnavailable", "<none>", "<none>", "<none>"},
		{"cordoned, not ready", api.Node{Spec: api.NodeSpec{Unschedulable: true, PodCIDR: "10.244.4.0/24"}},
			"NotReady,SchedulingDisabled", "<none>", "<none>", "10.244.4.0/24"},
	}
	cols := tables["Node"]
	if want := []string{"NAME", "STATUS", "POOL", "ZONE", "ADDRESS", "POD-CIDR", "AGE", "VERSION"}; !slices.Equal(cols.headers, want) {
		t.Fatalf("headers %v, want %v", cols.headers, want)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := cols.row(&tt.node)
			if row[1] != tt.status || row[2] != tt.pool || row[3] != tt.zone || row[5] != tt.podCIDR {
				t.Fatalf("row %v: want status %q, pool %q, zone %q and pod CIDR %q", row, tt.status, tt.pool, tt.zone, tt.podCIDR)
			}
		})
	}
}

func TestAutoscalerTargets(t *testing.T) {
	mem := resource.MustParse("256Mi")
	used := resource.MustParse("96Mi")
	a := &api.Autoscaler{Spec: api.AutoscalerSpec{Metrics: []api.MetricSpec{
		{Resource: api.ResourceMetricSource{Name: api.ResourceCPU, Target: api.MetricTarget{Type: api.UtilizationMetric, AverageUtilization: api.Ptr[int32](50)}}},
		{Resource: api.ResourceMetricSource{Name: api.ResourceMemory, Target: api.MetricTarget{Type: api.AverageValueMetric, AverageValue: &mem}}},
	}}}
	if got, want := autoscalerTargets(a), "cpu: <unknown>/50%, memory: <unknown>/256Mi"; got != want {
		t.Errorf("before a measure: %q, want %q", got, want)
	}
	a.Status.CurrentMetrics = []api.MetricStatus{{Name: api.ResourceCPU, AverageUtilization: api.Ptr[int32](150)}, {Name: api.ResourceMemory, AverageValue: &used}}
	if got, want := autoscalerTargets(a), "cpu: 150%/50%, memory: 96Mi/256Mi"; got != want {
		t.Errorf("measured: %q, want %q", got, want)
	}
}

func TestAge(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{-time.Second, "0s"}, // clock skew: an object stamped in the future
		{0, "0s"},
		{60*time.Second + 999*time.Millisecond, "60s"},
		{2*time.Minute - time.Nanosecond, "119s"},
		{2 * time.Minute, "2m"},
		{2*time.Hour - time.Second, "119m"},
		{2 * time.Hour, "2h"},
		{48 * time.Hour, "2d"},
		{400 * 24 * time.Hour, "400d"},
	}
	for _, tt := range tests {
		if got := ageAt(now.Add(-tt.ago), now); got != tt.want {
			t.Errorf("ageAt(now-%v) = %q, want %q", tt.ago, got, tt.want)
		}
	}
	if got := ageAt(time.Time{}, now); got != "<unknown>" {
		t.Errorf("ageAt(zero) = %q, want <unknown>", got)
	}
}
