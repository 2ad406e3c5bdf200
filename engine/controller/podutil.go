package controller

import (
	"cmp"
	"slices"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// Pod helpers shared by the replica set and deployment controllers: which
// pods count, when a ready pod becomes available, and which pods go first
// when a replica set shrinks.

// podIsActive reports whether a pod still counts towards its controller's
// replicas: not finished for good and not on its way out.
func podIsActive(p *api.Pod) bool {
	return !api.IsPodTerminal(p) && p.DeletionTimestamp == nil
}

// podReadySince returns when the pod last turned ready, and whether it is
// ready at all. A Ready condition without a transition time counts as ready
// since the zero time (ready "forever"), so it is never held back.
func podReadySince(p *api.Pod) (time.Time, bool) {
	c := api.FindCondition(p.Status.Conditions, api.PodReady)
	if c == nil || c.Status != api.ConditionTrue {
		return time.Time{}, false
	}
	return c.LastTransitionTime, true
}

// podAvailability reports whether a pod is available (ready for at least
// minReadySeconds at now) and, for a ready pod that is not available yet,
// how long until it is. Unready pods report (false, 0): only a change of
// the pod can make them available.
func podAvailability(p *api.Pod, minReadySeconds int32, now time.Time) (available bool, wait time.Duration) {
	since, ready := podReadySince(p)
	if !ready {
		return false, 0
	}
	if minReadySeconds <= 0 || since.IsZero() {
		return true, 0
	}
	at := since.Add(time.Duration(minReadySeconds) * time.Second)
	if !now.Before(at) {
		return true, 0
	}
	return false, at.Sub(now)
}

// podRestarts sums the restart counts of a pod's containers.
func podRestarts(p *api.Pod) int32 {
	var n int32
	for _, s := range p.Status.ContainerStatuses {
		n += s.RestartCount
	}
	return n
}

// podPhaseRank orders phases by how far along a pod is: a pod that has not
// started costs less to delete than one that is running.
func podPhaseRank(p api.PodPhase) int {
	switch p {
	case api.PodPending, "":
		return 0
	case api.PodUnknown:
		return 1
	case api.PodRunning:
		return 2
	}
	return 3
}

// podDeleteFirst orders pods so that the cheapest to lose comes first,
// as Kubernetes ranks pods of a shrinking replica set:
//
//  1. unscheduled before scheduled;
//  2. pending before unknown before running;
//  3. not ready before ready;
//  4. ready for less time before ready for longer;
//  5. more container restarts before fewer;
//  6. newer before older.
//
// The name breaks the remaining ties so the order is total and stable.
func podDeleteFirst(a, b *api.Pod) int {
	if c := cmp.Compare(podBoolRank(a.Spec.NodeName != ""), podBoolRank(b.Spec.NodeName != "")); c != 0 {
		return c
	}
	if c := cmp.Compare(podPhaseRank(a.Status.Phase), podPhaseRank(b.Status.Phase)); c != 0 {
		return c
	}
	aSince, aReady := podReadySince(a)
	bSince, bReady := podReadySince(b)
	if c := cmp.Compare(podBoolRank(aReady), podBoolRank(bReady)); c != 0 {
		return c
	}
	if aReady && !aSince.Equal(bSince) {
		// Turned ready later means ready for less time: goes first.
		return bSince.Compare(aSince)
	}
	if c := cmp.Compare(podRestarts(b), podRestarts(a)); c != 0 {
		return c
	}
	if c := b.CreationTimestamp.Compare(a.CreationTimestamp); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

func podBoolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// podsToDelete picks the n pods to delete from pods by podDeleteFirst,
// without reordering pods.
func podsToDelete(pods []*api.Pod, n int) []*api.Pod {
	if n <= 0 {
		return nil
	}
	ranked := slices.Clone(pods)
	slices.SortFunc(ranked, podDeleteFirst)
	return ranked[:min(n, len(ranked))]
}
