package controller

import (
	"fmt"
	"slices"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// Deployment status: counts summed from the replica sets, the Available
// condition, and the Progressing condition that tells a rollout that moves
// from one that is stuck.

// deployCalculateStatus derives the status from the replica sets; the
// conditions start from d's (the working copy) so earlier steps of the
// pass are kept.
func deployCalculateStatus(d *api.Deployment, all []*api.ReplicaSet, newRS *api.ReplicaSet, now time.Time) api.DeploymentStatus {
	st := api.DeploymentStatus{
		ObservedGeneration: d.Generation,
		CollisionCount:     d.Status.CollisionCount,
		Conditions:         slices.Clone(d.Status.Conditions),
	}
	var desired int32
	for _, rs := range all {
		if rs == nil {
			continue
		}
		st.Replicas += rs.Status.Replicas
		st.ReadyReplicas += rs.Status.ReadyReplicas
		st.AvailableReplicas += rs.Status.AvailableReplicas
		desired += deployRSReplicas(rs)
	}
	if newRS != nil {
		st.UpdatedReplicas = newRS.Status.Replicas
	}
	st.UnavailableReplicas = max(desired-st.AvailableReplicas, 0)

	available := api.Condition{Type: api.DeploymentAvailable, Status: api.ConditionTrue,
		Reason: api.ReasonMinimumReplicasAvailable, Message: "Deployment has minimum availability."}
	if st.AvailableReplicas < deployReplicas(d)-deployMaxUnavailable(d) {
		available = api.Condition{Type: api.DeploymentAvailable, Status: api.ConditionFalse,
			Reason: api.ReasonMinimumReplicasUnavailable, Message: "Deployment does not have minimum availability."}
	}
	api.SetCondition(&st.Conditions, available, now)

	if failure := deployReplicaFailure(all, newRS); failure != nil {
		api.SetCondition(&st.Conditions, *failure, now)
	} else {
		st.Conditions = slices.DeleteFunc(st.Conditions, func(c api.Condition) bool { return c.Type == deployConditionReplicaFailure })
	}
	return st
}

// deployReplicaFailure surfaces a replica set's failure to create or
// delete pods (the new replica set's first), or nil.
func deployReplicaFailure(all []*api.ReplicaSet, newRS *api.ReplicaSet) *api.Condition {
	ordered := all
	if newRS != nil {
		ordered = append([]*api.ReplicaSet{newRS}, all...)
	}
	for _, rs := range ordered {
		if rs == nil {
			continue
		}
		if c := api.FindCondition(rs.Status.Conditions, rsReplicaFailure); c != nil && c.Status == api.ConditionTrue {
			return &api.Condition{Type: deployConditionReplicaFailure, Status: api.ConditionTrue, Reason: c.Reason,
				Message: fmt.Sprintf("ReplicaSet %q: %s", rs.Name, c.Message)}
		}
	}
	return nil
}

// deployProgress updates st's Progressing condition after a rollout step,
// as Kubernetes' syncRolloutStatus does, comparing st with d.Status (the
// previous status; its conditions as this pass left them):
//
//   - complete: True, NewReplicaSetAvailable;
//   - more pods updated, ready or available, or fewer old ones: True,
//     ReplicaSetUpdated, with lastUpdateTime now;
//   - neither for progressDeadlineSeconds since lastUpdateTime: False,
//     ProgressDeadlineExceeded.
//
// It returns how long until the deadline would pass (0 when there is
// nothing to watch), so the deployment is checked again in time.
func deployProgress(d *api.Deployment, st *api.DeploymentStatus, newRS *api.ReplicaSet, now time.Time) time.Duration {
	if d.Spec.ProgressDeadlineSeconds == nil {
		st.Conditions = slices.DeleteFunc(st.Conditions, func(c api.Condition) bool { return c.Type == api.DeploymentProgressing })
		return 0
	}
	deadline := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	subject := fmt.Sprintf("Deployment %q", d.Name)
	if newRS != nil {
		subject = fmt.Sprintf("ReplicaSet %q", newRS.Name)
	}
	cur := api.FindCondition(d.Status.Conditions, api.DeploymentProgressing)
	alreadyComplete := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == api.ReasonNewReplicaSetAvailable
	if !alreadyComplete {
		switch {
		case deployComplete(d, st):
			api.SetCondition(&st.Conditions, api.Condition{Type: api.DeploymentProgressing, Status: api.ConditionTrue,
				Reason: api.ReasonNewReplicaSetAvailable, Message: subject + " has successfully progressed."}, now)
		case deployProgressing(&d.Status, st):
			api.SetCondition(&st.Conditions, api.Condition{Type: api.DeploymentProgressing, Status: api.ConditionTrue,
				Reason: api.ReasonReplicaSetUpdated, Message: subject + " is progressing.", LastUpdateTime: now}, now)
		case deployTimedOut(st, deadline, now):
			api.SetCondition(&st.Conditions, api.Condition{Type: api.DeploymentProgressing, Status: api.ConditionFalse,
				Reason: api.ReasonProgressDeadlineExceeded, Message: subject + " has timed out progressing."}, now)
		}
	}
	c := api.FindCondition(st.Conditions, api.DeploymentProgressing)
	if c == nil || deployComplete(d, st) || c.Reason == api.ReasonProgressDeadlineExceeded ||
		c.Reason == api.ReasonNewReplicaSetAvailable {
		return 0
	}
	return max(c.LastUpdateTime.Add(deadline).Sub(now), time.Millisecond)
}

// deployComplete reports whether every replica runs the new template and
// is available, for the current generation.
func deployComplete(d *api.Deployment, st *api.DeploymentStatus) bool {
	replicas := deployReplicas(d)
	return st.UpdatedReplicas == replicas && st.Replicas == replicas && st.AvailableReplicas == replicas &&
		st.ObservedGeneration >= d.Generation
}

// deployProgressing reports whether the rollout moved between two statuses.
func deployProgressing(old, cur *api.DeploymentStatus) bool {
	oldOld := old.Replicas - old.UpdatedReplicas
	curOld := cur.Replicas - cur.UpdatedReplicas
	return cur.UpdatedReplicas > old.UpdatedReplicas || curOld < oldOld ||
		cur.ReadyReplicas > old.ReadyReplicas || cur.AvailableReplicas > old.AvailableReplicas
}

// deployTimedOut reports whether the Progressing condition has not moved
// for longer than the deadline. A completed rollout never times out; a
// reported timeout stays.
func deployTimedOut(st *api.DeploymentStatus, deadline time.Duration, now time.Time) bool {
	c := api.FindCondition(st.Conditions, api.DeploymentProgressing)
	switch {
	case c == nil || c.Reason == api.ReasonNewReplicaSetAvailable:
		return false
	case c.Reason == api.ReasonProgressDeadlineExceeded:
		return true
	}
	return c.LastUpdateTime.Add(deadline).Before(now)
}
