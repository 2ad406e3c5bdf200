package provider

import (
	"context"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
)

// Conversions between maestro_deployment's model and api.Deployment.

// expandDeployment writes the plan into d. d is empty on create and the
// live object on update (state is then the prior state), so fields
// Terraform does not manage, and labels it does not track, survive.
func expandDeployment(ctx context.Context, plan, state, _ *DeploymentResourceModel, d *api.Deployment, diags *diag.Diagnostics) {
	var prior *metadataModel
	if state != nil {
		prior = state.Metadata
	}
	expandMetadata(ctx, plan.Metadata, prior, &d.ObjectMeta, diags)

	spec := plan.Spec
	if !spec.Replicas.IsNull() && !spec.Replicas.IsUnknown() {
		d.Spec.Replicas = api.Ptr(int32(spec.Replicas.ValueInt64()))
	}
	if v := spec.MinReadySeconds; !v.IsUnknown() {
		d.Spec.MinReadySeconds = int32(v.ValueInt64()) // null: 0
	}
	if v := spec.ProgressDeadlineSeconds; !v.IsUnknown() {
		d.Spec.ProgressDeadlineSeconds = nil // null: the server's default
		if !v.IsNull() {
			d.Spec.ProgressDeadlineSeconds = api.Ptr(int32(v.ValueInt64()))
		}
	}
	d.Spec.Selector = &api.LabelSelector{MatchLabels: stringMap(ctx, spec.Selector.MatchLabels, diags)}
	if s := spec.Strategy; s != nil {
		d.Spec.Strategy = api.DeploymentStrategy{Type: s.Type.ValueString()}
		if ru := s.RollingUpdate; ru != nil {
			d.Spec.Strategy.RollingUpdate = &api.RollingUpdateDeployment{
				MaxSurge:       intOrString(ru.MaxSurge),
				MaxUnavailable: intOrString(ru.MaxUnavailable),
			}
		}
	}
	t := spec.Template
	d.Spec.Template.Labels = stringMap(ctx, t.Labels, diags)
	expandPodSpec(ctx, &t.PodSpecModel, &d.Spec.Template.Spec, diags)
}

// intOrString reads "3" as a count and "25%" as a percentage.
func intOrString(v types.String) *api.IntOrString {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	if n, err := strconv.Atoi(v.ValueString()); err == nil {
		return api.Ptr(api.FromInt(int32(n)))
	}
	return api.Ptr(api.FromString(v.ValueString()))
}

// flattenDeployment writes d into m. m holds the prior values (the plan
// after a write, the state on refresh); on import it is empty and
// everything the server has is taken. Optional values the prior left out
// stay out when the server only filled in its default.
func flattenDeployment(ctx context.Context, d *api.Deployment, m *DeploymentResourceModel, importing bool, diags *diag.Diagnostics) {
	m.ID = flattenMetadata(ctx, &d.ObjectMeta, &m.Metadata, diags)
	if m.Spec == nil {
		m.Spec = &deploymentSpecModel{}
	}
	spec := m.Spec
	spec.Replicas = types.Int64Value(1)
	if d.Spec.Replicas != nil {
		spec.Replicas = types.Int64Value(int64(*d.Spec.Replicas))
	}
	spec.MinReadySeconds = int64OrNull(int64(d.Spec.MinReadySeconds), 0, spec.MinReadySeconds, importing)
	spec.ProgressDeadlineSeconds = int64OrNull(int64(api.Deref(d.Spec.ProgressDeadlineSeconds, api.DefaultProgressDeadlineSeconds)),
		api.DefaultProgressDeadlineSeconds, spec.ProgressDeadlineSeconds, importing)
	var matchLabels map[string]string
	if d.Spec.Selector != nil {
		matchLabels = d.Spec.Selector.MatchLabels
	}
	spec.Selector = &selectorModel{MatchLabels: mapOrNull(ctx, matchLabels, diags)}
	spec.Strategy = flattenStrategy(d.Spec.Strategy, spec.Strategy, importing)
	if spec.Template == nil {
		spec.Template = &templateModel{}
	}
	t := spec.Template
	t.Labels = mapOrNull(ctx, d.Spec.Template.Labels, diags)
	flattenPodSpec(ctx, d.Spec.Template.Spec, &t.PodSpecModel, diags)
}

// flattenStrategy keeps the strategy block out of state when the
// configuration has none, so the server's defaults are not a diff.
func flattenStrategy(s api.DeploymentStrategy, prior *strategyModel, importing bool) *strategyModel {
	if prior == nil && !importing {
		return nil
	}
	out := &strategyModel{Type: optionalString(s.Type, api.RollingUpdateStrategy, prior == nil || prior.Type.IsNull(), importing)}
	ru := s.RollingUpdate
	if ru == nil || (!importing && prior.RollingUpdate == nil) {
		return out
	}
	var priorRU rollingUpdateModel
	if prior != nil && prior.RollingUpdate != nil {
		priorRU = *prior.RollingUpdate
	} else {
		priorRU = rollingUpdateModel{MaxSurge: types.StringNull(), MaxUnavailable: types.StringNull()}
	}
	str := func(v *api.IntOrString) string {
		if v == nil {
			return ""
		}
		return v.String()
	}
	out.RollingUpdate = &rollingUpdateModel{
		MaxSurge:       optionalString(str(ru.MaxSurge), "25%", priorRU.MaxSurge.IsNull(), importing),
		MaxUnavailable: optionalString(str(ru.MaxUnavailable), "25%", priorRU.MaxUnavailable.IsNull(), importing),
	}
	if importing && out.RollingUpdate.MaxSurge.IsNull() && out.RollingUpdate.MaxUnavailable.IsNull() {
		out.RollingUpdate = nil // all server defaults: import no block
	}
	if importing && out.Type.IsNull() && out.RollingUpdate == nil {
		return nil
	}
	return out
}

// optionalString is the state of an optional attribute the server
// defaults: null when the configuration left it out (or on import) and
// the server holds just its default.
func optionalString(actual, serverDefault string, priorNull, importing bool) types.String {
	if (priorNull || importing) && (actual == "" || actual == serverDefault) {
		return types.StringNull()
	}
	return types.StringValue(actual)
}

// isPercent reports whether s is like "25%".
func isPercent(s string) bool {
	n, ok := strings.CutSuffix(s, "%")
	if !ok {
		return false
	}
	v, err := strconv.Atoi(n)
	return err == nil && v >= 0 && v <= 100
}
