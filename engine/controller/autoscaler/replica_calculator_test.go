package autoscaler

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// Rows ported from Kubernetes' pkg/controller/podautoscaler/
// replica_calculator_test.go (the TestReplicaCalc* functions on resource
// and per-pod metrics; each row names its origin). As there, every pod has
// two containers, each requesting requests[i] and using levels[i]; pods
// without a level have no metrics; start times are "hot" (just started)
// or "cool" (3 minutes ago), the zero time otherwise; samples carry the
// zero timestamp and a one-minute window; the calculator runs with
// tolerance 0.1, a 2-minute CPU initialisation period and a 10-second
// delay of initial readiness.

const (
	testCPUInitializationPeriod       = 2 * time.Minute
	testDelayOfInitialReadinessStatus = 10 * time.Second
	containersPerPod                  = 2
)

var testNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

type calcCase struct {
	name     string
	current  int32
	want     int32
	wantErr  string
	res      api.ResourceName
	requests []string // per pod, for each container; fewer than pods: no request
	levels   []int64  // per pod, for each container, milli-units
	podNames []string // names of the metrics' pods, when not the pods'

	readiness []api.ConditionStatus // per pod; True when not given
	start     []string              // per pod: "hot", "cool"; zero time otherwise
	phase     []api.PodPhase        // per pod; Running when not given
	deleting  []bool

	// Utilisation targets (percent) or, when averageMilli > 0, an average
	// value per pod whose levels are per pod (one container).
	target          int32
	averageMilli    int64
	wantUtilization int32
	wantAverage     int64
}

// One decimal milli-CPU request (Kubernetes' resource.MustParse("1.0")).
func reqs(n int, q string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = q
	}
	return out
}

var (
	ready   = api.ConditionTrue
	unready = api.ConditionFalse
)

func TestReplicaCalculator(t *testing.T) {
	cpu, mem := api.ResourceCPU, api.ResourceMemory
	running, pending, failed := api.PodRunning, api.PodPending, api.PodFailed
	cases := []calcCase{
		{name: "DisjointResourcesMetrics", current: 1, wantErr: "no metrics returned matched known pods",
			res: cpu, requests: reqs(1, "1.0"), levels: []int64{100}, podNames: []string{"an-older-pod-name"}, target: 100},
		{name: "ScaleUp", current: 3, want: 5, res: cpu, requests: reqs(3, "1.0"), levels: []int64{300, 500, 700},
			target: 30, wantUtilization: 50, wantAverage: containersPerPod * 500},
		{name: "ScaleUpUnreadyLessScale", current: 3, want: 4, readiness: []api.ConditionStatus{unready, ready, ready},
			res: cpu, requests: reqs(3, "1.0"), levels: []int64{300, 500, 700}, target: 30, wantUtilization: 60, wantAverage: containersPerPod * 600},
		{name: "ScaleUpHotCpuLessScale", current: 3, want: 4, start: []string{"hot", "cool", "cool"},
			res: cpu, requests: reqs(3, "1.0"), levels: []int64{300, 500, 700}, target: 30, wantUtilization: 60, wantAverage: containersPerPod * 600},
		{name: "ScaleUpUnreadyNoScale", current: 3, want: 3, readiness: []api.ConditionStatus{ready, unready, unready},
			res: cpu, requests: reqs(3, "1.0"), levels: []int64{400, 500, 700}, target: 30, wantUtilization: 40, wantAverage: containersPerPod * 400},
		{name: "ScaleHotCpuNoScale", current: 3, want: 3, readiness: []api.ConditionStatus{ready, unready, unready},
			start: []string{"cool", "hot", "hot"},
			res:   cpu, requests: reqs(3, "1.0"), levels: []int64{400, 500, 700}, target: 30, wantUtilization: 40, wantAverage: containersPerPod * 400},
		{name: "ScaleUpIgnoresFailedPods", current: 2, want: 4, readiness: []api.ConditionStatus{ready, ready, unready, unready},
			phase: []api.PodPhase{running, running, failed, failed},
			res:   cpu, requests: reqs(4, "1.0"), levels: []int64{500, 700}, target: 30, wantUtilization: 60, wantAverage: containersPerPod * 600},
		{name: "ScaleUpIgnoresDeletionPods", current: 2, want: 4, readiness: []api.ConditionStatus{ready, ready, unready, unready},
			phase: []api.PodPhase{running, running, running, running}, deleting: []bool{false, false, true, true},
			res: cpu, requests: reqs(4, "1.0"), levels: []int64{500, 700}, target: 30, wantUtilization: 60, wantAverage: containersPerPod * 600},
		{name: "ScaleDown", current: 5, want: 3, res: cpu, requests: reqs(5, "1.0"), levels: []int64{100, 300, 500, 250, 250},
			target: 50, wantUtilization: 28, wantAverage: containersPerPod * 280},
		{name: "ScaleDownIncludeUnreadyPods", current: 5, want: 2, readiness: []api.ConditionStatus{ready, ready, ready, unready, unready},
			res: cpu, requests: reqs(5, "1.0"), levels: []int64{100, 300, 500, 250, 250}, target: 50, wantUtilization: 30, wantAverage: containersPerPod * 300},
		{name: "ScaleDownExcludeUnscheduledPods", current: 5, want: 1,
			readiness: []api.ConditionStatus{ready, unready, unready, unready, unready},
			phase:     []api.PodPhase{running, pending, pending, pending, pending},
			res:       cpu, requests: reqs(5, "1.0"), levels: []int64{100}, target: 50, wantUtilization: 10, wantAverage: containersPerPod * 100},
		{name: "ScaleDownIgnoreHotCpuPods", current: 5, want: 2, start: []string{"cool", "cool", "cool", "hot", "hot"},
			res: cpu, requests: reqs(5, "1.0"), levels: []int64{100, 300, 500, 250, 250}, target: 50, wantUtilization: 30, wantAverage: containersPerPod * 300},
		{name: "ScaleDownIgnoresFailedPods", current: 5, want: 3,
			readiness: []api.ConditionStatus{ready, ready, ready, ready, ready, unready, unready},
			phase:     []api.PodPhase{running, running, running, running, running, failed, failed},
			res:       cpu, requests: reqs(7, "1.0"), levels: []int64{100, 300, 500, 250, 250}, target: 50, wantUtilization: 28, wantAverage: containersPerPod * 280},
		{name: "ScaleDownIgnoresDeletionPods", current: 5, want: 3,
			readiness: []api.ConditionStatus{ready, ready, ready, ready, ready, unready, unready},
			phase:     []api.PodPhase{running, running, running, running, running, running, running},
			deleting:  []bool{false, false, false, false, false, true, true},
			res:       cpu, requests: reqs(7, "1.0"), levels: []int64{100, 300, 500, 250, 250}, target: 50, wantUtilization: 28, wantAverage: containersPerPod * 280},
		{name: "Tolerance", current: 3, want: 3, res: cpu, requests: []string{"0.9", "1.0", "1.1"}, levels: []int64{1010, 1030, 1020},
			target: 100, wantUtilization: 102, wantAverage: containersPerPod * 1020},
		{name: "SuperfluousMetrics", current: 4, want: 24, res: cpu, requests: reqs(4, "1.0"),
			levels: []int64{4000, 9500, 3000, 7000, 3200, 2000}, target: 100, wantUtilization: 587, wantAverage: containersPerPod * 5875},
		{name: "MissingMetrics", current: 4, want: 3, res: cpu, requests: reqs(4, "1.0"), levels: []int64{400, 95},
			target: 100, wantUtilization: 24, wantAverage: 495},
		{name: "EmptyMetrics", current: 4, wantErr: "unable to get metrics for resource cpu: no metrics returned from resource metrics API",
			res: cpu, requests: reqs(3, "1.0"), levels: []int64{}, target: 100},
		{name: "EmptyCPURequest", current: 1, wantErr: "missing request for", res: cpu, levels: []int64{200}, target: 100},
		{name: "MissingMetricsNoChangeEq", current: 2, want: 2, res: cpu, requests: reqs(2, "1.0"), levels: []int64{1000},
			target: 100, wantUtilization: 100, wantAverage: containersPerPod * 1000},
		{name: "MissingMetricsNoChangeGt", current: 2, want: 2, res: cpu, requests: reqs(2, "1.0"), levels: []int64{1900},
			target: 100, wantUtilization: 190, wantAverage: containersPerPod * 1900},
		{name: "MissingMetricsNoChangeLt", current: 2, want: 2, res: cpu, requests: reqs(2, "1.0"), levels: []int64{600},
			target: 100, wantUtilization: 60, wantAverage: containersPerPod * 600},
		{name: "MissingMetricsUnreadyChange", current: 3, want: 3, readiness: []api.ConditionStatus{unready, ready, ready},
			res: cpu, requests: reqs(3, "1.0"), levels: []int64{100, 450}, target: 50, wantUtilization: 45, wantAverage: containersPerPod * 450},
		{name: "MissingMetricsHotCpuNoChange", current: 3, want: 3, start: []string{"hot", "cool", "cool"},
			res: cpu, requests: reqs(3, "1.0"), levels: []int64{100, 450}, target: 50, wantUtilization: 45, wantAverage: containersPerPod * 450},
		{name: "MissingMetricsUnreadyScaleUp", current: 3, want: 4, readiness: []api.ConditionStatus{unready, ready, ready},
			res: cpu, requests: reqs(3, "1.0"), levels: []int64{100, 2000}, target: 50, wantUtilization: 200, wantAverage: containersPerPod * 2000},
		{name: "MissingMetricsHotCpuScaleUp", current: 3, want: 4, readiness: []api.ConditionStatus{unready, ready, ready},
			start: []string{"hot", "cool", "cool"},
			res:   cpu, requests: reqs(3, "1.0"), levels: []int64{100, 2000}, target: 50, wantUtilization: 200, wantAverage: containersPerPod * 2000},
		{name: "MissingMetricsUnreadyScaleDown", current: 4, want: 3, readiness: []api.ConditionStatus{unready, ready, ready, ready},
			res: cpu, requests: reqs(4, "1.0"), levels: []int64{100, 100, 100}, target: 50, wantUtilization: 10, wantAverage: containersPerPod * 100},
		// TestReplicaCalcComputedToleranceAlgImplementation, its two runs
		// with the figures it computes: 10 pods using 150m of about 300m
		// (50 %), a target of 56 % scales to 9, one of 55 % stays within
		// the tolerance.
		{name: "ComputedToleranceAlgImplementation/scale", current: 10, want: 9, res: cpu,
			requests: []string{"400m", "200m", "310m", "290m", "302m", "298m", "301m", "299m", "300m", "300m"},
			levels:   []int64{150, 150, 150, 150, 150, 150, 150, 150, 150, 150}, target: 56, wantUtilization: 50, wantAverage: containersPerPod * 150},
		{name: "ComputedToleranceAlgImplementation/within tolerance", current: 10, want: 10, res: cpu,
			requests: []string{"400m", "200m", "310m", "290m", "302m", "298m", "301m", "299m", "300m", "300m"},
			levels:   []int64{150, 150, 150, 150, 150, 150, 150, 150, 150, 150}, target: 55, wantUtilization: 50, wantAverage: containersPerPod * 150},

		// Per-pod average values: Kubernetes' pod-metric rows (ScaleUpCM,
		// ...), which take the plain-metric path as an averageValue target
		// does, on memory (no CPU readiness rule).
		{name: "ScaleUpCM", current: 3, want: 4, res: mem, levels: []int64{20000, 10000, 30000}, averageMilli: 15000, wantAverage: 20000},
		{name: "ScaleUpCMUnreadyHotCpuNoLessScale", current: 3, want: 6, readiness: []api.ConditionStatus{ready, ready, unready},
			start: []string{"cool", "cool", "hot"}, res: mem, levels: []int64{50000, 10000, 30000}, averageMilli: 15000, wantAverage: 30000},
		{name: "ScaleUpCMUnreadyHotCpuScaleWouldScaleDown", current: 3, want: 7, readiness: []api.ConditionStatus{unready, ready, unready},
			start: []string{"hot", "cool", "hot"}, res: mem, levels: []int64{50000, 15000, 30000}, averageMilli: 15000, wantAverage: 31666},
		{name: "ScaleDownCM", current: 5, want: 3, res: mem, levels: []int64{12000, 12000, 12000, 12000, 12000}, averageMilli: 20000, wantAverage: 12000},
		{name: "ToleranceCM", current: 3, want: 3, res: mem, levels: []int64{20000, 21000, 21000}, averageMilli: 20000, wantAverage: 20666},

		// Beyond Kubernetes' rows: the same rules on memory and averages.
		{name: "memory: unready pods count (the readiness rule is CPU's)", current: 3, want: 5,
			readiness: []api.ConditionStatus{unready, ready, ready}, res: mem, requests: reqs(3, "1000"),
			levels: []int64{300_000, 500_000, 700_000}, target: 30, wantUtilization: 50, wantAverage: containersPerPod * 500_000},
		{name: "cpu average value: missing pods count as the target on a scale-down", current: 4, want: 3, res: cpu,
			levels: []int64{100, 100}, averageMilli: 400, wantAverage: 100},
		{name: "zero replicas: no pods to scale from", current: 0, wantErr: "no pods returned by selector",
			res: cpu, levels: []int64{100}, podNames: []string{"gone"}, target: 50},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}

func (tc calcCase) run(t *testing.T) {
	t.Helper()
	calc := &ReplicaCalculator{
		Tolerance:                     DefaultTolerance,
		CPUInitializationPeriod:       testCPUInitializationPeriod,
		DelayOfInitialReadinessStatus: testDelayOfInitialReadinessStatus,
		Now:                           func() time.Time { return testNow },
	}
	pods, usage := tc.pods(t), tc.usage()
	var got Proposal
	var err error
	if tc.averageMilli > 0 {
		got, err = calc.RawResourceReplicas(tc.current, tc.averageMilli, tc.res, pods, usage)
	} else {
		got, err = calc.ResourceReplicas(tc.current, tc.target, tc.res, pods, usage)
	}
	if tc.wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("calculating replicas: %v", err)
	}
	if got.Replicas != tc.want || got.Utilization != tc.wantUtilization || got.AverageMilli != tc.wantAverage {
		t.Errorf("replicas, utilisation, average = %d, %d, %d; want %d, %d, %d",
			got.Replicas, got.Utilization, got.AverageMilli, tc.want, tc.wantUtilization, tc.wantAverage)
	}
	if !got.Timestamp.IsZero() {
		t.Errorf("timestamp = %v, want the samples' (zero)", got.Timestamp)
	}
}

// pods builds the pods as Kubernetes' test client does: as many as the
// current replicas, or as the phases given when more.
func (tc calcCase) pods(t *testing.T) []*api.Pod {
	n := max(int(tc.current), len(tc.phase))
	pods := make([]*api.Pod, n)
	for i := range pods {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("test-pod-%d", i), Namespace: "test-namespace"}}
		status := ready
		if i < len(tc.readiness) {
			status = tc.readiness[i]
		}
		start := time.Time{}
		if i < len(tc.start) {
			switch tc.start[i] {
			case "hot":
				start = testNow
			case "cool":
				start = testNow.Add(-3 * time.Minute)
			}
		}
		p.Status = api.PodStatus{Phase: api.PodRunning, StartTime: &start,
			Conditions: []api.Condition{{Type: api.PodReady, Status: status}}}
		if i < len(tc.phase) {
			p.Status.Phase = tc.phase[i]
		}
		if i < len(tc.deleting) && tc.deleting[i] {
			p.DeletionTimestamp = &testNow
		}
		p.Spec.Containers = make([]api.Container, containersPerPod)
		for c := range p.Spec.Containers {
			p.Spec.Containers[c].Name = fmt.Sprintf("container%d", c)
			if i < len(tc.requests) {
				q, err := resource.ParseQuantity(tc.requests[i])
				if err != nil {
					t.Fatalf("request %q: %v", tc.requests[i], err)
				}
				p.Spec.Containers[c].Resources.Requests = api.ResourceList{tc.res: q}
			}
		}
		pods[i] = p
	}
	return pods
}

// usage reports levels per container (utilisation rows) or per pod
// (average rows), with a zero timestamp and a one-minute window.
func (tc calcCase) usage() []*PodUsage {
	var out []*PodUsage
	for i, level := range tc.levels {
		u := &PodUsage{Name: fmt.Sprintf("test-pod-%d", i), Window: time.Minute, Containers: map[string]Usage{}}
		if i < len(tc.podNames) {
			u.Name = tc.podNames[i]
		}
		containers := containersPerPod
		if tc.averageMilli > 0 {
			containers = 1
		}
		for c := range containers {
			var use Usage
			if tc.res == api.ResourceCPU {
				use.CPUMilli = level
			} else {
				use.MemoryBytes = level / 1000
			}
			u.Containers[fmt.Sprintf("container%d", c)] = use
		}
		out = append(out, u)
	}
	return out
}

// TestGroupPods: Kubernetes' TestGroupPods rows (pods' phases, readiness
// and start times against the 2-minute CPU initialisation period and the
// 10-second delay of initial readiness).
func TestGroupPods(t *testing.T) {
	ago := func(d time.Duration) *time.Time { at := testNow.Add(-d); return &at }
	pod := func(name string, phase api.PodPhase, start *time.Time, ready *api.Condition) *api.Pod {
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name}, Status: api.PodStatus{Phase: phase, StartTime: start}}
		if ready != nil {
			p.Status.Conditions = []api.Condition{*ready}
		}
		return p
	}
	readyAt := func(status api.ConditionStatus, d time.Duration) *api.Condition {
		return &api.Condition{Type: api.PodReady, Status: status, LastTransitionTime: testNow.Add(-d)}
	}
	metric := func(tsAgo, window time.Duration) podMetric {
		return podMetric{value: 1, timestamp: testNow.Add(-tsAgo), window: window}
	}
	cases := []struct {
		name             string
		pods             []*api.Pod
		metrics          podMetricsInfo
		res              api.ResourceName
		ready            int
		ignored, missing []string
	}{
		{name: "void", res: api.ResourceCPU},
		{name: "count in a ready pod - memory", pods: []*api.Pod{pod("bentham", api.PodSucceeded, nil, nil)},
			metrics: podMetricsInfo{"bentham": metric(0, time.Minute)}, res: api.ResourceMemory, ready: 1},
		{name: "ignore a pod without ready condition - CPU", pods: []*api.Pod{pod("lucretius", api.PodSucceeded, ago(0), nil)},
			metrics: podMetricsInfo{"lucretius": {value: 1}}, res: api.ResourceCPU, ignored: []string{"lucretius"}},
		{name: "count in a ready pod with fresh metrics during initialization period - CPU",
			pods:    []*api.Pod{pod("bentham", api.PodSucceeded, ago(time.Minute), readyAt(api.ConditionTrue, 30*time.Second))},
			metrics: podMetricsInfo{"bentham": metric(0, 30*time.Second)}, res: api.ResourceCPU, ready: 1},
		{name: "ignore a ready pod without fresh metrics during initialization period - CPU",
			pods:    []*api.Pod{pod("bentham", api.PodSucceeded, ago(time.Minute), readyAt(api.ConditionTrue, 30*time.Second))},
			metrics: podMetricsInfo{"bentham": metric(0, 60*time.Second)}, res: api.ResourceCPU, ignored: []string{"bentham"}},
		{name: "ignore an unready pod during initialization period - CPU",
			pods:    []*api.Pod{pod("lucretius", api.PodSucceeded, ago(10*time.Minute), readyAt(api.ConditionFalse, 9*time.Minute+54*time.Second))},
			metrics: podMetricsInfo{"lucretius": {value: 1}}, res: api.ResourceCPU, ignored: []string{"lucretius"}},
		{name: "count in a ready pod without fresh metrics after initialization period - CPU",
			pods:    []*api.Pod{pod("bentham", api.PodSucceeded, ago(3*time.Minute), readyAt(api.ConditionTrue, 3*time.Minute))},
			metrics: podMetricsInfo{"bentham": metric(2*time.Minute, time.Minute)}, res: api.ResourceCPU, ready: 1},
		{name: "count in an unready pod that was ready after initialization period - CPU",
			pods:    []*api.Pod{pod("lucretius", api.PodSucceeded, ago(10*time.Minute), readyAt(api.ConditionFalse, 9*time.Minute))},
			metrics: podMetricsInfo{"lucretius": {value: 1}}, res: api.ResourceCPU, ready: 1},
		{name: "ignore pod that has never been ready after initialization period - CPU",
			pods:    []*api.Pod{pod("lucretius", api.PodSucceeded, ago(10*time.Minute), readyAt(api.ConditionFalse, 9*time.Minute+50*time.Second))},
			metrics: podMetricsInfo{"lucretius": {value: 1}}, res: api.ResourceCPU, ready: 1},
		{name: "a missing pod", pods: []*api.Pod{pod("epicurus", api.PodSucceeded, ago(3*time.Minute), nil)},
			metrics: podMetricsInfo{}, res: api.ResourceCPU, missing: []string{"epicurus"}},
		{name: "several pods", pods: []*api.Pod{
			pod("lucretius", api.PodSucceeded, ago(0), nil),
			pod("niccolo", api.PodSucceeded, ago(3*time.Minute), readyAt(api.ConditionTrue, 3*time.Minute)),
			pod("epicurus", api.PodSucceeded, ago(3*time.Minute), nil),
		}, metrics: podMetricsInfo{"lucretius": {value: 1}, "niccolo": {value: 1}}, res: api.ResourceCPU,
			ready: 1, ignored: []string{"lucretius"}, missing: []string{"epicurus"}},
		{name: "pending pods are ignored", pods: []*api.Pod{pod("unscheduled", api.PodPending, nil, nil)},
			metrics: podMetricsInfo{}, res: api.ResourceCPU, ignored: []string{"unscheduled"}},
	}
	calc := &ReplicaCalculator{CPUInitializationPeriod: testCPUInitializationPeriod,
		DelayOfInitialReadinessStatus: testDelayOfInitialReadinessStatus, Now: func() time.Time { return testNow }}
	set := func(names []string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ready, ignored, missing := calc.groupPods(tc.pods, tc.metrics, tc.res)
			if ready != tc.ready || !maps.Equal(ignored, set(tc.ignored)) || !maps.Equal(missing, set(tc.missing)) {
				t.Errorf("ready %d, ignored %v, missing %v; want %d, %v, %v", ready, ignored, missing, tc.ready, tc.ignored, tc.missing)
			}
		})
	}
}
