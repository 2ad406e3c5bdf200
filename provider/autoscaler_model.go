package provider

import (
	"context"
	"reflect"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// Conversions between maestro_autoscaler's model and api.Autoscaler. What
// the configuration leaves out, the server defaults (metrics, behaviour);
// the state keeps it out as long as the live value is that default, so a
// short configuration plans clean and a change made elsewhere still shows.

// expandAutoscaler writes the plan into a: an empty object on create, the
// live one on update (its spec is replaced whole).
func expandAutoscaler(ctx context.Context, plan, state, _ *AutoscalerResourceModel, a *api.Autoscaler, diags *diag.Diagnostics) {
	var prior *metadataModel
	if state != nil {
		prior = state.Metadata
	}
	expandMetadata(ctx, plan.Metadata, prior, &a.ObjectMeta, diags)
	a.Spec = expandAutoscalerSpec(plan.Spec, diags)
}

// expandAutoscalerSpec is the API spec of the spec block.
func expandAutoscalerSpec(ps *autoscalerSpecModel, diags *diag.Diagnostics) api.AutoscalerSpec {
	if ps == nil {
		return api.AutoscalerSpec{} // ValidateConfig reports the missing block
	}
	spec := api.AutoscalerSpec{MaxReplicas: int32(ps.MaxReplicas.ValueInt64())}
	if t := ps.Target; t != nil {
		spec.ScaleTargetRef = api.ScaleTargetRef{Kind: "Deployment", Name: t.Name.ValueString()}
		if known(t.Kind) {
			spec.ScaleTargetRef.Kind = t.Kind.ValueString()
		}
	}
	if !ps.MinReplicas.IsNull() && !ps.MinReplicas.IsUnknown() {
		spec.MinReplicas = api.Ptr(int32(ps.MinReplicas.ValueInt64()))
	}
	for _, m := range ps.Metrics {
		ms := api.MetricSpec{Resource: api.ResourceMetricSource{Name: api.ResourceName(m.Resource.ValueString())}}
		if known(m.AverageValue) {
			q, err := resource.ParseQuantity(m.AverageValue.ValueString())
			if err != nil {
				diags.AddError("Invalid average_value", err.Error())
				continue
			}
			ms.Resource.Target = api.MetricTarget{Type: api.AverageValueMetric, AverageValue: &q}
		} else {
			ms.Resource.Target = api.MetricTarget{Type: api.UtilizationMetric, AverageUtilization: api.Ptr(int32(m.AverageUtilization.ValueInt64()))}
		}
		spec.Metrics = append(spec.Metrics, ms)
	}
	if b := ps.Behavior; b != nil {
		spec.Behavior = &api.AutoscalerBehavior{ScaleUp: expandRules(b.ScaleUp), ScaleDown: expandRules(b.ScaleDown)}
	}
	return spec
}

func expandRules(r *scalingRulesModel) *api.ScalingRules {
	if r == nil {
		return nil
	}
	out := &api.ScalingRules{}
	if !r.StabilizationWindowSeconds.IsNull() && !r.StabilizationWindowSeconds.IsUnknown() {
		out.StabilizationWindowSeconds = api.Ptr(int32(r.StabilizationWindowSeconds.ValueInt64()))
	}
	if known(r.SelectPolicy) {
		out.SelectPolicy = api.Ptr(api.ScalingPolicySelect(r.SelectPolicy.ValueString()))
	}
	for _, p := range r.Policies {
		out.Policies = append(out.Policies, api.ScalingPolicy{Type: api.ScalingPolicyType(p.Type.ValueString()),
			Value: int32(p.Value.ValueInt64()), PeriodSeconds: int32(p.PeriodSeconds.ValueInt64())})
	}
	return out
}

// flattenAutoscaler writes a into m, which holds the prior values (zero on
// import).
func flattenAutoscaler(ctx context.Context, a *api.Autoscaler, m *AutoscalerResourceModel, _ bool, diags *diag.Diagnostics) {
	m.ID = flattenMetadata(ctx, &a.ObjectMeta, &m.Metadata, diags)
	if m.Spec == nil {
		m.Spec = &autoscalerSpecModel{}
	}
	flattenAutoscalerSpec(&a.Spec, m.Spec)
}

// flattenAutoscalerSpec writes s into the spec block m, which holds the
// prior values.
func flattenAutoscalerSpec(s *api.AutoscalerSpec, m *autoscalerSpecModel) {
	m.Target = &scaleTargetModel{Kind: types.StringValue(s.ScaleTargetRef.Kind), Name: types.StringValue(s.ScaleTargetRef.Name)}
	m.MinReplicas = types.Int64Value(int64(api.Deref(s.MinReplicas, 1)))
	m.MaxReplicas = types.Int64Value(int64(s.MaxReplicas))

	defaults := &api.Autoscaler{}
	api.Default(defaults)
	def := &defaults.Spec
	if len(m.Metrics) == 0 && reflect.DeepEqual(s.Metrics, def.Metrics) {
		m.Metrics = nil
	} else {
		m.Metrics = flattenMetrics(s.Metrics, m.Metrics)
	}
	up, down := rulesOf(s.Behavior, true), rulesOf(s.Behavior, false)
	defUp, defDown := rulesOf(def.Behavior, true), rulesOf(def.Behavior, false)
	if m.Behavior == nil && reflect.DeepEqual(up, defUp) && reflect.DeepEqual(down, defDown) {
		return
	}
	if m.Behavior == nil {
		m.Behavior = &behaviorModel{}
	}
	m.Behavior.ScaleUp = flattenRules(up, defUp, m.Behavior.ScaleUp)
	m.Behavior.ScaleDown = flattenRules(down, defDown, m.Behavior.ScaleDown)
}

// flattenMetrics keeps a prior average value written differently but
// equal ("0.5" for "500m").
func flattenMetrics(ms []api.MetricSpec, prior []metricModel) []metricModel {
	out := make([]metricModel, len(ms))
	for i, ms := range ms {
		mm := metricModel{Resource: types.StringValue(string(ms.Resource.Name)),
			AverageUtilization: types.Int64Null(), AverageValue: types.StringNull()}
		t := ms.Resource.Target
		if t.AverageUtilization != nil {
			mm.AverageUtilization = types.Int64Value(int64(*t.AverageUtilization))
		}
		if t.AverageValue != nil {
			mm.AverageValue = types.StringValue(t.AverageValue.String())
			if i < len(prior) && known(prior[i].AverageValue) {
				if q, err := resource.ParseQuantity(prior[i].AverageValue.ValueString()); err == nil && q.Cmp(*t.AverageValue) == 0 {
					mm.AverageValue = prior[i].AverageValue
				}
			}
		}
		out[i] = mm
	}
	return out
}

// rulesOf is one direction's rules (empty when unset).
func rulesOf(b *api.AutoscalerBehavior, up bool) api.ScalingRules {
	switch {
	case b == nil:
	case up && b.ScaleUp != nil:
		return *b.ScaleUp
	case !up && b.ScaleDown != nil:
		return *b.ScaleDown
	}
	return api.ScalingRules{}
}

// flattenRules shows a direction's rules, leaving out what the prior left
// out while the live value is the default.
func flattenRules(live, def api.ScalingRules, prior *scalingRulesModel) *scalingRulesModel {
	if prior == nil && reflect.DeepEqual(live, def) {
		return nil
	}
	if prior == nil {
		prior = &scalingRulesModel{StabilizationWindowSeconds: types.Int64Null(), SelectPolicy: types.StringNull()}
	}
	out := &scalingRulesModel{StabilizationWindowSeconds: types.Int64Null(), SelectPolicy: types.StringNull()}
	if w := live.StabilizationWindowSeconds; w != nil && (!prior.StabilizationWindowSeconds.IsNull() || *w != api.Deref(def.StabilizationWindowSeconds, 0)) {
		out.StabilizationWindowSeconds = types.Int64Value(int64(*w))
	}
	if sp := live.SelectPolicy; sp != nil && (!prior.SelectPolicy.IsNull() || *sp != api.Deref(def.SelectPolicy, "")) {
		out.SelectPolicy = types.StringValue(string(*sp))
	}
	if len(prior.Policies) > 0 || !reflect.DeepEqual(live.Policies, def.Policies) {
		for _, p := range live.Policies {
			out.Policies = append(out.Policies, scalingPolicyModel{Type: types.StringValue(string(p.Type)),
				Value: types.Int64Value(int64(p.Value)), PeriodSeconds: types.Int64Value(int64(p.PeriodSeconds))})
		}
	}
	return out
}
