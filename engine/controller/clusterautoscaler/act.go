package clusterautoscaler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/controller"
)

// scaleUp carries out a scale-up decision: the chosen pool's new size,
// then what each pending pod and pool is told.
func (c *Controller) scaleUp(ctx context.Context, cl cluster, up ScaleUp) error {
	var errs []error
	pools := map[string]PoolState{}
	for _, p := range cl.pools {
		pools[p.name()] = p
	}
	if ch := up.Chosen; ch.Pool != "" {
		p := pools[ch.Pool]
		to := p.Size + ch.Nodes
		msg := fmt.Sprintf("size %d -> %d (max %d) for %d pending pod(s)", p.Size, to, p.Pool.Spec.MaxSize, len(ch.Pods))
		if err := c.resize(ctx, p.Pool.Name, p.Size, to, msg, api.ReasonScaledUpGroup); err != nil {
			errs = append(errs, err)
		} else {
			c.log.Info("scaled up", "pool", ch.Pool, "from", p.Size, "to", to, "pods", len(ch.Pods), "waste", ch.Waste)
			for _, k := range ch.Pods {
				up.Waiting[k] = ch.Pool
			}
			p.Size = to
			pools[ch.Pool] = p
		}
	}
	for _, pod := range cl.pending {
		k := pod.Key()
		if pool, ok := up.Waiting[k]; ok {
			n := pools[pool].upcoming()
			c.tell(pod, api.EventNormal, api.ReasonTriggeredScaleUp, pool,
				"%s%s to add %d node(s) (size %d, max %d)", api.MessageWaitingForPool, pool, n, pools[pool].Size, pools[pool].Pool.Spec.MaxSize)
		}
		if msg, ok := up.NoScaleUp[k]; ok {
			if up.Never[k] {
				msg = api.MessageNoPoolCanHold + ": " + strings.TrimPrefix(msg, "pod didn't trigger scale-up: ")
			}
			c.tell(pod, api.EventWarning, api.ReasonNotTriggerScaleUp, msg, "%s", msg)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(pools)) {
		if name == up.Chosen.Pool {
			continue
		}
		if n, why := notHelped(name, up); n > 0 {
			errs = append(errs, c.setCondition(ctx, name, api.ConditionFalse, api.ReasonNotTriggerScaleUp,
				fmt.Sprintf("%d pending pod(s) no new node of this pool would hold: %s", n, why)))
		}
	}
	return errors.Join(errs...)
}

// notHelped counts the pods up could not help that name pool, with the
// first reason given for it.
func notHelped(pool string, up ScaleUp) (int, string) {
	n, first := 0, ""
	for _, k := range slices.Sorted(maps.Keys(up.NoScaleUp)) {
		for part := range strings.SplitSeq(strings.TrimPrefix(up.NoScaleUp[k], "pod didn't trigger scale-up: "), "; ") {
			if strings.HasPrefix(part, "node pool "+pool+":") || strings.HasPrefix(part, "node pool "+pool+" ") {
				n++
				if first == "" {
					first = k + ": " + part
				}
			}
		}
	}
	return n, first
}

// tell records an event on a pending pod, once per what (a pool, or the
// message): a pod waits without a new event every pass.
func (c *Controller) tell(pod *api.Pod, typ, reason, what, format string, args ...any) {
	key := reason + "/" + what
	if c.told[pod.Key()] == key {
		return
	}
	c.told[pod.Key()] = key
	c.d.Recorder.Eventf(pod, typ, reason, format, args...)
}

// scaleDown runs the scale-down planner and removes the node it picks:
// its machine is marked first, then the pool's size lowered by one, so the
// pool controller deletes (and drains) that machine and no other.
func (c *Controller) scaleDown(ctx context.Context, cl cluster, now time.Time) error {
	down := PlanScaleDown(ScaleDownInput{Nodes: cl.nodes, Pods: cl.bound, Pools: cl.pools, Unneeded: c.unneeded, Now: now,
		Threshold: c.cfg.ScaleDownUtilizationThreshold, UnneededTime: c.cfg.ScaleDownUnneededTime})
	c.unneeded = down.Unneeded
	r := down.Remove
	if r == nil {
		return nil
	}
	var ps PoolState
	for _, p := range cl.pools {
		if p.name() == r.Pool {
			ps = p
		}
	}
	var machine *api.Machine
	for _, m := range c.machines.ByIndex(controller.IndexOwnerUID, ps.Pool.UID) {
		if nodeOf(m) == r.Node && m.DeletionTimestamp == nil {
			machine = m
		}
	}
	if machine == nil {
		return fmt.Errorf("scaling node pool %s down: no machine of node %s", r.Pool, r.Node)
	}
	if err := c.mark(ctx, machine.Name); err != nil {
		return err
	}
	if err := c.resize(ctx, r.Pool, ps.Size, ps.Size-1, r.Message, api.ReasonScaleDown); err != nil {
		return err
	}
	delete(c.unneeded, r.Node)
	if n, ok := c.nodes.Get(r.Node); ok {
		c.d.Recorder.Eventf(n, api.EventNormal, api.ReasonScaleDown, "%s", r.Message)
	}
	c.log.Info("scaling down", "pool", r.Pool, "node", r.Node, "machine", machine.Name, "why", r.Message)
	return nil
}

// conflictRetries bounds the retries of a write that lost a race with
// the pool controller's own.
const conflictRetries = 5

// resize moves a pool's spec.size from one value to another, only if it
// still is from (someone else resized it: the next pass decides again),
// within its bounds; the pool's event and Autoscaling condition say why.
func (c *Controller) resize(ctx context.Context, pool string, from, to int, msg, reason string) error {
	for range conflictRetries {
		p, err := c.d.Client.NodePools().Get(ctx, pool)
		if err != nil {
			return fmt.Errorf("resizing node pool %s: %w", pool, err)
		}
		cur := int(p.Spec.MinSize)
		if p.Spec.Size != nil {
			cur = int(*p.Spec.Size)
		}
		if cur != from || !p.Spec.Autoscaling {
			return fmt.Errorf("resizing node pool %s: its size changed to %d meanwhile", pool, cur)
		}
		to = max(int(p.Spec.MinSize), min(int(p.Spec.MaxSize), to))
		p.Spec.Size = api.Ptr(int32(to))
		if _, err = c.d.Client.NodePools().Update(ctx, p); api.IsConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("resizing node pool %s to %d: %w", pool, to, err)
		}
		c.d.Recorder.Eventf(p, api.EventNormal, reason, "%s", msg)
		return c.setCondition(ctx, pool, api.ConditionTrue, reason, msg)
	}
	return fmt.Errorf("resizing node pool %s: conflicts %d times", pool, conflictRetries)
}

// mark names a machine for the pool's next scale-down.
func (c *Controller) mark(ctx context.Context, name string) error {
	for range conflictRetries {
		m, err := c.d.Client.Machines().Get(ctx, name)
		if err != nil {
			return fmt.Errorf("marking machine %s for scale-down: %w", name, err)
		}
		if m.Annotations[api.AnnotationDeleteMachine] != "" {
			return nil
		}
		m.Annotations = maps.Clone(m.Annotations)
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations[api.AnnotationDeleteMachine] = c.d.Now().UTC().Format(time.RFC3339)
		if _, err = c.d.Client.Machines().Update(ctx, m); api.IsConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("marking machine %s for scale-down: %w", name, err)
		}
		return nil
	}
	return fmt.Errorf("marking machine %s for scale-down: conflicts %d times", name, conflictRetries)
}

// setCondition sets the pool's Autoscaling condition when it changed.
func (c *Controller) setCondition(ctx context.Context, pool string, status api.ConditionStatus, reason, msg string) error {
	for range conflictRetries {
		p, err := c.d.Client.NodePools().Get(ctx, pool)
		if err != nil {
			return fmt.Errorf("node pool %s condition: %w", pool, err)
		}
		if old := api.FindCondition(p.Status.Conditions, api.NodePoolAutoscaling); old != nil &&
			old.Status == status && old.Reason == reason && old.Message == msg {
			return nil
		}
		p.Status.Conditions = slices.Clone(p.Status.Conditions)
		api.SetCondition(&p.Status.Conditions, api.Condition{Type: api.NodePoolAutoscaling, Status: status, Reason: reason, Message: msg}, c.d.Now().UTC())
		if _, err = c.d.Client.NodePools().UpdateStatus(ctx, p); api.IsConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("node pool %s condition: %w", pool, err)
		}
		return nil
	}
	return fmt.Errorf("node pool %s condition: conflicts %d times", pool, conflictRetries)
}
