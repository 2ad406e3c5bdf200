package autoscaler_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/api/resource"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller"
	"github.com/maestro-dev/maestro/engine/controller/autoscaler"
	"github.com/maestro-dev/maestro/internal/testenv"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// fakeMetrics reports, for every running pod the selector matches, the CPU
// use set for its app (millicores per pod), sampled now.
type fakeMetrics struct {
	c     *client.Client
	mu    sync.Mutex
	usage map[string]int64 // app label -> millicores per pod
}

func (f *fakeMetrics) set(app string, milli int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usage[app] = milli
}

func (f *fakeMetrics) PodMetrics(ctx context.Context, ns string, sel labels.Selector) ([]*autoscaler.PodUsage, error) {
	pods, _, err := f.c.Pods(ns).List(ctx, client.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*autoscaler.PodUsage
	for _, p := range pods {
		if p.Status.Phase != api.PodRunning {
			continue
		}
		out = append(out, &autoscaler.PodUsage{Name: p.Name, Timestamp: time.Now(), Window: time.Millisecond,
			Containers: map[string]autoscaler.Usage{"app": {CPUMilli: f.usage[p.Labels["app"]], MemoryBytes: 1 << 20}}})
	}
	return out, nil
}

type env struct {
	Client  *client.Client
	Ctx     context.Context
	metrics *fakeMetrics
}

// start runs a cluster whose autoscalers sync every 100 ms on fake metrics.
func start(t *testing.T) *env {
	t.Helper()
	e := &env{metrics: &fakeMetrics{usage: map[string]int64{}}}
	c := cluster.Start(t, func(o *cluster.Options) {
		o.Manager.Autoscaler = autoscaler.Config{SyncPeriod: 100 * time.Millisecond, CPUInitializationPeriod: time.Millisecond, Metrics: e.metrics}
	})
	e.Client, e.Ctx, e.metrics.c = c.Client, c.Ctx, c.Client
	c.AddNodes(t, "node-", 2)
	return e
}

// startAlone runs the API server and this controller alone, without a
// metrics source (the manager would plug the pipeline in).
func startAlone(t *testing.T) *env {
	t.Helper()
	te := testenv.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d := controller.Deps{Client: te.Client, Log: testenv.Logger(t)}.WithDefaults()
	ctl := autoscaler.New(d, autoscaler.Config{SyncPeriod: 100 * time.Millisecond})
	go controller.RunAll(ctx, d, []controller.Runnable{ctl})
	return &env{Client: te.Client, Ctx: ctx}
}

// deploy creates a deployment of n pods requesting 100m of CPU each.
func (e *env) deploy(t *testing.T, name string, n int32) {
	t.Helper()
	lbl := map[string]string{"app": name}
	d := &api.Deployment{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: api.DeploymentSpec{Replicas: api.Ptr(n), Selector: &api.LabelSelector{MatchLabels: lbl},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: lbl},
				Spec: api.PodSpec{Containers: []api.Container{{Name: "app", Image: "demo:1",
					Resources: api.ResourceRequirements{Requests: api.ResourceList{
						api.ResourceCPU: resource.MustParse("100m"), api.ResourceMemory: resource.MustParse("64Mi")}}}}}}}}
	if _, err := e.Client.Deployments("default").Create(e.Ctx, d); err != nil {
		t.Fatal(err)
	}
}

// autoscale creates an autoscaler of the named deployment at 50 % CPU.
func (e *env) autoscale(t *testing.T, name string, min, max int32, edit ...func(*api.AutoscalerSpec)) {
	t.Helper()
	a := &api.Autoscaler{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, Spec: api.AutoscalerSpec{
		ScaleTargetRef: api.ScaleTargetRef{Kind: "Deployment", Name: name}, MinReplicas: api.Ptr(min), MaxReplicas: max,
		Metrics: []api.MetricSpec{{Resource: api.ResourceMetricSource{Name: api.ResourceCPU,
			Target: api.MetricTarget{Type: api.UtilizationMetric, AverageUtilization: api.Ptr[int32](50)}}}}}}
	for _, f := range edit {
		f(&a.Spec)
	}
	if _, err := e.Client.Autoscalers("default").Create(e.Ctx, a); err != nil {
		t.Fatal(err)
	}
}

func (e *env) replicas(t *testing.T, name string) int32 {
	t.Helper()
	d, err := e.Client.Deployments("default").Get(e.Ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return api.Deref(d.Spec.Replicas, 1)
}

// waitStatus waits until the autoscaler's status satisfies ok.
func (e *env) waitStatus(t *testing.T, name, what string, ok func(api.AutoscalerStatus) bool) api.AutoscalerStatus {
	t.Helper()
	var st api.AutoscalerStatus
	cluster.Eventually(t, 30*time.Second, name+": "+what, func() (bool, string) {
		a, err := e.Client.Autoscalers("default").Get(e.Ctx, name)
		if err != nil {
			return false, err.Error()
		}
		st = a.Status
		return ok(st), describe(st)
	})
	return st
}

func describe(st api.AutoscalerStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "current %d desired %d;", st.CurrentReplicas, st.DesiredReplicas)
	for _, c := range st.Conditions {
		fmt.Fprintf(&b, " %s=%s (%s: %s)", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

func cond(st api.AutoscalerStatus, typ string, status api.ConditionStatus, reason string) bool {
	c := api.FindCondition(st.Conditions, typ)
	return c != nil && c.Status == status && c.Reason == reason
}

// waitEvent waits for an event of the reason about the named autoscaler
// (the recorder sends events in the background).
func (e *env) waitEvent(t *testing.T, name, reason string) {
	t.Helper()
	cluster.Eventually(t, 10*time.Second, name+": event "+reason, func() (bool, string) {
		evs, _, err := e.Client.Events("default").List(e.Ctx, client.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, ev := range evs {
			if ev.InvolvedObject.Name == name && ev.Reason == reason {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(evs))
	})
}

// TestAutoscalerScalesUpToMax: pods at 150 % of their CPU request (target
// 50 %) are scaled up, the status reports the utilisation, the rescale and
// its event; at max the autoscaler says it is limited (TooManyReplicas).
func TestAutoscalerScalesUpToMax(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.deploy(t, "web", 1)
	e.metrics.set("web", 150)
	e.autoscale(t, "web", 1, 5)

	st := e.waitStatus(t, "web", "scaled to max and limited", func(st api.AutoscalerStatus) bool {
		return st.DesiredReplicas == 5 && cond(st, api.AutoscalerScalingLimited, api.ConditionTrue, api.ReasonTooManyReplicas)
	})
	if got := e.replicas(t, "web"); got != 5 {
		t.Errorf("deployment replicas = %d, want 5 (max)", got)
	}
	if !cond(st, api.AutoscalerScalingActive, api.ConditionTrue, api.ReasonValidMetricFound) {
		t.Errorf("ScalingActive: %s", describe(st))
	}
	if st.LastScaleTime == nil || len(st.CurrentMetrics) != 1 || api.Deref(st.CurrentMetrics[0].AverageUtilization, 0) != 150 {
		t.Errorf("status: last scale %v, metrics %+v; want a scale time and cpu at 150 %%", st.LastScaleTime, st.CurrentMetrics)
	}
	e.waitEvent(t, "web", api.ReasonSuccessfulRescale)
}

// TestAutoscalerScaleDownStabilization: with load gone, the autoscaler
// holds the count for the scale-down window (reporting ScaleDownStabilized),
// then scales down, to min and no further (TooFewReplicas).
func TestAutoscalerScaleDownStabilization(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.deploy(t, "api", 4)
	e.metrics.set("api", 5) // 5 % of the request: proposes 1
	e.autoscale(t, "api", 2, 6, func(s *api.AutoscalerSpec) {
		s.Behavior = &api.AutoscalerBehavior{ScaleDown: &api.ScalingRules{StabilizationWindowSeconds: api.Ptr[int32](2)}}
	})
	st := e.waitStatus(t, "api", "scale-down held by the window", func(st api.AutoscalerStatus) bool {
		return cond(st, api.AutoscalerAbleToScale, api.ConditionTrue, api.ReasonScaleDownStabilized)
	})
	if st.DesiredReplicas != 4 {
		t.Errorf("within the window: desired %d, want 4 (%s)", st.DesiredReplicas, describe(st))
	}
	st = e.waitStatus(t, "api", "scaled down to min", func(st api.AutoscalerStatus) bool {
		return st.DesiredReplicas == 2 && cond(st, api.AutoscalerScalingLimited, api.ConditionTrue, api.ReasonTooFewReplicas)
	})
	if got := e.replicas(t, "api"); got != 2 {
		t.Errorf("deployment replicas = %d, want 2 (min)", got)
	}
}

// TestAutoscalerPolicies: a scale-up policy of 1 pod per minute lets the
// count grow by one and then reports ScaleUpLimit; a deployment below min
// is raised to min without metrics.
func TestAutoscalerPolicies(t *testing.T) {
	t.Parallel()
	e := start(t)
	e.deploy(t, "slow", 1)
	e.metrics.set("slow", 400)
	e.autoscale(t, "slow", 1, 10, func(s *api.AutoscalerSpec) {
		s.Behavior = &api.AutoscalerBehavior{ScaleUp: &api.ScalingRules{
			Policies: []api.ScalingPolicy{{Type: api.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}}}}
	})
	st := e.waitStatus(t, "slow", "limited by the policy", func(st api.AutoscalerStatus) bool {
		return st.CurrentReplicas == 2 && cond(st, api.AutoscalerScalingLimited, api.ConditionTrue, api.ReasonScaleUpLimit)
	})
	if st.DesiredReplicas != 2 || e.replicas(t, "slow") != 2 {
		t.Errorf("desired %d, deployment %d; want 2 (one pod per minute)", st.DesiredReplicas, e.replicas(t, "slow"))
	}

	e.deploy(t, "small", 1)
	e.metrics.set("small", 50)
	e.autoscale(t, "small", 3, 4)
	cluster.Eventually(t, 30*time.Second, "deployment below min raised to min", func() (bool, string) {
		got := e.replicas(t, "small")
		return got == 3, fmt.Sprintf("replicas %d", got)
	})
}

// TestAutoscalerWithoutMetrics: without a metrics source the autoscaler
// says so (ScalingActive False, FailedGetResourceMetric) and leaves the
// target alone; a missing target is reported as FailedGetScale.
func TestAutoscalerWithoutMetrics(t *testing.T) {
	t.Parallel()
	e := startAlone(t)
	e.deploy(t, "web", 2)
	e.autoscale(t, "web", 1, 5)
	st := e.waitStatus(t, "web", "inactive", func(st api.AutoscalerStatus) bool {
		return cond(st, api.AutoscalerScalingActive, api.ConditionFalse, api.ReasonFailedGetResourceMetric)
	})
	if c := api.FindCondition(st.Conditions, api.AutoscalerScalingActive); !strings.Contains(c.Message, "no metrics pipeline") {
		t.Errorf("ScalingActive message %q, want it to name the missing metrics pipeline", c.Message)
	}
	if got := e.replicas(t, "web"); got != 2 {
		t.Errorf("replicas %d, want 2 (untouched)", got)
	}
	e.waitEvent(t, "web", api.ReasonFailedGetResourceMetric)

	e.autoscale(t, "ghost", 1, 5)
	e.waitStatus(t, "ghost", "target missing", func(st api.AutoscalerStatus) bool {
		return cond(st, api.AutoscalerAbleToScale, api.ConditionFalse, api.ReasonFailedGetScale)
	})
}
