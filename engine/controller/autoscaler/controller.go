package autoscaler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/controller"
)

// DefaultSyncPeriod is how often every autoscaler is reconciled
// (Kubernetes' --horizontal-pod-autoscaler-sync-period).
const DefaultSyncPeriod = 15 * time.Second

// Config tunes the autoscaler. Zero values take Kubernetes' defaults.
type Config struct {
	// SyncPeriod is how often each autoscaler is reconciled.
	SyncPeriod time.Duration
	// Tolerance, CPUInitializationPeriod, DelayOfInitialReadinessStatus:
	// see ReplicaCalculator.
	Tolerance                     float64
	CPUInitializationPeriod       time.Duration
	DelayOfInitialReadinessStatus time.Duration
	// Metrics is the usage source; nil leaves every autoscaler inactive
	// (ScalingActive False, FailedGetResourceMetric: no metrics pipeline).
	Metrics Metrics
}

func (c Config) withDefaults() Config {
	if c.SyncPeriod <= 0 {
		c.SyncPeriod = DefaultSyncPeriod
	}
	if c.Tolerance <= 0 {
		c.Tolerance = DefaultTolerance
	}
	if c.CPUInitializationPeriod <= 0 {
		c.CPUInitializationPeriod = DefaultCPUInitializationPeriod
	}
	if c.DelayOfInitialReadinessStatus <= 0 {
		c.DelayOfInitialReadinessStatus = DefaultDelayOfInitialReadinessStatus
	}
	return c
}

// Controller reconciles Autoscalers: every sync period, and when one's
// spec changes.
type Controller struct {
	d           controller.Deps
	cfg         Config
	log         *slog.Logger
	autoscalers *client.Informer[*api.Autoscaler]
	deployments *client.Informer[*api.Deployment]
	replicaSets *client.Informer[*api.ReplicaSet]
	pods        *client.Informer[*api.Pod]
	calc        *ReplicaCalculator
	runner      *controller.Runner

	mu      sync.Mutex
	history map[string]*history // by autoscaler key
}

// New registers the controller's informer handlers.
func New(d controller.Deps, cfg Config) *Controller {
	d = d.WithDefaults()
	cfg = cfg.withDefaults()
	c := &Controller{d: d, cfg: cfg, log: d.Log.With("controller", "autoscaler"),
		autoscalers: controller.InformerFor[*api.Autoscaler](d.Informers),
		deployments: d.Informers.Deployments(), replicaSets: d.Informers.ReplicaSets(), pods: d.Informers.Pods(),
		calc: &ReplicaCalculator{Tolerance: cfg.Tolerance, CPUInitializationPeriod: cfg.CPUInitializationPeriod,
			DelayOfInitialReadinessStatus: cfg.DelayOfInitialReadinessStatus, Now: d.Now},
		history: map[string]*history{}}
	c.runner = controller.NewRunner("autoscaler", d.Config.Workers, d.Log, c.reconcile)
	// Our own status writes do not re-run the loop: only new autoscalers,
	// spec changes (a new generation) and the sync period do.
	c.autoscalers.AddHandler(client.Handler[*api.Autoscaler]{
		OnAdd: func(a *api.Autoscaler) { c.runner.Enqueue(a) },
		OnUpdate: func(old, a *api.Autoscaler) {
			if old.Generation != a.Generation {
				c.runner.Enqueue(a)
			}
		},
		OnDelete: func(a *api.Autoscaler) { c.runner.Enqueue(a) },
	})
	return c
}

// Run reconciles autoscalers until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	go func() {
		t := time.NewTicker(c.cfg.SyncPeriod)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				for _, a := range c.autoscalers.List() {
					c.runner.Enqueue(a)
				}
			}
		}
	}()
	c.runner.Run(ctx)
}

// reconcile reads the target's scale, computes the replica count from the
// metrics, bounds and behaviour, writes it, and reports status.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	a, ok := c.autoscalers.Get(key)
	if !ok || a.DeletionTimestamp != nil {
		c.mu.Lock()
		delete(c.history, key)
		c.mu.Unlock()
		return nil
	}
	now := c.d.Now()
	spec := effectiveSpec(a)
	st := api.AutoscalerStatus{ObservedGeneration: a.Generation, LastScaleTime: a.Status.LastScaleTime,
		CurrentReplicas: a.Status.CurrentReplicas, DesiredReplicas: a.Status.DesiredReplicas,
		CurrentMetrics: a.Status.CurrentMetrics, Conditions: slices.Clone(a.Status.Conditions)}
	// Conditions are decided in steps and applied once, at the end, so that
	// an unchanged outcome leaves the status (and etcd) alone.
	conds := map[string]api.Condition{}
	set := func(typ string, status api.ConditionStatus, reason, message string) {
		conds[typ] = api.Condition{Type: typ, Status: status, Reason: reason, Message: message}
	}
	write := func() error {
		for _, typ := range []string{api.AutoscalerAbleToScale, api.AutoscalerScalingActive, api.AutoscalerScalingLimited} {
			if cond, ok := conds[typ]; ok {
				api.SetCondition(&st.Conditions, cond, now)
			}
		}
		return c.writeStatus(ctx, a, st)
	}

	current, selector, err := c.scaleOf(a)
	if err != nil {
		set(api.AutoscalerAbleToScale, api.ConditionFalse, api.ReasonFailedGetScale, "the HPA controller was unable to get the target's current scale: "+err.Error())
		c.d.Recorder.Eventf(a, api.EventWarning, api.ReasonFailedGetScale, "%v", err)
		return errors.Join(err, write())
	}
	set(api.AutoscalerAbleToScale, api.ConditionTrue, api.ReasonSucceededGetScale, "the HPA controller was able to get the target's current scale")
	st.CurrentReplicas = current

	desired, reason, err := c.desiredReplicas(ctx, a, &spec, current, selector, &st, set, now)
	if err != nil {
		c.d.Recorder.Eventf(a, api.EventWarning, api.ReasonFailedComputeMetricsReplicas, "%v", err)
		return errors.Join(err, write())
	}
	if desired != current {
		if err := c.writeScaleRetrying(ctx, a, desired); err != nil {
			set(api.AutoscalerAbleToScale, api.ConditionFalse, api.ReasonFailedUpdateScale, "the HPA controller was unable to update the target scale: "+err.Error())
			c.d.Recorder.Eventf(a, api.EventWarning, api.ReasonFailedRescale, "New size: %d; reason: %s; error: %v", desired, reason, err)
			return errors.Join(err, write())
		}
		set(api.AutoscalerAbleToScale, api.ConditionTrue, api.ReasonSucceededRescale, fmt.Sprintf("the HPA controller was able to update the target scale to %d", desired))
		c.d.Recorder.Eventf(a, api.EventNormal, api.ReasonSuccessfulRescale, "New size: %d; reason: %s", desired, reason)
		c.log.Info("rescaled", "namespace", a.Namespace, "autoscaler", a.Name, "target", a.Spec.ScaleTargetRef.Name,
			"from", current, "to", desired, "reason", reason)
		c.historyOf(key, func(h *history) { h.recordScale(now, &spec, current, desired) })
		st.LastScaleTime = &now
	}
	st.DesiredReplicas = desired
	return write()
}

// desiredReplicas decides the count to apply and why (Kubernetes'
// reconcileAutoscaler): a target at 0 is left alone; a count outside the
// bounds is brought within them; otherwise the metrics' proposal goes
// through the behaviour.
func (c *Controller) desiredReplicas(ctx context.Context, a *api.Autoscaler, spec *api.AutoscalerSpec, current int32, selector labels.Selector,
	st *api.AutoscalerStatus, set func(string, api.ConditionStatus, string, string), now time.Time) (int32, string, error) {
	minReplicas := api.Deref(spec.MinReplicas, 1)
	switch {
	case current == 0 && minReplicas != 0:
		set(api.AutoscalerScalingActive, api.ConditionFalse, api.ReasonScalingDisabled, "scaling is disabled since the replica count of the target is zero")
		st.CurrentMetrics = nil
		return 0, "", nil
	case current > spec.MaxReplicas:
		return spec.MaxReplicas, "Current number of replicas above Spec.MaxReplicas", nil
	case current < minReplicas:
		return minReplicas, "Current number of replicas below Spec.MinReplicas", nil
	}
	res, err := c.computeReplicas(ctx, a, spec, current, selector, c.podsOf(a.Namespace, selector))
	st.CurrentMetrics = res.statuses
	set(res.active.Type, res.active.Status, res.active.Reason, res.active.Message)
	if err != nil {
		return current, "", err
	}
	var v verdict
	c.historyOf(a.Key(), func(h *history) { v = h.normalize(now, spec, current, res.replicas) })
	set(api.AutoscalerAbleToScale, api.ConditionTrue, v.ableReason, v.ableMessage)
	limited := api.ConditionFalse
	if v.limited {
		limited = api.ConditionTrue
	}
	set(api.AutoscalerScalingLimited, limited, v.limitedReason, v.limitedMessage)
	direction := "above"
	if v.replicas < current {
		direction = "below"
	}
	return v.replicas, fmt.Sprintf("%s %s target", res.metric, direction), nil
}

func (c *Controller) historyOf(key string, fn func(*history)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.history[key]
	if h == nil {
		h = &history{}
		c.history[key] = h
	}
	fn(h)
}

// scaleOf reads the target's replicas and pod selector from the caches.
func (c *Controller) scaleOf(a *api.Autoscaler) (int32, labels.Selector, error) {
	ref := a.Spec.ScaleTargetRef
	key := api.Key(a.Namespace, ref.Name)
	var replicas *int32
	var sel *api.LabelSelector
	switch ref.Kind {
	case "Deployment":
		d, ok := c.deployments.Get(key)
		if !ok {
			return 0, nil, fmt.Errorf("deployment %s not found", key)
		}
		replicas, sel = d.Spec.Replicas, d.Spec.Selector
	case "ReplicaSet":
		rs, ok := c.replicaSets.Get(key)
		if !ok {
			return 0, nil, fmt.Errorf("replica set %s not found", key)
		}
		replicas, sel = rs.Spec.Replicas, rs.Spec.Selector
	default:
		return 0, nil, fmt.Errorf("unsupported target kind %q", ref.Kind)
	}
	selector, err := api.AsSelector(sel)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: invalid selector: %w", ref.Kind, key, err)
	}
	return api.Deref(replicas, 1), selector, nil
}

// podsOf lists the namespace's pods the selector matches.
func (c *Controller) podsOf(namespace string, selector labels.Selector) []*api.Pod {
	var out []*api.Pod
	for _, p := range c.pods.ByIndex(controller.IndexNamespace, namespace) {
		if selector.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// writeScaleRetrying retries writeScale when the target changed between
// the read and the write (the deployment controller writes it too).
func (c *Controller) writeScaleRetrying(ctx context.Context, a *api.Autoscaler, replicas int32) error {
	var err error
	for range 3 {
		if err = c.writeScale(ctx, a, replicas); !api.IsConflict(err) {
			return err
		}
	}
	return err
}

// writeScale sets the target's replicas (read fresh: the caches' copies
// are shared).
func (c *Controller) writeScale(ctx context.Context, a *api.Autoscaler, replicas int32) error {
	ref := a.Spec.ScaleTargetRef
	switch ref.Kind {
	case "Deployment":
		res := c.d.Client.Deployments(a.Namespace)
		d, err := res.Get(ctx, ref.Name)
		if err != nil {
			return fmt.Errorf("reading deployment %s/%s: %w", a.Namespace, ref.Name, err)
		}
		d.Spec.Replicas = &replicas
		if _, err := res.Update(ctx, d); err != nil {
			return fmt.Errorf("scaling deployment %s/%s to %d: %w", a.Namespace, ref.Name, replicas, err)
		}
	case "ReplicaSet":
		res := c.d.Client.ReplicaSets(a.Namespace)
		rs, err := res.Get(ctx, ref.Name)
		if err != nil {
			return fmt.Errorf("reading replica set %s/%s: %w", a.Namespace, ref.Name, err)
		}
		rs.Spec.Replicas = &replicas
		if _, err := res.Update(ctx, rs); err != nil {
			return fmt.Errorf("scaling replica set %s/%s to %d: %w", a.Namespace, ref.Name, replicas, err)
		}
	}
	return nil
}

// writeStatus writes the status when it changed.
func (c *Controller) writeStatus(ctx context.Context, a *api.Autoscaler, st api.AutoscalerStatus) error {
	if reflect.DeepEqual(a.Status, st) {
		return nil
	}
	up := *a
	up.Status = st
	if _, err := c.d.Client.Autoscalers(a.Namespace).UpdateStatus(ctx, &up); err != nil && !api.IsNotFound(err) {
		return fmt.Errorf("writing the status of autoscaler %s/%s: %w", a.Namespace, a.Name, err)
	}
	return nil
}

// effectiveSpec is the spec with the API's defaults filled in, without
// touching the cached object.
func effectiveSpec(a *api.Autoscaler) api.AutoscalerSpec {
	cp := &api.Autoscaler{Spec: a.Spec}
	if b := a.Spec.Behavior; b != nil {
		nb := *b
		if b.ScaleUp != nil {
			r := *b.ScaleUp
			nb.ScaleUp = &r
		}
		if b.ScaleDown != nil {
			r := *b.ScaleDown
			nb.ScaleDown = &r
		}
		cp.Spec.Behavior = &nb
	}
	api.Default(cp)
	return cp.Spec
}
