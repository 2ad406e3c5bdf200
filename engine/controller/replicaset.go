package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/labels"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/engine/client/record"
)

// ReplicaSet controller: keeps spec.replicas pods stamped from the template,
// adopting matching orphans and releasing pods whose labels no longer
// match. Creates and deletes are remembered as expectations, so a slow
// watch never makes it act twice on the same shortfall.

const (
	// rsBurstReplicas bounds the creates (and deletes) of one reconcile.
	rsBurstReplicas = 500
	// rsDeleteParallelism bounds concurrent pod deletes.
	rsDeleteParallelism = 16
	// rsReplicaFailure is the condition reporting failed creates/deletes.
	rsReplicaFailure = "ReplicaFailure"
	// Event and condition reasons.
	rsReasonFailedCreate     = "FailedCreate"
	rsReasonFailedDelete     = "FailedDelete"
	rsReasonSuccessfulCreate = "SuccessfulCreate"
	rsReasonSuccessfulDelete = "SuccessfulDelete"
	// rsMaxPodPrefix leaves room for the 5-character suffix the API server
	// appends to a generateName within a 63-character name.
	rsMaxPodPrefix = 58
)

// ReplicaSetController keeps each replica set's pods at spec.replicas.
type ReplicaSetController struct {
	client   *client.Client
	rss      *client.Informer[*api.ReplicaSet]
	pods     *client.Informer[*api.Pod]
	exp      *Expectations
	runner   *Runner
	recorder *record.Recorder
	log      *slog.Logger
	now      func() time.Time
}

// NewReplicaSetController builds the controller and registers its handlers.
func NewReplicaSetController(d Deps) *ReplicaSetController {
	d = d.withDefaults()
	c := &ReplicaSetController{
		client: d.Client, rss: d.Informers.ReplicaSets(), pods: d.Informers.Pods(),
		exp: NewExpectations(d.Now), recorder: d.Recorder, log: d.Log.With("controller", "replicaset"), now: d.Now,
	}
	c.runner = NewRunner("replicaset", d.Config.Workers, d.Log, c.reconcile)
	c.rss.AddHandler(Handler[*api.ReplicaSet](c.runner))
	c.pods.AddHandler(client.Handler[*api.Pod]{OnAdd: c.podAdded, OnUpdate: c.podUpdated, OnDelete: c.podDeleted})
	return c
}

// Run reconciles replica sets until ctx ends.
func (c *ReplicaSetController) Run(ctx context.Context) { c.runner.Run(ctx) }

// reconcile converges one replica set: claim its pods, create or delete
// pods (unless earlier writes are still unobserved), report status.
func (c *ReplicaSetController) reconcile(ctx context.Context, key string) error {
	rs, ok := c.rss.Get(key)
	if !ok {
		c.exp.Delete(key)
		return nil
	}
	pods, err := c.claimPods(ctx, rs)
	if err != nil {
		return err
	}
	var failure string
	var manageErr error
	switch {
	case rs.DeletionTimestamp != nil:
	case !c.exp.Satisfied(key):
		// The watch will report our writes; if it never does, act anyway later.
		c.runner.EnqueueAfter(key, ExpectationsTimeout+time.Second)
	default:
		failure, manageErr = c.manageReplicas(ctx, rs, pods)
	}
	status, wait := rsComputeStatus(rs, pods, failure, manageErr, c.now().UTC())
	if err := c.writeStatus(ctx, rs, status); err != nil {
		return errors.Join(manageErr, err)
	}
	if wait > 0 {
		c.runner.EnqueueAfter(key, wait)
	}
	return manageErr
}

// --- event handlers: turn pod changes into replica set keys ---

func (c *ReplicaSetController) podAdded(p *api.Pod) {
	if p.DeletionTimestamp != nil {
		// First seen already on its way out (after a relist): a deletion.
		c.podDeleted(p)
		return
	}
	if ref := p.ControllerRef(); ref != nil {
		if rs := c.resolveRef(p.Namespace, ref); rs != nil {
			c.exp.CreationObserved(rs.Key())
			c.runner.Enqueue(rs)
		}
		return
	}
	c.enqueueMatching(p)
}

func (c *ReplicaSetController) podUpdated(old, cur *api.Pod) {
	if old.ResourceVersion == cur.ResourceVersion {
		return // a resync: nothing changed
	}
	oldRef, curRef := old.ControllerRef(), cur.ControllerRef()
	if oldRef != nil && (curRef == nil || oldRef.UID != curRef.UID) {
		if rs := c.resolveRef(old.Namespace, oldRef); rs != nil {
			c.runner.Enqueue(rs)
		}
	}
	if curRef != nil {
		if rs := c.resolveRef(cur.Namespace, curRef); rs != nil {
			if cur.DeletionTimestamp != nil && old.DeletionTimestamp == nil {
				c.exp.DeletionObserved(rs.Key(), cur.UID)
			}
			c.runner.Enqueue(rs)
		}
		return
	}
	if oldRef != nil || !maps.Equal(old.Labels, cur.Labels) {
		c.enqueueMatching(cur)
	}
}

func (c *ReplicaSetController) podDeleted(p *api.Pod) {
	if ref := p.ControllerRef(); ref != nil {
		if rs := c.resolveRef(p.Namespace, ref); rs != nil {
			c.exp.DeletionObserved(rs.Key(), p.UID)
			c.runner.Enqueue(rs)
		}
	}
}

// resolveRef returns the cached replica set a controller reference names,
// or nil when it names something else (or an older incarnation).
func (c *ReplicaSetController) resolveRef(namespace string, ref *api.OwnerReference) *api.ReplicaSet {
	if ref.Kind != "ReplicaSet" {
		return nil
	}
	rs, ok := c.rss.Get(api.Key(namespace, ref.Name))
	if !ok || rs.UID != ref.UID {
		return nil
	}
	return rs
}

// enqueueMatching enqueues every replica set that might adopt an orphan.
func (c *ReplicaSetController) enqueueMatching(p *api.Pod) {
	if p.DeletionTimestamp != nil {
		return
	}
	for _, rs := range c.rss.ByIndex(IndexNamespace, p.Namespace) {
		if sel, err := api.AsSelector(rs.Spec.Selector); err == nil && sel.Matches(labels.Set(p.Labels)) {
			c.runner.Enqueue(rs)
		}
	}
}

// --- claiming: adopt matching orphans, release pods that stopped matching ---

// rsClaim is what a controller does with an object in its namespace.
type rsClaim int

const (
	rsClaimIgnore  rsClaim = iota // someone else's, or not ours to take
	rsClaimKeep                   // ours and still selected
	rsClaimAdopt                  // a selected orphan: take it
	rsClaimRelease                // ours but no longer selected: let it go
)

// rsClaimFor decides, as Kubernetes' ControllerRefManager does, what an
// owner does with an object given whether its selector matches it. An
// owner being deleted neither adopts nor releases; a dependent being
// deleted is not adopted.
func rsClaimFor(owner, obj *api.ObjectMeta, matches bool) rsClaim {
	ownerDeleting := owner.DeletionTimestamp != nil
	if ref := obj.ControllerRef(); ref != nil {
		switch {
		case ref.UID != owner.UID:
			return rsClaimIgnore
		case matches:
			return rsClaimKeep
		case ownerDeleting:
			return rsClaimIgnore
		}
		return rsClaimRelease
	}
	if ownerDeleting || !matches || obj.DeletionTimestamp != nil || obj.Namespace != owner.Namespace {
		return rsClaimIgnore
	}
	return rsClaimAdopt
}

// rsWithControllerRef returns refs with owner as their controller (any
// other reference to the same owner replaced).
func rsWithControllerRef(refs []api.OwnerReference, owner api.Object) []api.OwnerReference {
	out := rsWithoutRef(refs, owner.GetObjectMeta().UID)
	return append(out, NewControllerRef(owner))
}

// rsWithoutRef returns refs minus any reference to uid.
func rsWithoutRef(refs []api.OwnerReference, uid string) []api.OwnerReference {
	return slices.DeleteFunc(slices.Clone(refs), func(r api.OwnerReference) bool { return r.UID == uid })
}

// claimPods returns the pods rs owns after adopting and releasing.
func (c *ReplicaSetController) claimPods(ctx context.Context, rs *api.ReplicaSet) ([]*api.Pod, error) {
	sel, err := api.AsSelector(rs.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("replica set %s: invalid selector: %w", rs.Key(), err)
	}
	return claim(ctx, rs, sel, c.pods.ByIndex(IndexNamespace, rs.Namespace), c.client.Pods(rs.Namespace),
		func(ctx context.Context) error { return c.canAdopt(ctx, rs) })
}

// canAdopt re-reads rs from the API once before the first adoption: a
// cached replica set may already have been deleted (or replaced), and an
// adoption by a dead owner would hand the pod to the garbage collector.
func (c *ReplicaSetController) canAdopt(ctx context.Context, rs *api.ReplicaSet) error {
	fresh, err := c.client.ReplicaSets(rs.Namespace).Get(ctx, rs.Name)
	if err == nil && (fresh.UID != rs.UID || fresh.DeletionTimestamp != nil) {
		err = fmt.Errorf("replica set %s is gone or being deleted; not adopting", rs.Key())
	}
	return err
}

// --- converging the pod count ---

// rsPlan is what one reconcile does to a replica set's pods.
type rsPlan struct {
	Create int
	// Delete holds surplus active pods in deletion order, then finished
	// (Succeeded/Failed) pods, which are replaced rather than kept.
	Delete []*api.Pod
}

// rsPlanReplicas is the pure "what should exist" step: want active pods,
// given the pods the replica set owns. At most rsBurstReplicas writes.
func rsPlanReplicas(want int32, owned []*api.Pod) rsPlan {
	var active, finished []*api.Pod
	for _, p := range owned {
		switch {
		case p.DeletionTimestamp != nil:
		case api.IsPodTerminal(p):
			finished = append(finished, p)
		default:
			active = append(active, p)
		}
	}
	var plan rsPlan
	switch diff := len(active) - int(want); {
	case diff < 0:
		plan.Create = min(-diff, rsBurstReplicas)
	case diff > 0:
		plan.Delete = podsToDelete(active, min(diff, rsBurstReplicas))
	}
	room := rsBurstReplicas - len(plan.Delete)
	plan.Delete = append(plan.Delete, finished[:min(len(finished), room)]...)
	return plan
}

// manageReplicas issues the creates and deletes of rsPlanReplicas under
// expectations. It returns the failure reason for the status condition.
func (c *ReplicaSetController) manageReplicas(ctx context.Context, rs *api.ReplicaSet, owned []*api.Pod) (string, error) {
	plan := rsPlanReplicas(api.Deref(rs.Spec.Replicas, 1), owned)
	if plan.Create == 0 && len(plan.Delete) == 0 {
		return "", nil
	}
	uids := make([]string, len(plan.Delete))
	for i, p := range plan.Delete {
		uids[i] = p.UID
	}
	c.exp.Expect(rs.Key(), plan.Create, uids)
	c.log.Debug("converging pods", "replicaset", rs.Name, "namespace", rs.Namespace, "create", plan.Create, "delete", len(plan.Delete))
	if plan.Create > 0 {
		if err := c.createPods(ctx, rs, plan.Create); err != nil {
			return rsReasonFailedCreate, err
		}
	}
	if err := c.deletePods(ctx, rs, plan.Delete); err != nil {
		return rsReasonFailedDelete, err
	}
	return "", nil
}

// createPods creates n pods in batches of 1, 2, 4, ... (a "slow start"): a
// template the API rejects fails once, not n times. Creates that fail or
// are skipped are subtracted from the expectations.
func (c *ReplicaSetController) createPods(ctx context.Context, rs *api.ReplicaSet, n int) error {
	key := rs.Key()
	pod := rsNewPod(rs)
	done := 0
	for batch := 1; done < n; batch *= 2 {
		size := min(batch, n-done)
		errs := make([]error, size)
		var wg sync.WaitGroup
		for i := range size {
			wg.Go(func() {
				_, errs[i] = c.client.Pods(rs.Namespace).Create(ctx, pod)
			})
		}
		wg.Wait()
		done += size
		if err := errors.Join(errs...); err != nil {
			for _, e := range errs {
				if e != nil {
					c.exp.CreationObserved(key)
				}
			}
			for range n - done {
				c.exp.CreationObserved(key)
			}
			c.recorder.Eventf(rs, api.EventWarning, rsReasonFailedCreate, "Error creating pods: %v", err)
			return fmt.Errorf("creating pods for replica set %s: %w", key, err)
		}
	}
	c.recorder.Eventf(rs, api.EventNormal, rsReasonSuccessfulCreate, "Created %d pod(s)", n)
	return nil
}

// rsNewPod stamps a pod from the template, controlled by rs.
func rsNewPod(rs *api.ReplicaSet) *api.Pod {
	prefix := rs.Name + "-"
	if len(prefix) > rsMaxPodPrefix {
		prefix = prefix[:rsMaxPodPrefix]
	}
	t := &rs.Spec.Template
	return &api.Pod{
		ObjectMeta: api.ObjectMeta{
			GenerateName: prefix, Namespace: rs.Namespace,
			Labels: maps.Clone(t.Labels), Annotations: maps.Clone(t.Annotations),
			OwnerReferences: []api.OwnerReference{NewControllerRef(rs)},
		},
		Spec: t.Spec,
	}
}

// deletePods deletes pods in parallel; a delete that fails is no longer
// expected (a pod already gone counts as deleted).
func (c *ReplicaSetController) deletePods(ctx context.Context, rs *api.ReplicaSet, pods []*api.Pod) error {
	key := rs.Key()
	errs := make([]error, len(pods))
	sem := make(chan struct{}, rsDeleteParallelism)
	var wg sync.WaitGroup
	for i, p := range pods {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := c.client.Pods(p.Namespace).Delete(ctx, p.Name)
			if err != nil {
				c.exp.DeletionObserved(key, p.UID)
				if !api.IsNotFound(err) {
					errs[i] = fmt.Errorf("deleting pod %s: %w", p.Key(), err)
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.recorder.Eventf(rs, api.EventWarning, rsReasonFailedDelete, "Error deleting pods: %v", err)
		return err
	}
	if len(pods) > 0 {
		c.recorder.Eventf(rs, api.EventNormal, rsReasonSuccessfulDelete, "Deleted %d pod(s)", len(pods))
	}
	return nil
}

// --- status ---

// rsComputeStatus derives the status from the owned pods, and how long
// until a ready pod becomes available (0: nothing to wait for). failure is
// the reason of a failed create or delete ("" when the last pass succeeded).
func rsComputeStatus(rs *api.ReplicaSet, owned []*api.Pod, failure string, failErr error, now time.Time) (api.ReplicaSetStatus, time.Duration) {
	st := api.ReplicaSetStatus{ObservedGeneration: rs.Generation, Conditions: slices.Clone(rs.Status.Conditions)}
	var wait time.Duration
	for _, p := range owned {
		if !podIsActive(p) {
			continue
		}
		st.Replicas++
		if rsHasLabels(p.Labels, rs.Spec.Template.Labels) {
			st.FullyLabeledReplicas++
		}
		if api.IsPodReady(p) {
			st.ReadyReplicas++
		}
		available, w := podAvailability(p, rs.Spec.MinReadySeconds, now)
		switch {
		case available:
			st.AvailableReplicas++
		case w > 0 && (wait == 0 || w < wait):
			wait = w
		}
	}
	if failure != "" && failErr != nil {
		api.SetCondition(&st.Conditions, api.Condition{Type: rsReplicaFailure, Status: api.ConditionTrue,
			Reason: failure, Message: failErr.Error()}, now)
	} else {
		st.Conditions = slices.DeleteFunc(st.Conditions, func(c api.Condition) bool { return c.Type == rsReplicaFailure })
	}
	if len(st.Conditions) == 0 {
		st.Conditions = nil
	}
	return st, wait
}

// rsHasLabels reports whether have carries every label of want.
func rsHasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// writeStatus stores status when it differs from what rs reports.
func (c *ReplicaSetController) writeStatus(ctx context.Context, rs *api.ReplicaSet, status api.ReplicaSetStatus) error {
	if rsJSONEqual(rs.Status, status) {
		return nil
	}
	cp := *rs
	cp.Status = status
	if _, err := c.client.ReplicaSets(rs.Namespace).UpdateStatus(ctx, &cp); err != nil {
		return fmt.Errorf("updating status of replica set %s: %w", rs.Key(), err)
	}
	return nil
}

// rsJSONEqual compares two values as the API stores them, so nil and
// empty collections, or equal instants in different locations, are equal.
func rsJSONEqual(a, b any) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(x) == string(y)
}
