package controller

import (
	"context"
	"slices"

	"github.com/maestro-dev/maestro/engine/api"
)

// The two strategies. RollingUpdate alternates two moves, each a pure
// computation followed by replica set writes:
//
//	scale up the new replica set   while total pods < replicas + maxSurge
//	scale down old replica sets    while available pods > replicas - maxUnavailable
//
// Recreate scales every old replica set to 0, waits until their pods are
// gone, then creates (or scales up) the new one.

// rolloutRolling takes one step of a rolling update.
func (p *deployPass) rolloutRolling(ctx context.Context) error {
	if err := p.resolve(ctx, true); err != nil {
		return err
	}
	scaled, err := p.reconcileNewRS(ctx)
	if err != nil {
		return err
	}
	if !scaled {
		if scaled, err = p.reconcileOldRSs(ctx); err != nil {
			return err
		}
	}
	if scaled {
		return p.finish(ctx, true)
	}
	if deployComplete(p.d, &p.d.Status) {
		if err := p.cleanupHistory(ctx); err != nil {
			return err
		}
	}
	return p.finish(ctx, true)
}

// reconcileNewRS scales the new replica set towards spec.replicas within
// the surge allowance.
func (p *deployPass) reconcileNewRS(ctx context.Context) (bool, error) {
	want := deployReplicas(p.d)
	cur := deployRSReplicas(p.newRS)
	size := want
	if cur < want {
		size = deployNewRSReplicas(p.d, p.allRSs(), p.newRS)
	}
	if size == cur {
		return false, nil
	}
	return p.scaleRS(ctx, p.newRS, size)
}

// reconcileOldRSs scales old replica sets down within the availability floor.
func (p *deployPass) reconcileOldRSs(ctx context.Context) (bool, error) {
	sizes := deployPlanScaleDownOld(p.d, p.oldRSs, p.newRS)
	scaled := false
	for _, rs := range slices.Clone(p.oldRSs) {
		size, ok := sizes[rs.UID]
		if !ok || size == deployRSReplicas(rs) {
			continue
		}
		s, err := p.scaleRS(ctx, rs, size)
		if err != nil {
			return scaled, err
		}
		scaled = scaled || s
	}
	return scaled, nil
}

// rolloutRecreate takes one step of a Recreate rollout.
func (p *deployPass) rolloutRecreate(ctx context.Context) error {
	// No new replica set before the old pods are gone.
	if err := p.resolve(ctx, false); err != nil {
		return err
	}
	scaledDown := false
	for _, rs := range deployActive(p.oldRSs) {
		s, err := p.scaleRS(ctx, rs, 0)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || s
	}
	if scaledDown || p.oldPodsRunning() {
		return p.finish(ctx, true)
	}
	if err := p.resolve(ctx, true); err != nil {
		return err
	}
	if want := deployReplicas(p.d); deployRSReplicas(p.newRS) != want {
		if _, err := p.scaleRS(ctx, p.newRS, want); err != nil {
			return err
		}
	}
	if deployComplete(p.d, &p.d.Status) {
		if err := p.cleanupHistory(ctx); err != nil {
			return err
		}
	}
	return p.finish(ctx, true)
}

// oldPodsRunning reports whether any pod of an old replica set may still
// run: one its controller still counts, or one in the pod cache that has
// not finished.
func (p *deployPass) oldPodsRunning() bool {
	for _, rs := range p.oldRSs {
		if rs.Status.Replicas > 0 {
			return true
		}
		for _, pod := range p.c.pods.ByIndex(IndexOwnerUID, rs.UID) {
			if !api.IsPodTerminal(pod) {
				return true
			}
		}
	}
	return false
}

// --- arithmetic (pure) ---

// deployReplicas is the deployment's desired replica count.
func deployReplicas(d *api.Deployment) int32 { return api.Deref(d.Spec.Replicas, 1) }

// deployRSReplicas is a replica set's desired size (0 for none).
func deployRSReplicas(rs *api.ReplicaSet) int32 {
	if rs == nil {
		return 0
	}
	return api.Deref(rs.Spec.Replicas, 1)
}

// deployActive keeps the replica sets with a non-zero size.
func deployActive(rss []*api.ReplicaSet) []*api.ReplicaSet {
	var out []*api.ReplicaSet
	for _, rs := range rss {
		if deployRSReplicas(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// deploySpecSum adds up the replica sets' desired sizes.
func deploySpecSum(rss []*api.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += deployRSReplicas(rs)
	}
	return n
}

// deployPodCount bounds the pods the replica sets may have: a replica set
// scaled down keeps counting its pods until its controller reports them
// gone, so a new pod never joins before an old one has left and
// replicas + maxSurge holds for the pods that exist, not only on paper.
func deployPodCount(rss []*api.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += max(deployRSReplicas(rs), rs.Status.Replicas)
		}
	}
	return n
}

// deployAvailable counts a replica set's available pods, never more than
// its size: surplus pods of a replica set scaled down are about to go.
func deployAvailable(rs *api.ReplicaSet) int32 {
	if rs == nil {
		return 0
	}
	return min(rs.Status.AvailableReplicas, deployRSReplicas(rs))
}

// deployFenceposts resolves maxSurge (rounded up) and maxUnavailable
// (rounded down) against spec.replicas; both 0 would stall a rollout, so
// maxUnavailable is then 1, as in Kubernetes.
func deployFenceposts(d *api.Deployment) (surge, unavailable int32, err error) {
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type == api.RecreateStrategy {
		return 0, 0, nil
	}
	def := api.FromString(deployDefaultRollingPercentage)
	maxSurge, maxUnavailable := def, def
	if ru != nil {
		maxSurge, maxUnavailable = api.Deref(ru.MaxSurge, def), api.Deref(ru.MaxUnavailable, def)
	}
	replicas := int(deployReplicas(d))
	s, err := maxSurge.ScaledValue(replicas, true)
	if err != nil {
		return 0, 0, err
	}
	u, err := maxUnavailable.ScaledValue(replicas, false)
	if err != nil {
		return 0, 0, err
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u), nil
}

// deployMaxSurge is how many pods may exist above spec.replicas.
func deployMaxSurge(d *api.Deployment) int32 {
	s, _, _ := deployFenceposts(d)
	return s
}

// deployMaxUnavailable is how many of spec.replicas may be unavailable
// (never more than spec.replicas).
func deployMaxUnavailable(d *api.Deployment) int32 {
	replicas := deployReplicas(d)
	if d.Spec.Strategy.Type == api.RecreateStrategy || replicas == 0 {
		return 0
	}
	_, u, _ := deployFenceposts(d)
	return min(u, replicas)
}

// deployNewRSReplicas is the size the new replica set may grow to now:
// all replicas for Recreate; for a rolling update, up to the surge
// allowance left by the pods of every replica set.
func deployNewRSReplicas(d *api.Deployment, all []*api.ReplicaSet, newRS *api.ReplicaSet) int32 {
	replicas := deployReplicas(d)
	cur := deployRSReplicas(newRS)
	if d.Spec.Strategy.Type == api.RecreateStrategy {
		return replicas
	}
	maxTotal := replicas + deployMaxSurge(d)
	pods := deployPodCount(all)
	if pods >= maxTotal {
		return cur
	}
	return cur + max(min(maxTotal-pods, replicas-cur), 0)
}

// deployPlanScaleDownOld computes one rolling step's new sizes of the old
// replica sets (by UID; only those that change), as Kubernetes does: first
// drop old pods that are not available (they count for nothing, and
// would otherwise block the rollout), up to what the availability floor
// leaves room for; then scale down available old pods, oldest replica set
// first, while available pods stay above replicas - maxUnavailable.
func deployPlanScaleDownOld(d *api.Deployment, oldRSs []*api.ReplicaSet, newRS *api.ReplicaSet) map[string]int32 {
	oldCount := deploySpecSum(oldRSs)
	if oldCount == 0 {
		return nil
	}
	minAvailable := deployReplicas(d) - deployMaxUnavailable(d)
	newUnavailable := deployRSReplicas(newRS) - deployAvailable(newRS)
	maxScaledDown := oldCount + deployRSReplicas(newRS) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return nil
	}
	sorted := slices.Clone(oldRSs)
	slices.SortFunc(sorted, deployOlderFirst)
	sizes := map[string]int32{}
	size := func(rs *api.ReplicaSet) int32 {
		if s, ok := sizes[rs.UID]; ok {
			return s
		}
		return deployRSReplicas(rs)
	}
	cleaned := int32(0)
	for _, rs := range sorted {
		unhealthy := size(rs) - deployAvailable(rs)
		if cleaned >= maxScaledDown {
			break
		}
		if size(rs) == 0 || unhealthy <= 0 {
			continue
		}
		n := min(maxScaledDown-cleaned, unhealthy)
		sizes[rs.UID] = size(rs) - n
		cleaned += n
	}
	available := deployAvailable(newRS)
	for _, rs := range oldRSs {
		available += deployAvailable(rs)
	}
	budget := available - minAvailable
	for _, rs := range sorted {
		if budget <= 0 {
			break
		}
		if size(rs) == 0 {
			continue
		}
		n := min(size(rs), budget)
		sizes[rs.UID] = size(rs) - n
		budget -= n
	}
	for uid, s := range sizes {
		for _, rs := range oldRSs {
			if rs.UID == uid && deployRSReplicas(rs) == s {
				delete(sizes, uid)
			}
		}
	}
	return sizes
}
