package provider

import (
	"context"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// Conversions between maestro_deployment's model and api.Deployment.

// expandDeployment writes the plan into d. d is empty on create and the
// live object on update (prior is then the state), so fields Terraform
// does not manage, and labels it does not track, survive the update.
func expandDeployment(ctx context.Context, plan *DeploymentResourceModel, d *api.Deployment, prior *DeploymentResourceModel, diags *diag.Diagnostics) {
	var d2 diag.Diagnostics
	md := plan.Metadata
	d.Name, d.Namespace = md.Name.ValueString(), md.Namespace.ValueString()
	var priorLabels, priorAnnotations = types.MapNull(types.StringType), types.MapNull(types.StringType)
	if prior != nil && prior.Metadata != nil {
		priorLabels, priorAnnotations = prior.Metadata.Labels, prior.Metadata.Annotations
	}
	d.Labels, d2 = mergeTracked(ctx, d.Labels, priorLabels, md.Labels)
	diags.Append(d2...)
	d.Annotations, d2 = mergeTracked(ctx, d.Annotations, priorAnnotations, md.Annotations)
	diags.Append(d2...)

	spec := plan.Spec
	if !spec.Replicas.IsNull() && !spec.Replicas.IsUnknown() {
		d.Spec.Replicas = api.Ptr(int32(spec.Replicas.ValueInt64()))
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
	live := map[string]api.Container{}
	for _, c := range d.Spec.Template.Spec.Containers {
		live[c.Name] = c
	}
	d.Spec.Template.Spec.Containers = nil
	for _, cm := range t.Containers {
		c := live[cm.Name.ValueString()] // keep fields Terraform does not manage
		expandContainer(ctx, cm, &c, diags)
		d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, c)
	}
}

func expandContainer(ctx context.Context, m containerModel, c *api.Container, diags *diag.Diagnostics) {
	c.Name = m.Name.ValueString()
	c.Image = m.Image.ValueString()
	c.Args = stringList(ctx, m.Args, diags)
	c.Command = stringList(ctx, m.Command, diags)
	c.Env = nil
	for _, e := range m.Env {
		c.Env = append(c.Env, api.EnvVar{Name: e.Name.ValueString(), Value: e.Value.ValueString()})
	}
	c.Ports = nil
	for _, p := range m.Ports {
		proto := api.Protocol(p.Protocol.ValueString())
		if proto == "" {
			proto = api.ProtocolTCP
		}
		c.Ports = append(c.Ports, api.ContainerPort{Name: p.Name.ValueString(), ContainerPort: int32(p.ContainerPort.ValueInt64()), Protocol: proto})
	}
	c.Resources = api.ResourceRequirements{}
	if r := m.Resources; r != nil {
		c.Resources.Requests = expandResourceList(r.Requests)
		c.Resources.Limits = expandResourceList(r.Limits)
	}
}

func expandResourceList(m *resourceListModel) api.ResourceList {
	if m == nil {
		return nil
	}
	out := api.ResourceList{}
	for name, v := range map[api.ResourceName]types.String{api.ResourceCPU: m.CPU, api.ResourceMemory: m.Memory} {
		if q, err := resource.ParseQuantity(v.ValueString()); err == nil && !v.IsNull() {
			out[name] = q // validated at plan time
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
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
// after a write, the state on refresh); a nil m.Metadata means import,
// where everything the server has is taken. Optional values the prior
// left out stay out when the server only filled in its default.
func flattenDeployment(ctx context.Context, d *api.Deployment, m *DeploymentResourceModel, diags *diag.Diagnostics) {
	importing := m.Metadata == nil
	if importing {
		m.Metadata = &metadataModel{Labels: types.MapNull(types.StringType), Annotations: types.MapNull(types.StringType)}
		m.Spec = &deploymentSpecModel{}
	}
	var d2 diag.Diagnostics
	m.ID = types.StringValue(d.Namespace + "/" + d.Name)
	md := m.Metadata
	md.Name, md.Namespace, md.UID = types.StringValue(d.Name), types.StringValue(d.Namespace), types.StringValue(d.UID)
	md.Labels, d2 = trackedMap(ctx, md.Labels, d.Labels, importing)
	diags.Append(d2...)
	md.Annotations, d2 = trackedMap(ctx, md.Annotations, d.Annotations, importing)
	diags.Append(d2...)

	spec := m.Spec
	spec.Replicas = types.Int64Value(1)
	if d.Spec.Replicas != nil {
		spec.Replicas = types.Int64Value(int64(*d.Spec.Replicas))
	}
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
	priorContainers := t.Containers
	t.Containers = nil
	for i, c := range d.Spec.Template.Spec.Containers {
		var prior *containerModel
		if i < len(priorContainers) {
			prior = &priorContainers[i]
		}
		t.Containers = append(t.Containers, flattenContainer(ctx, c, prior, diags))
	}
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

func flattenContainer(ctx context.Context, c api.Container, prior *containerModel, diags *diag.Diagnostics) containerModel {
	if prior == nil {
		prior = &containerModel{Args: types.ListNull(types.StringType), Command: types.ListNull(types.StringType)}
	}
	m := containerModel{
		Name:    types.StringValue(c.Name),
		Image:   types.StringValue(c.Image),
		Args:    keepEmptyList(ctx, c.Args, prior.Args, diags),
		Command: keepEmptyList(ctx, c.Command, prior.Command, diags),
	}
	for i, e := range c.Env {
		priorNull := i >= len(prior.Env) || prior.Env[i].Value.IsNull()
		m.Env = append(m.Env, envModel{Name: types.StringValue(e.Name), Value: optionalString(e.Value, "", priorNull, false)})
	}
	for i, p := range c.Ports {
		priorPort := portModel{Name: types.StringNull(), Protocol: types.StringNull()}
		if i < len(prior.Ports) {
			priorPort = prior.Ports[i]
		}
		m.Ports = append(m.Ports, portModel{
			Name:          optionalString(p.Name, "", priorPort.Name.IsNull(), false),
			ContainerPort: types.Int64Value(int64(p.ContainerPort)),
			Protocol:      optionalString(string(p.Protocol), string(api.ProtocolTCP), priorPort.Protocol.IsNull(), false),
		})
	}
	if len(c.Resources.Requests)+len(c.Resources.Limits) > 0 || prior.Resources != nil {
		var pr resourcesModel
		if prior.Resources != nil {
			pr = *prior.Resources
		}
		m.Resources = &resourcesModel{
			Requests: flattenResourceList(c.Resources.Requests, pr.Requests),
			Limits:   flattenResourceList(c.Resources.Limits, pr.Limits),
		}
	}
	return m
}

// flattenResourceList keeps the configuration's spelling of a quantity
// when the server's canonical form has the same value ("1000m" vs "1").
func flattenResourceList(l api.ResourceList, prior *resourceListModel) *resourceListModel {
	if len(l) == 0 && prior == nil {
		return nil
	}
	if prior == nil {
		prior = &resourceListModel{CPU: types.StringNull(), Memory: types.StringNull()}
	}
	one := func(name api.ResourceName, p types.String) types.String {
		q, ok := l[name]
		if !ok {
			return types.StringNull()
		}
		if pq, err := resource.ParseQuantity(p.ValueString()); err == nil && !p.IsNull() && pq.Equal(q) {
			return p
		}
		return types.StringValue(q.String())
	}
	return &resourceListModel{CPU: one(api.ResourceCPU, prior.CPU), Memory: one(api.ResourceMemory, prior.Memory)}
}

// keepEmptyList is the state of an optional list: null when the server
// has none, unless the configuration spelled out an empty list.
func keepEmptyList(ctx context.Context, actual []string, prior types.List, diags *diag.Diagnostics) types.List {
	if len(actual) == 0 && !prior.IsNull() && !prior.IsUnknown() && len(prior.Elements()) == 0 {
		return prior
	}
	return listOrNull(ctx, actual, diags)
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
