package autoscaler

import (
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
)

// defaultedSpec is an autoscaler spec with the API's defaults (Kubernetes'
// behaviour), min and max as given, edited by edit.
func defaultedSpec(min, max int32, edit func(*api.AutoscalerBehavior)) api.AutoscalerSpec {
	a := &api.Autoscaler{Spec: api.AutoscalerSpec{MinReplicas: api.Ptr(min), MaxReplicas: max, Behavior: &api.AutoscalerBehavior{}}}
	if edit != nil {
		edit(a.Spec.Behavior)
	}
	api.Default(a)
	return a.Spec
}

func policy(typ api.ScalingPolicyType, value, period int32) api.ScalingPolicy {
	return api.ScalingPolicy{Type: typ, Value: value, PeriodSeconds: period}
}

// TestBehavior: stabilisation, scaling policies (with the changes already
// made in their period) and bounds, with the reasons the conditions carry.
func TestBehavior(t *testing.T) {
	now := testNow
	ago := func(s int) time.Time { return now.Add(-time.Duration(s) * time.Second) }
	noWindow := func(b *api.AutoscalerBehavior) {
		b.ScaleDown = &api.ScalingRules{StabilizationWindowSeconds: api.Ptr[int32](0)}
	}
	cases := []struct {
		name              string
		spec              api.AutoscalerSpec
		hist              history
		current, proposed int32
		want              int32
		wantLimited       string // ScalingLimited reason when limited
		wantAble          string
	}{
		{name: "default scale-up: 100 % beats 4 pods", spec: defaultedSpec(1, 100, nil), current: 10, proposed: 50, want: 20,
			wantLimited: api.ReasonScaleUpLimit, wantAble: api.ReasonReadyForNewScale},
		{name: "default scale-up: 4 pods beat 100 % of 1", spec: defaultedSpec(1, 100, nil), current: 1, proposed: 50, want: 5,
			wantLimited: api.ReasonScaleUpLimit, wantAble: api.ReasonReadyForNewScale},
		{name: "scale-up within the policies", spec: defaultedSpec(1, 100, nil), current: 10, proposed: 15, want: 15,
			wantAble: api.ReasonReadyForNewScale},
		{name: "scale-up stops at max", spec: defaultedSpec(1, 12, nil), current: 10, proposed: 15, want: 12,
			wantLimited: api.ReasonTooManyReplicas, wantAble: api.ReasonReadyForNewScale},
		{name: "Min select: the smaller allowance", spec: defaultedSpec(1, 100, func(b *api.AutoscalerBehavior) {
			b.ScaleUp = &api.ScalingRules{SelectPolicy: api.Ptr(api.MinChangePolicySelect)}
		}), current: 10, proposed: 50, want: 14, wantLimited: api.ReasonScaleUpLimit, wantAble: api.ReasonReadyForNewScale},
		{name: "scale-up disabled", spec: defaultedSpec(1, 100, func(b *api.AutoscalerBehavior) {
			b.ScaleUp = &api.ScalingRules{SelectPolicy: api.Ptr(api.DisabledPolicySelect)}
		}), current: 10, proposed: 50, want: 10, wantLimited: api.ReasonScaleUpLimit, wantAble: api.ReasonReadyForNewScale},
		{name: "changes of the period count: no room left", spec: defaultedSpec(1, 100, func(b *api.AutoscalerBehavior) {
			b.ScaleUp = &api.ScalingRules{Policies: []api.ScalingPolicy{policy(api.PodsScalingPolicy, 2, 60)}}
		}), hist: history{up: []scaleEvent{{2, ago(30)}}}, current: 12, proposed: 20, want: 12,
			wantLimited: api.ReasonScaleUpLimit, wantAble: api.ReasonReadyForNewScale},
		{name: "changes older than the period do not count", spec: defaultedSpec(1, 100, func(b *api.AutoscalerBehavior) {
			b.ScaleUp = &api.ScalingRules{Policies: []api.ScalingPolicy{policy(api.PodsScalingPolicy, 2, 60)}}
		}), hist: history{up: []scaleEvent{{2, ago(90)}}}, current: 12, proposed: 20, want: 14,
			wantLimited: api.ReasonScaleUpLimit, wantAble: api.ReasonReadyForNewScale},
		{name: "scale-down after a scale-down in the period", spec: defaultedSpec(1, 100, func(b *api.AutoscalerBehavior) {
			noWindow(b)
			b.ScaleDown.Policies = []api.ScalingPolicy{policy(api.PercentScalingPolicy, 50, 60)}
		}), hist: history{down: []scaleEvent{{10, ago(20)}}}, current: 10, proposed: 1, want: 10,
			wantLimited: api.ReasonScaleDownLimit, wantAble: api.ReasonReadyForNewScale},
		{name: "default scale-down without a window: to min", spec: defaultedSpec(3, 100, noWindow), current: 10, proposed: 1, want: 3,
			wantLimited: api.ReasonTooFewReplicas, wantAble: api.ReasonReadyForNewScale},
		{name: "scale-down by percent truncates as Kubernetes (7.5 -> 7)", spec: defaultedSpec(1, 100, func(b *api.AutoscalerBehavior) {
			noWindow(b)
			b.ScaleDown.Policies = []api.ScalingPolicy{policy(api.PercentScalingPolicy, 25, 60)}
		}), current: 10, proposed: 1, want: 7, wantLimited: api.ReasonScaleDownLimit, wantAble: api.ReasonReadyForNewScale},
		{name: "scale-down window: the highest recent recommendation", spec: defaultedSpec(1, 100, nil),
			hist:    history{recommendations: []recommendation{{8, ago(100)}, {6, ago(50)}, {9, ago(400)}}},
			current: 10, proposed: 2, want: 8, wantAble: api.ReasonScaleDownStabilized},
		{name: "scale-up window: the lowest recent recommendation", spec: defaultedSpec(1, 100, func(b *api.AutoscalerBehavior) {
			b.ScaleUp = &api.ScalingRules{StabilizationWindowSeconds: api.Ptr[int32](60)}
		}), hist: history{recommendations: []recommendation{{6, ago(30)}, {4, ago(120)}}},
			current: 5, proposed: 9, want: 6, wantAble: api.ReasonScaleUpStabilized},
		{name: "first run seeds the scale-down window with the current count", spec: defaultedSpec(1, 100, nil),
			current: 10, proposed: 2, want: 10, wantAble: api.ReasonScaleDownStabilized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.hist
			v := h.normalize(now, &tc.spec, tc.current, tc.proposed)
			if v.replicas != tc.want {
				t.Errorf("replicas = %d, want %d", v.replicas, tc.want)
			}
			if v.limited != (tc.wantLimited != "") || v.limited && v.limitedReason != tc.wantLimited {
				t.Errorf("limited = %v (%s), want %q", v.limited, v.limitedReason, tc.wantLimited)
			}
			if v.ableReason != tc.wantAble {
				t.Errorf("AbleToScale reason %s, want %s", v.ableReason, tc.wantAble)
			}
		})
	}
}

// TestRecordScalePrunes: scale events older than the longest policy
// period are dropped when a new one is recorded.
func TestRecordScalePrunes(t *testing.T) {
	spec := defaultedSpec(1, 100, nil) // 15 s periods
	h := &history{up: []scaleEvent{{1, testNow.Add(-time.Minute)}, {1, testNow.Add(-5 * time.Second)}}}
	h.recordScale(testNow, &spec, 3, 5)
	if len(h.up) != 2 || h.up[1].change != 2 {
		t.Errorf("scale-up events %+v, want the recent one and the new +2", h.up)
	}
}
