package controller

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/maestro-dev/maestro/engine/api"
)

// Replica sets of a deployment: which one is new, revisions, creation of
// the new one, rollback, history cleanup and proportional scaling.

// --- finding and syncing the new replica set ---

// resolve sorts the replica sets into new and old (once per pass), brings
// the new one's revision up to date, and creates it when asked to and
// missing.
func (p *deployPass) resolve(ctx context.Context, create bool) error {
	if !p.resolved {
		p.resolved = true
		p.newRS, p.oldRSs = deployFindNewRS(&p.d.Spec.Template, p.rsList)
		if p.newRS != nil {
			if err := p.syncNewRS(ctx); err != nil {
				return err
			}
		}
	}
	if p.newRS == nil && create {
		return p.createNewRS(ctx)
	}
	return nil
}

// deployFindNewRS returns the oldest replica set whose template equals the
// deployment's (ignoring the hash label), and all the others.
func deployFindNewRS(tmpl *api.PodTemplateSpec, rsList []*api.ReplicaSet) (*api.ReplicaSet, []*api.ReplicaSet) {
	sorted := slices.Clone(rsList)
	slices.SortFunc(sorted, deployOlderFirst)
	var newRS *api.ReplicaSet
	old := make([]*api.ReplicaSet, 0, len(sorted))
	for _, rs := range sorted {
		if newRS == nil && deployTemplatesEqual(tmpl, &rs.Spec.Template) {
			newRS = rs
			continue
		}
		old = append(old, rs)
	}
	return newRS, old
}

// deployOlderFirst orders replica sets by creation, then revision, then name
// (creation times have one-second resolution).
func deployOlderFirst(a, b *api.ReplicaSet) int {
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp); c != 0 {
		return c
	}
	if c := cmp.Compare(deployRevision(a), deployRevision(b)); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// syncNewRS gives an existing new replica set the next revision when an
// older template was rolled out since (a rollback reuses it), copies the
// deployment's annotations and minReadySeconds, and records its revision
// on the deployment.
func (p *deployPass) syncNewRS(ctx context.Context) error {
	rs := p.newRS
	annotations, changed := deployRSAnnotations(p.d, rs.Annotations, deployMaxRevision(p.oldRSs)+1)
	if changed || rs.Spec.MinReadySeconds != p.d.Spec.MinReadySeconds {
		cp := *rs
		cp.Annotations = annotations
		cp.Spec.MinReadySeconds = p.d.Spec.MinReadySeconds
		updated, err := p.c.client.ReplicaSets(rs.Namespace).Update(ctx, &cp)
		if err != nil {
			return fmt.Errorf("updating replica set %s: %w", rs.Key(), err)
		}
		p.replaceRS(updated)
	}
	if err := p.setRevision(ctx, p.newRS.Annotations[api.AnnotationRevision]); err != nil {
		return err
	}
	if p.d.Spec.ProgressDeadlineSeconds != nil && api.FindCondition(p.d.Status.Conditions, api.DeploymentProgressing) == nil {
		api.SetCondition(&p.d.Status.Conditions, api.Condition{Type: api.DeploymentProgressing, Status: api.ConditionTrue,
			Reason: deployReasonFoundNewRS, Message: fmt.Sprintf("Found new replica set %q", p.newRS.Name)}, p.now())
	}
	return nil
}

// deployRSAnnotations returns a replica set's annotations with the
// deployment's own annotations copied in (not the controller's) and the
// revision raised to revision if lower, and whether anything changed.
func deployRSAnnotations(d *api.Deployment, have map[string]string, revision int64) (map[string]string, bool) {
	out := maps.Clone(have)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range d.Annotations {
		if !deployOwnAnnotation(k) {
			out[k] = v
		}
	}
	if cur, _ := strconv.ParseInt(out[api.AnnotationRevision], 10, 64); cur < revision {
		out[api.AnnotationRevision] = strconv.FormatInt(revision, 10)
	}
	return out, !maps.Equal(out, have)
}

// deployOwnAnnotation reports annotations the controller manages itself.
func deployOwnAnnotation(k string) bool {
	switch k {
	case api.AnnotationRevision, api.AnnotationRollbackTo, deployDesiredReplicasAnnotation, deployMaxReplicasAnnotation:
		return true
	}
	return false
}

// createNewRS creates the replica set of the current template, sized for
// the strategy's first step. A name taken by a replica set with another
// template is a hash collision: collisionCount goes up and the next pass
// tries another name.
func (p *deployPass) createNewRS(ctx context.Context) error {
	d := p.d
	revision := deployMaxRevision(p.oldRSs) + 1
	rs := deployNewReplicaSet(d, deployTemplateHash(&d.Spec.Template, d.Status.CollisionCount), revision)
	size := deployNewRSReplicas(d, append(slices.Clone(p.oldRSs), rs), rs)
	rs.Spec.Replicas = api.Ptr(size)
	created, err := p.c.client.ReplicaSets(d.Namespace).Create(ctx, rs)
	existed := false
	switch {
	case api.IsAlreadyExists(err):
		existing, getErr := p.c.client.ReplicaSets(d.Namespace).Get(ctx, rs.Name)
		if getErr != nil {
			return fmt.Errorf("reading replica set %s/%s: %w", d.Namespace, rs.Name, getErr)
		}
		ref := existing.ControllerRef()
		if ref == nil || ref.UID != d.UID || !deployTemplatesEqual(&d.Spec.Template, &existing.Spec.Template) {
			return p.hashCollision(ctx, rs.Name)
		}
		created, existed = existing, true // our own, not yet in the cache
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", rs.Name, err)
		if d.Spec.ProgressDeadlineSeconds != nil {
			api.SetCondition(&d.Status.Conditions, api.Condition{Type: api.DeploymentProgressing, Status: api.ConditionFalse,
				Reason: deployReasonRSCreateError, Message: msg}, p.now())
			_ = p.writeStatus(ctx) // the create error is the one to report
		}
		p.c.recorder.Eventf(d, api.EventWarning, deployReasonRSCreateError, "%s", msg)
		return fmt.Errorf("creating replica set %s/%s: %w", d.Namespace, rs.Name, err)
	}
	p.newRS = created
	p.rsList = append(p.rsList, created)
	if !existed && size > 0 {
		p.c.recorder.Eventf(d, api.EventNormal, deployReasonScaling, "Scaled up replica set %s to %d", created.Name, size)
	}
	if err := p.setRevision(ctx, created.Annotations[api.AnnotationRevision]); err != nil {
		return err
	}
	if !existed && d.Spec.ProgressDeadlineSeconds != nil {
		api.SetCondition(&d.Status.Conditions, api.Condition{Type: api.DeploymentProgressing, Status: api.ConditionTrue,
			Reason: deployReasonNewRSCreated, Message: fmt.Sprintf("Created new replica set %q", created.Name),
			LastUpdateTime: p.now()}, p.now())
	}
	return nil
}

// hashCollision bumps status.collisionCount and fails the pass.
func (p *deployPass) hashCollision(ctx context.Context, name string) error {
	n := api.Deref(p.d.Status.CollisionCount, 0) + 1
	p.d.Status.CollisionCount = api.Ptr(n)
	p.c.recorder.Eventf(p.d, api.EventWarning, deployReasonHashCollision,
		"Replica set %q exists with a different template; trying another name (collisionCount %d)", name, n)
	if err := p.writeStatus(ctx); err != nil {
		return err
	}
	return fmt.Errorf("deployment %s: replica set name %q collides with another template", p.d.Key(), name)
}

// deployNewReplicaSet builds the replica set of d's template: its name,
// selector and pod labels carry the template hash, so replica sets of
// one deployment never select each other's pods. Replicas are left at 0.
func deployNewReplicaSet(d *api.Deployment, hash string, revision int64) *api.ReplicaSet {
	tmpl := deployCloneTemplate(&d.Spec.Template)
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[api.LabelPodTemplateHash] = hash
	sel := &api.LabelSelector{MatchLabels: map[string]string{api.LabelPodTemplateHash: hash}}
	if d.Spec.Selector != nil {
		sel.MatchLabels = maps.Clone(d.Spec.Selector.MatchLabels)
		if sel.MatchLabels == nil {
			sel.MatchLabels = map[string]string{}
		}
		sel.MatchLabels[api.LabelPodTemplateHash] = hash
		sel.MatchExpressions = slices.Clone(d.Spec.Selector.MatchExpressions)
	}
	replicas := deployReplicas(d)
	annotations, _ := deployRSAnnotations(d, nil, revision)
	annotations[deployDesiredReplicasAnnotation] = strconv.Itoa(int(replicas))
	annotations[deployMaxReplicasAnnotation] = strconv.Itoa(int(replicas + deployMaxSurge(d)))
	return &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{
			Name: deployRSName(d.Name, hash), Namespace: d.Namespace,
			Labels: maps.Clone(tmpl.Labels), Annotations: annotations,
			OwnerReferences: []api.OwnerReference{NewControllerRef(d)},
		},
		Spec: api.ReplicaSetSpec{Replicas: api.Ptr[int32](0), MinReadySeconds: d.Spec.MinReadySeconds, Selector: sel, Template: tmpl},
	}
}

// deployRSName is <deployment>-<hash>, the deployment part shortened so
// the name stays a 63-character DNS label.
func deployRSName(deployment, hash string) string {
	if room := 63 - len(hash) - 1; len(deployment) > room {
		deployment = deployment[:room]
	}
	return deployment + "-" + hash
}

// deployTemplateHash is a short stable name for a pod template: FNV-32a of
// its JSON (and of collisionCount, when set), in 10 characters of an
// alphabet without vowels, as Kubernetes names replica sets.
func deployTemplateHash(tmpl *api.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	b, _ := json.Marshal(tmpl) // plain data: cannot fail
	h.Write(b)
	if collisionCount != nil {
		var buf [4]byte
		binary.LittleEndian.PutUint32(buf[:], uint32(*collisionCount))
		h.Write(buf[:])
	}
	return deploySafeEncode(fmt.Sprintf("%010d", h.Sum32()))
}

// deploySafeEncode maps each byte onto letters and digits that cannot spell
// words or be confused with each other.
func deploySafeEncode(s string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	out := []byte(s)
	for i := range out {
		out[i] = alphabet[int(out[i])%len(alphabet)]
	}
	return string(out)
}

// deployTemplatesEqual compares two templates ignoring the hash label.
func deployTemplatesEqual(a, b *api.PodTemplateSpec) bool {
	x, y := *a, *b
	x.Labels, y.Labels = deployWithoutHash(a.Labels), deployWithoutHash(b.Labels)
	return rsJSONEqual(x, y)
}

func deployWithoutHash(l map[string]string) map[string]string {
	if _, ok := l[api.LabelPodTemplateHash]; !ok {
		return l
	}
	out := maps.Clone(l)
	delete(out, api.LabelPodTemplateHash)
	return out
}

// deployCloneTemplate deep-copies a template (through JSON: it is plain data).
func deployCloneTemplate(t *api.PodTemplateSpec) api.PodTemplateSpec {
	var out api.PodTemplateSpec
	b, _ := json.Marshal(t)
	_ = json.Unmarshal(b, &out)
	return out
}

// --- revisions ---

// deployRevision is a replica set's revision (0 when unset or garbled).
func deployRevision(rs *api.ReplicaSet) int64 {
	v, err := strconv.ParseInt(rs.Annotations[api.AnnotationRevision], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func deployMaxRevision(rss []*api.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		m = max(m, deployRevision(rs))
	}
	return m
}

// deployPreviousRevision is the second-highest revision (0 when none).
func deployPreviousRevision(rss []*api.ReplicaSet) int64 {
	var first, second int64
	for _, rs := range rss {
		switch v := deployRevision(rs); {
		case v > first:
			first, second = v, first
		case v > second && v < first:
			second = v
		}
	}
	return second
}

// deployRollbackTarget resolves the rollback annotation ("" or "0": the
// previous revision) to a replica set, or explains why it cannot.
func deployRollbackTarget(value string, all []*api.ReplicaSet) (*api.ReplicaSet, int64, string) {
	rev, err := strconv.ParseInt(value, 10, 64)
	switch {
	case value == "":
		rev = 0
	case err != nil || rev < 0:
		return nil, 0, fmt.Sprintf("invalid revision %q: must be a revision number, or 0 for the previous revision", value)
	}
	if rev == 0 {
		if rev = deployPreviousRevision(all); rev == 0 {
			return nil, 0, "Unable to find the previous revision to roll back to: the deployment has only one revision"
		}
	}
	for _, rs := range all {
		if deployRevision(rs) == rev {
			return rs, rev, ""
		}
	}
	return nil, rev, fmt.Sprintf("Unable to find revision %d to roll back to: no replica set of the deployment has it", rev)
}

// rollback copies the requested revision's template into the deployment
// and removes the request; the next pass rolls it out as a new revision
// (reusing that revision's replica set).
func (p *deployPass) rollback(ctx context.Context) error {
	if err := p.resolve(ctx, true); err != nil {
		return err
	}
	d := p.d
	target, rev, problem := deployRollbackTarget(d.Annotations[api.AnnotationRollbackTo], p.allRSs())
	var tmpl *api.PodTemplateSpec
	switch {
	case problem != "":
		p.c.recorder.Eventf(d, api.EventWarning, deployReasonRollbackNotFound, "%s", problem)
	case deployTemplatesEqual(&d.Spec.Template, &target.Spec.Template):
		p.c.recorder.Eventf(d, api.EventWarning, deployReasonRollbackUnchanged,
			"Revision %d has the same template as the deployment's current one; nothing to roll back", rev)
	default:
		t := deployCloneTemplate(&target.Spec.Template)
		t.Labels = deployWithoutHash(t.Labels)
		tmpl = &t
	}
	err := p.updateMeta(ctx, func(d *api.Deployment) {
		delete(d.Annotations, api.AnnotationRollbackTo)
		if tmpl != nil {
			d.Spec.Template = *tmpl
		}
	})
	if err == nil && tmpl != nil {
		p.c.recorder.Eventf(d, api.EventNormal, deployReasonRollback, "Rolled back deployment %q to revision %d", d.Name, rev)
	}
	return err
}

// --- history ---

// deployHistoryToDelete picks old replica sets beyond the history limit,
// lowest revisions first. Only scaled-down ones whose controller has seen
// that (no pods, status current) are deleted.
func deployHistoryToDelete(oldRSs []*api.ReplicaSet, limit int32) []*api.ReplicaSet {
	alive := slices.DeleteFunc(slices.Clone(oldRSs), func(rs *api.ReplicaSet) bool { return rs.DeletionTimestamp != nil })
	excess := len(alive) - int(limit)
	if excess <= 0 {
		return nil
	}
	slices.SortFunc(alive, func(a, b *api.ReplicaSet) int {
		if c := cmp.Compare(deployRevision(a), deployRevision(b)); c != 0 {
			return c
		}
		return deployOlderFirst(a, b)
	})
	var out []*api.ReplicaSet
	for _, rs := range alive[:excess] {
		if rs.Status.Replicas == 0 && deployRSReplicas(rs) == 0 && rs.Generation <= rs.Status.ObservedGeneration {
			out = append(out, rs)
		}
	}
	return out
}

// cleanupHistory deletes old replica sets beyond revisionHistoryLimit.
func (p *deployPass) cleanupHistory(ctx context.Context) error {
	limit := p.d.Spec.RevisionHistoryLimit
	if limit == nil {
		return nil
	}
	for _, rs := range deployHistoryToDelete(p.oldRSs, *limit) {
		err := p.c.client.ReplicaSets(rs.Namespace).Delete(ctx, rs.Name)
		if err != nil && !api.IsNotFound(err) {
			return fmt.Errorf("deleting old replica set %s: %w", rs.Key(), err)
		}
		p.oldRSs = slices.DeleteFunc(p.oldRSs, func(o *api.ReplicaSet) bool { return o.UID == rs.UID })
		p.rsList = slices.DeleteFunc(p.rsList, func(o *api.ReplicaSet) bool { return o.UID == rs.UID })
	}
	return nil
}

// --- proportional scaling ---

// deployResize is one replica set's target size.
type deployResize struct {
	rs   *api.ReplicaSet
	size int32
}

// deployScalePlan sizes the replica sets after spec.replicas changed, as
// Kubernetes does: a single active (or else the newest) replica set takes
// all replicas; a saturated new one leaves the old ones at 0; during a
// rolling update the change is spread over the active replica sets in
// proportion to their size, leftovers going to the largest.
func deployScalePlan(d *api.Deployment, newRS *api.ReplicaSet, oldRSs []*api.ReplicaSet) []deployResize {
	replicas := deployReplicas(d)
	if rs := deployActiveOrLatest(newRS, oldRSs); rs != nil {
		if deployRSReplicas(rs) == replicas {
			return nil
		}
		return []deployResize{{rs, replicas}}
	}
	if deployIsSaturated(d, newRS) {
		var out []deployResize
		for _, rs := range deployActive(oldRSs) {
			out = append(out, deployResize{rs, 0})
		}
		return out
	}
	if d.Spec.Strategy.Type == api.RecreateStrategy {
		return nil
	}
	all := deployActive(append(slices.Clone(oldRSs), newRS))
	allowed := int32(0)
	if replicas > 0 {
		allowed = replicas + deployMaxSurge(d)
	}
	toAdd := allowed - deploySpecSum(all)
	slices.SortFunc(all, func(a, b *api.ReplicaSet) int {
		if c := cmp.Compare(deployRSReplicas(b), deployRSReplicas(a)); c != 0 {
			return c // larger first
		}
		if toAdd > 0 {
			return -deployOlderFirst(a, b) // scaling up: newer first
		}
		return deployOlderFirst(a, b)
	})
	out := make([]deployResize, len(all))
	added := int32(0)
	for i, rs := range all {
		share := deployProportion(d, rs, toAdd, added)
		out[i] = deployResize{rs, deployRSReplicas(rs) + share}
		added += share
	}
	if len(out) > 0 && toAdd != 0 {
		out[0].size = max(out[0].size+toAdd-added, 0)
	}
	return out
}

// deployProportion is rs's share of toAdd replicas (negative when
// scaling down), given what was handed out already.
func deployProportion(d *api.Deployment, rs *api.ReplicaSet, toAdd, added int32) int32 {
	size := deployRSReplicas(rs)
	if size == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	var fraction int32
	if replicas := deployReplicas(d); replicas == 0 {
		fraction = -size
	} else {
		annotated, ok := deployAnnotatedInt(rs, deployMaxReplicasAnnotation)
		if !ok {
			annotated = d.Status.Replicas
		}
		if annotated > 0 {
			target := float64(size) * float64(replicas+deployMaxSurge(d)) / float64(annotated)
			fraction = int32(math.Round(target)) - size
		}
	}
	allowed := toAdd - added
	if toAdd > 0 {
		return min(fraction, allowed)
	}
	return max(fraction, allowed)
}

// deployActiveOrLatest returns the only active replica set, or the newest
// (new first) when none is active, or nil when several are.
func deployActiveOrLatest(newRS *api.ReplicaSet, oldRSs []*api.ReplicaSet) *api.ReplicaSet {
	all := slices.Clone(oldRSs)
	if newRS != nil {
		all = append(all, newRS)
	}
	switch active := deployActive(all); len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		if len(oldRSs) == 0 {
			return nil
		}
		return slices.MaxFunc(oldRSs, deployOlderFirst)
	case 1:
		return active[0]
	}
	return nil
}

// deployIsSaturated reports whether the new replica set runs the whole
// deployment, sized for the current spec.replicas.
func deployIsSaturated(d *api.Deployment, rs *api.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	replicas := deployReplicas(d)
	desired, ok := deployAnnotatedInt(rs, deployDesiredReplicasAnnotation)
	return ok && desired == replicas && deployRSReplicas(rs) == replicas && rs.Status.AvailableReplicas == replicas
}

func deployAnnotatedInt(rs *api.ReplicaSet, key string) (int32, bool) {
	v, err := strconv.ParseInt(rs.Annotations[key], 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(v), true
}
