package controller

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/client/record"
)

// Deployment controller: rolls pods from one template to the next through
// replica sets (one per template, named <deployment>-<template hash>),
// keeping revision history, rolling back on request, pausing, and
// reporting progress against a deadline. The files:
//
//	deployment.go          controller, handlers, reconcile, claiming, writes
//	deployment_sync.go     new/old replica sets, revisions, rollback, history, proportional scaling
//	deployment_rolling.go  RollingUpdate and Recreate, and their arithmetic
//	deployment_status.go   status, Available and Progressing conditions
//
// The flow of one reconcile follows Kubernetes' deployment controller:
// deleting -> status only; paused -> scale only; rollback requested ->
// rollback; spec.replicas changed -> proportional scale; otherwise one
// step of the strategy. Every step ends by writing status when it changed.

// Annotations the controller keeps on replica sets (besides the revision):
// the deployment's replicas and replicas+maxSurge when it last sized them,
// so a change of spec.replicas is told from a rollout and scaled in
// proportion.
const (
	deployDesiredReplicasAnnotation = "deployment.maestro.dev/desired-replicas"
	deployMaxReplicasAnnotation     = "deployment.maestro.dev/max-replicas"
)

// Reasons of conditions and events that api does not name.
const (
	deployReasonNewRSCreated      = "NewReplicaSetCreated"
	deployReasonFoundNewRS        = "FoundNewReplicaSet"
	deployReasonRSCreateError     = "ReplicaSetCreateError"
	deployReasonScaling           = "ScalingReplicaSet"
	deployReasonRollback          = "DeploymentRollback"
	deployReasonRollbackNotFound  = "RollbackRevisionNotFound"
	deployReasonRollbackUnchanged = "RollbackTemplateUnchanged"
	deployReasonInvalidStrategy   = "InvalidStrategy"
	deployReasonHashCollision     = "ReplicaSetHashCollision"
	deployConditionReplicaFailure = rsReplicaFailure
)

const (
	// deployProgressRequeueSlack puts the deadline check just past the deadline.
	deployProgressRequeueSlack = 10 * time.Millisecond
	// deployDefaultRollingPercentage is the API default of maxSurge and
	// maxUnavailable, for objects that somehow lack it.
	deployDefaultRollingPercentage = "25%"
)

// DeploymentController converges deployments through replica sets.
type DeploymentController struct {
	client      *client.Client
	deployments *client.Informer[*api.Deployment]
	rss         *client.Informer[*api.ReplicaSet]
	pods        *client.Informer[*api.Pod]
	runner      *Runner
	recorder    *record.Recorder
	log         *slog.Logger
	now         func() time.Time
}

// NewDeploymentController builds the controller and registers its handlers.
func NewDeploymentController(d Deps) *DeploymentController {
	d = d.withDefaults()
	c := &DeploymentController{
		client: d.Client, deployments: d.Informers.Deployments(), rss: d.Informers.ReplicaSets(), pods: d.Informers.Pods(),
		recorder: d.Recorder, log: d.Log.With("controller", "deployment"), now: d.Now,
	}
	c.runner = NewRunner("deployment", d.Config.Workers, d.Log, c.reconcile)
	c.deployments.AddHandler(Handler[*api.Deployment](c.runner))
	c.rss.AddHandler(client.Handler[*api.ReplicaSet]{OnAdd: c.rsAdded, OnUpdate: c.rsUpdated, OnDelete: c.rsDeleted})
	c.pods.AddHandler(client.Handler[*api.Pod]{OnDelete: c.podDeleted})
	return c
}

// Run reconciles deployments until ctx ends.
func (c *DeploymentController) Run(ctx context.Context) { c.runner.Run(ctx) }

// reconcile converges one deployment by one step.
func (c *DeploymentController) reconcile(ctx context.Context, key string) error {
	cached, ok := c.deployments.Get(key)
	if !ok {
		return nil
	}
	if _, _, err := deployFenceposts(cached); err != nil {
		// Validation should have refused it; retrying cannot help.
		c.recorder.Eventf(cached, api.EventWarning, deployReasonInvalidStrategy, "Invalid rolling update parameters: %v", err)
		return nil
	}
	rsList, err := c.claimReplicaSets(ctx, cached)
	if err != nil {
		return err
	}
	p := &deployPass{c: c, cached: cached, d: deployCopy(cached), rsList: rsList}
	if cached.DeletionTimestamp != nil {
		return p.syncStatusOnly(ctx)
	}
	p.setPausedCondition()
	switch {
	case cached.Spec.Paused:
		return p.syncScale(ctx)
	case deployHasRollback(cached):
		return p.rollback(ctx)
	}
	scaling, err := p.isScalingEvent(ctx)
	switch {
	case err != nil:
		return err
	case scaling:
		return p.syncScale(ctx)
	case cached.Spec.Strategy.Type == api.RecreateStrategy:
		return p.rolloutRecreate(ctx)
	}
	return p.rolloutRolling(ctx)
}

// deployHasRollback reports whether a rollback is requested (the
// annotation may be present with an empty value: "the previous revision").
func deployHasRollback(d *api.Deployment) bool {
	_, ok := d.Annotations[api.AnnotationRollbackTo]
	return ok
}

// --- event handlers ---

func (c *DeploymentController) rsAdded(rs *api.ReplicaSet) {
	if ref := rs.ControllerRef(); ref != nil {
		if d := c.resolveRef(rs.Namespace, ref); d != nil {
			c.runner.Enqueue(d)
		}
		return
	}
	c.enqueueMatching(rs)
}

func (c *DeploymentController) rsUpdated(old, cur *api.ReplicaSet) {
	if old.ResourceVersion == cur.ResourceVersion {
		return
	}
	oldRef, curRef := old.ControllerRef(), cur.ControllerRef()
	if oldRef != nil && (curRef == nil || oldRef.UID != curRef.UID) {
		if d := c.resolveRef(old.Namespace, oldRef); d != nil {
			c.runner.Enqueue(d)
		}
	}
	if curRef != nil {
		if d := c.resolveRef(cur.Namespace, curRef); d != nil {
			c.runner.Enqueue(d)
		}
		return
	}
	if oldRef != nil || !maps.Equal(old.Labels, cur.Labels) {
		c.enqueueMatching(cur)
	}
}

func (c *DeploymentController) rsDeleted(rs *api.ReplicaSet) {
	if ref := rs.ControllerRef(); ref != nil {
		if d := c.resolveRef(rs.Namespace, ref); d != nil {
			c.runner.Enqueue(d)
		}
	}
}

// podDeleted wakes a Recreate deployment waiting for its old pods to go.
func (c *DeploymentController) podDeleted(p *api.Pod) {
	ref := p.ControllerRef()
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	rs, ok := c.rss.Get(api.Key(p.Namespace, ref.Name))
	if !ok || rs.UID != ref.UID {
		return
	}
	if dref := rs.ControllerRef(); dref != nil {
		if d := c.resolveRef(rs.Namespace, dref); d != nil && d.Spec.Strategy.Type == api.RecreateStrategy {
			c.runner.Enqueue(d)
		}
	}
}

func (c *DeploymentController) resolveRef(namespace string, ref *api.OwnerReference) *api.Deployment {
	if ref.Kind != "Deployment" {
		return nil
	}
	d, ok := c.deployments.Get(api.Key(namespace, ref.Name))
	if !ok || d.UID != ref.UID {
		return nil
	}
	return d
}

func (c *DeploymentController) enqueueMatching(rs *api.ReplicaSet) {
	if rs.DeletionTimestamp != nil {
		return
	}
	for _, d := range c.deployments.ByIndex(IndexNamespace, rs.Namespace) {
		if sel, err := api.AsSelector(d.Spec.Selector); err == nil && sel.Matches(labels.Set(rs.Labels)) {
			c.runner.Enqueue(d)
		}
	}
}

// claimReplicaSets returns the replica sets d owns after adopting matching
// orphans and releasing those that no longer match.
func (c *DeploymentController) claimReplicaSets(ctx context.Context, d *api.Deployment) ([]*api.ReplicaSet, error) {
	sel, err := api.AsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s: invalid selector: %w", d.Key(), err)
	}
	return claim(ctx, d, sel, c.rss.ByIndex(IndexNamespace, d.Namespace), c.client.ReplicaSets(d.Namespace),
		func(ctx context.Context) error { return c.canAdopt(ctx, d) })
}

// canAdopt re-reads d from the API before adopting for it.
func (c *DeploymentController) canAdopt(ctx context.Context, d *api.Deployment) error {
	fresh, err := c.client.Deployments(d.Namespace).Get(ctx, d.Name)
	if err == nil && (fresh.UID != d.UID || fresh.DeletionTimestamp != nil) {
		err = fmt.Errorf("deployment %s is gone or being deleted; not adopting", d.Key())
	}
	return err
}

// --- one reconcile pass ---

// deployPass is the state of one reconcile: the deployment as cached, a
// working copy that collects changes to annotations, spec and status, and
// the replica sets sorted into the new one and the old ones.
type deployPass struct {
	c      *DeploymentController
	cached *api.Deployment
	d      *api.Deployment
	rsList []*api.ReplicaSet

	resolved bool
	newRS    *api.ReplicaSet
	oldRSs   []*api.ReplicaSet
}

// deployCopy copies what a pass may change, so the cached object stays intact.
func deployCopy(d *api.Deployment) *api.Deployment {
	cp := *d
	cp.Annotations = maps.Clone(d.Annotations)
	cp.Status.Conditions = slices.Clone(d.Status.Conditions)
	if d.Status.CollisionCount != nil {
		cp.Status.CollisionCount = api.Ptr(*d.Status.CollisionCount)
	}
	return &cp
}

func (p *deployPass) now() time.Time { return p.c.now().UTC() }

// allRSs is the new replica set (if any) and the old ones.
func (p *deployPass) allRSs() []*api.ReplicaSet {
	if p.newRS == nil {
		return slices.Clone(p.oldRSs)
	}
	return append(slices.Clone(p.oldRSs), p.newRS)
}

// replaceRS swaps in the stored version of a replica set this pass wrote.
func (p *deployPass) replaceRS(rs *api.ReplicaSet) {
	swap := func(list []*api.ReplicaSet) {
		for i := range list {
			if list[i].UID == rs.UID {
				list[i] = rs
			}
		}
	}
	swap(p.rsList)
	swap(p.oldRSs)
	if p.newRS != nil && p.newRS.UID == rs.UID {
		p.newRS = rs
	}
}

// updateMeta writes the working copy's metadata and spec after mutate.
func (p *deployPass) updateMeta(ctx context.Context, mutate func(*api.Deployment)) error {
	cp := *p.d
	cp.Annotations = maps.Clone(p.d.Annotations)
	mutate(&cp)
	updated, err := p.c.client.Deployments(cp.Namespace).Update(ctx, &cp)
	if err != nil {
		return fmt.Errorf("updating deployment %s: %w", p.d.Key(), err)
	}
	p.d.ObjectMeta = updated.ObjectMeta
	p.d.Spec = updated.Spec
	return nil
}

// setRevision records the new replica set's revision on the deployment.
func (p *deployPass) setRevision(ctx context.Context, revision string) error {
	if revision == "" || p.d.Annotations[api.AnnotationRevision] == revision {
		return nil
	}
	return p.updateMeta(ctx, func(d *api.Deployment) {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[api.AnnotationRevision] = revision
	})
}

// writeStatus stores the working status when it differs from the cached one.
func (p *deployPass) writeStatus(ctx context.Context) error {
	if rsJSONEqual(p.cached.Status, p.d.Status) {
		return nil
	}
	if _, err := p.c.client.Deployments(p.d.Namespace).UpdateStatus(ctx, p.d); err != nil {
		return fmt.Errorf("updating status of deployment %s: %w", p.d.Key(), err)
	}
	return nil
}

// scaleRS sets a replica set's size and the deployment-size annotations.
// It reports whether the size changed.
func (p *deployPass) scaleRS(ctx context.Context, rs *api.ReplicaSet, size int32) (bool, error) {
	replicas := deployReplicas(p.d)
	desired := strconv.Itoa(int(replicas))
	maxReplicas := strconv.Itoa(int(replicas + deployMaxSurge(p.d)))
	from := deployRSReplicas(rs)
	if from == size && rs.Annotations[deployDesiredReplicasAnnotation] == desired && rs.Annotations[deployMaxReplicasAnnotation] == maxReplicas {
		return false, nil
	}
	cp := *rs
	cp.Annotations = maps.Clone(rs.Annotations)
	if cp.Annotations == nil {
		cp.Annotations = map[string]string{}
	}
	cp.Annotations[deployDesiredReplicasAnnotation] = desired
	cp.Annotations[deployMaxReplicasAnnotation] = maxReplicas
	cp.Spec.Replicas = api.Ptr(size)
	updated, err := p.c.client.ReplicaSets(rs.Namespace).Update(ctx, &cp)
	if err != nil {
		return false, fmt.Errorf("scaling replica set %s to %d: %w", rs.Key(), size, err)
	}
	p.replaceRS(updated)
	if from == size {
		return false, nil
	}
	direction := "up"
	if size < from {
		direction = "down"
	}
	p.c.log.Debug("scaled replica set", "deployment", p.d.Name, "namespace", p.d.Namespace, "replicaset", rs.Name, "from", from, "to", size)
	p.c.recorder.Eventf(p.d, api.EventNormal, deployReasonScaling, "Scaled %s replica set %s to %d from %d", direction, rs.Name, size, from)
	return true, nil
}

// finish computes the status from the replica sets, estimates progress
// when a rollout step ran, writes the status and schedules the deadline check.
func (p *deployPass) finish(ctx context.Context, estimateProgress bool) error {
	now := p.now()
	st := deployCalculateStatus(p.d, p.allRSs(), p.newRS, now)
	var wait time.Duration
	if estimateProgress {
		wait = deployProgress(p.d, &st, p.newRS, now)
	}
	p.d.Status = st
	if err := p.writeStatus(ctx); err != nil {
		return err
	}
	if wait > 0 {
		p.c.runner.EnqueueAfter(p.d.Key(), wait+deployProgressRequeueSlack)
	}
	return nil
}

// syncStatusOnly reports status without changing anything (deployment
// being deleted).
func (p *deployPass) syncStatusOnly(ctx context.Context) error {
	if err := p.resolve(ctx, false); err != nil {
		return err
	}
	return p.finish(ctx, false)
}

// setPausedCondition marks the Progressing condition paused or resumed,
// so the time spent paused never counts against the progress deadline.
// A reported deadline failure is kept.
func (p *deployPass) setPausedCondition() {
	d := p.d
	if d.Spec.ProgressDeadlineSeconds == nil {
		return
	}
	cond := api.FindCondition(d.Status.Conditions, api.DeploymentProgressing)
	if cond != nil && cond.Reason == api.ReasonProgressDeadlineExceeded {
		return
	}
	paused := cond != nil && cond.Reason == api.ReasonDeploymentPaused
	switch {
	case d.Spec.Paused && !paused:
		api.SetCondition(&d.Status.Conditions, api.Condition{Type: api.DeploymentProgressing, Status: api.ConditionUnknown,
			Reason: api.ReasonDeploymentPaused, Message: "Deployment is paused"}, p.now())
	case !d.Spec.Paused && paused:
		api.SetCondition(&d.Status.Conditions, api.Condition{Type: api.DeploymentProgressing, Status: api.ConditionUnknown,
			Reason: api.ReasonDeploymentResumed, Message: "Deployment is resumed"}, p.now())
	}
}

// syncScale only resizes the existing replica sets (paused deployments and
// changes of spec.replicas): no new replica set, no rollout step.
func (p *deployPass) syncScale(ctx context.Context) error {
	if err := p.resolve(ctx, false); err != nil {
		return err
	}
	for _, r := range deployScalePlan(p.d, p.newRS, p.oldRSs) {
		if _, err := p.scaleRS(ctx, r.rs, r.size); err != nil {
			return err
		}
	}
	if p.d.Spec.Paused && !deployHasRollback(p.d) {
		if err := p.cleanupHistory(ctx); err != nil {
			return err
		}
	}
	return p.finish(ctx, false)
}

// isScalingEvent reports whether spec.replicas changed since the active
// replica sets were last sized.
func (p *deployPass) isScalingEvent(ctx context.Context) (bool, error) {
	if err := p.resolve(ctx, false); err != nil {
		return false, err
	}
	want := deployReplicas(p.d)
	for _, rs := range deployActive(p.allRSs()) {
		if v, ok := deployAnnotatedInt(rs, deployDesiredReplicasAnnotation); ok && v != want {
			return true, nil
		}
	}
	return false, nil
}
