package autoscaler

import (
	"math"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// Behaviour, ported from Kubernetes' horizontal.go
// (normalizeDesiredReplicasWithBehaviors): the metrics' proposal is first
// stabilised (the highest recommendation of the scale-down window, the
// lowest of the scale-up window), then limited by the bounds and by the
// scaling policies, which count the changes made within each policy's
// period. The history lives in memory, per autoscaler, as in Kubernetes: a
// new leader starts with none (and seeds the scale-down window with the
// current count, so it does not scale down at once).

type recommendation struct {
	replicas int32
	at       time.Time
}

type scaleEvent struct {
	change int32 // always positive
	at     time.Time
}

// history is one autoscaler's recent recommendations and scale events.
type history struct {
	recommendations []recommendation
	up, down        []scaleEvent
}

// verdict is the outcome of normalisation with the conditions it explains.
type verdict struct {
	replicas int32
	// able is AbleToScale's reason and message (stabilised or ready).
	ableReason, ableMessage string
	// limited reports ScalingLimited, with its reason and message.
	limited                       bool
	limitedReason, limitedMessage string
}

// normalize turns a proposal into the replica count to apply now.
func (h *history) normalize(now time.Time, spec *api.AutoscalerSpec, current, proposed int32) verdict {
	up, down := spec.Behavior.ScaleUp, spec.Behavior.ScaleDown
	if len(h.recommendations) == 0 && api.Deref(down.StabilizationWindowSeconds, 0) > 0 {
		h.recommendations = append(h.recommendations, recommendation{current, now})
	}
	stabilized, reason, message := h.stabilize(now, up, down, current, proposed)
	v := verdict{ableReason: api.ReasonReadyForNewScale, ableMessage: "recommended size matches current size"}
	if stabilized != proposed {
		v.ableReason, v.ableMessage = reason, message
	}
	v.replicas, v.limitedReason, v.limitedMessage = h.limitRate(now, spec, current, stabilized)
	v.limited = v.replicas != stabilized
	return v
}

// stabilize clamps the proposal between the lowest recommendation of the
// scale-up window and the highest of the scale-down window, and records it
// (reusing a slot older than both windows).
func (h *history) stabilize(now time.Time, up, down *api.ScalingRules, current, proposed int32) (int32, string, string) {
	upCutoff := now.Add(-seconds(api.Deref(up.StabilizationWindowSeconds, 0)))
	downCutoff := now.Add(-seconds(api.Deref(down.StabilizationWindowSeconds, 0)))
	upRec, downRec := proposed, proposed
	old := -1
	for i, r := range h.recommendations {
		if r.at.After(upCutoff) {
			upRec = min(upRec, r.replicas)
		}
		if r.at.After(downCutoff) {
			downRec = max(downRec, r.replicas)
		}
		if r.at.Before(upCutoff) && r.at.Before(downCutoff) {
			old = i
		}
	}
	rec := max(current, upRec)
	rec = min(rec, downRec)
	if old >= 0 {
		h.recommendations[old] = recommendation{proposed, now}
	} else {
		h.recommendations = append(h.recommendations, recommendation{proposed, now})
	}
	if proposed >= current {
		return rec, api.ReasonScaleUpStabilized, "recent recommendations were lower than current one, applying the lowest recent recommendation"
	}
	return rec, api.ReasonScaleDownStabilized, "recent recommendations were higher than current one, applying the highest recent recommendation"
}

// limitRate applies the bounds and the scaling policies.
func (h *history) limitRate(now time.Time, spec *api.AutoscalerSpec, current, desired int32) (int32, string, string) {
	minReplicas := api.Deref(spec.MinReplicas, 1)
	switch {
	case desired > current:
		limit := max(scaleUpLimit(now, current, h.up, h.down, spec.Behavior.ScaleUp), current)
		allowed, reason, message := spec.MaxReplicas, api.ReasonTooManyReplicas, "the desired replica count is more than the maximum replica count"
		if allowed > limit {
			allowed, reason, message = limit, api.ReasonScaleUpLimit, "the desired replica count is increasing faster than the maximum scale rate"
		}
		if desired > allowed {
			return allowed, reason, message
		}
	case desired < current:
		limit := min(scaleDownLimit(now, current, h.up, h.down, spec.Behavior.ScaleDown), current)
		allowed, reason, message := minReplicas, api.ReasonTooFewReplicas, "the desired replica count is less than the minimum replica count"
		if allowed < limit {
			allowed, reason, message = limit, api.ReasonScaleDownLimit, "the desired replica count is decreasing faster than the maximum scale rate"
		}
		if desired < allowed {
			return allowed, reason, message
		}
	}
	return desired, api.ReasonDesiredWithinRange, "the desired count is within the acceptable range"
}

// scaleUpLimit is the most replicas the policies allow now: each policy
// counts from the replicas at the start of its period; Max takes the
// largest allowance, Min the smallest, Disabled none.
func scaleUpLimit(now time.Time, current int32, ups, downs []scaleEvent, r *api.ScalingRules) int32 {
	sel := api.Deref(r.SelectPolicy, api.MaxChangePolicySelect)
	if sel == api.DisabledPolicySelect {
		return current
	}
	result, pick := int32(math.MinInt32), maxInt32
	if sel == api.MinChangePolicySelect {
		result, pick = math.MaxInt32, minInt32
	}
	for _, p := range r.Policies {
		start := current - changeWithin(now, p.PeriodSeconds, ups) + changeWithin(now, p.PeriodSeconds, downs)
		var proposed int32
		switch p.Type {
		case api.PodsScalingPolicy:
			proposed = start + p.Value
		case api.PercentScalingPolicy:
			// Rounded up, so that a small count can always grow.
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		result = pick(result, proposed)
	}
	return result
}

// scaleDownLimit is the fewest replicas the policies allow now.
func scaleDownLimit(now time.Time, current int32, ups, downs []scaleEvent, r *api.ScalingRules) int32 {
	sel := api.Deref(r.SelectPolicy, api.MaxChangePolicySelect)
	if sel == api.DisabledPolicySelect {
		return current
	}
	result, pick := int32(math.MaxInt32), minInt32
	if sel == api.MinChangePolicySelect {
		result, pick = math.MinInt32, maxInt32
	}
	for _, p := range r.Policies {
		start := current - changeWithin(now, p.PeriodSeconds, ups) + changeWithin(now, p.PeriodSeconds, downs)
		var proposed int32
		switch p.Type {
		case api.PodsScalingPolicy:
			proposed = start - p.Value
		case api.PercentScalingPolicy:
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		result = pick(result, proposed)
	}
	return result
}

// changeWithin sums the changes made within the last period.
func changeWithin(now time.Time, periodSeconds int32, events []scaleEvent) int32 {
	cutoff := now.Add(-seconds(periodSeconds))
	var n int32
	for _, e := range events {
		if e.at.After(cutoff) {
			n += e.change
		}
	}
	return n
}

// recordScale remembers a rescale for the policies, dropping events older
// than the longest policy period of their direction.
func (h *history) recordScale(now time.Time, spec *api.AutoscalerSpec, from, to int32) {
	prune := func(events []scaleEvent, r *api.ScalingRules) []scaleEvent {
		var longest int32
		for _, p := range r.Policies {
			longest = max(longest, p.PeriodSeconds)
		}
		cutoff := now.Add(-seconds(longest))
		out := events[:0]
		for _, e := range events {
			if e.at.After(cutoff) {
				out = append(out, e)
			}
		}
		return out
	}
	switch {
	case to > from:
		h.up = append(prune(h.up, spec.Behavior.ScaleUp), scaleEvent{to - from, now})
	case to < from:
		h.down = append(prune(h.down, spec.Behavior.ScaleDown), scaleEvent{from - to, now})
	}
}

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }
func maxInt32(a, b int32) int32     { return max(a, b) }
func minInt32(a, b int32) int32     { return min(a, b) }
