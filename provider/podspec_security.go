package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
)

// The pod spec's env_from, image_pull_secrets and security_context: their
// models and conversion (the rest of the pod spec is in podspec.go; the
// schema is internal/schema/podspec.go).

type podSecurityContextModel struct {
	RunAsUser    types.Int64 `tfsdk:"run_as_user"`
	RunAsGroup   types.Int64 `tfsdk:"run_as_group"`
	RunAsNonRoot types.Bool  `tfsdk:"run_as_non_root"`
}

type securityContextModel struct {
	RunAsUser                types.Int64        `tfsdk:"run_as_user"`
	RunAsGroup               types.Int64        `tfsdk:"run_as_group"`
	RunAsNonRoot             types.Bool         `tfsdk:"run_as_non_root"`
	ReadOnlyRootFilesystem   types.Bool         `tfsdk:"read_only_root_filesystem"`
	Privileged               types.Bool         `tfsdk:"privileged"`
	AllowPrivilegeEscalation types.Bool         `tfsdk:"allow_privilege_escalation"`
	Capabilities             *capabilitiesModel `tfsdk:"capabilities"`
}

type capabilitiesModel struct {
	Add  types.List `tfsdk:"add"`
	Drop types.List `tfsdk:"drop"`
}

type envFromModel struct {
	Prefix       types.String      `tfsdk:"prefix"`
	ConfigMapRef *optionalRefModel `tfsdk:"config_map_ref"`
	SecretRef    *optionalRefModel `tfsdk:"secret_ref"`
}

type optionalRefModel struct {
	Name     types.String `tfsdk:"name"`
	Optional types.Bool   `tfsdk:"optional"`
}

// --- expand -----------------------------------------------------------------

func int64Ptr(v types.Int64) *int64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return api.Ptr(v.ValueInt64())
}

func boolPtr(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return api.Ptr(v.ValueBool())
}

func expandPodSecurity(m *PodSpecModel, s *api.PodSpec) {
	s.SecurityContext = nil
	if p := m.SecurityContext; p != nil {
		s.SecurityContext = &api.PodSecurityContext{RunAsUser: int64Ptr(p.RunAsUser), RunAsGroup: int64Ptr(p.RunAsGroup), RunAsNonRoot: boolPtr(p.RunAsNonRoot)}
	}
	s.ImagePullSecrets = nil
	for _, r := range m.ImagePullSecrets {
		s.ImagePullSecrets = append(s.ImagePullSecrets, api.LocalObjectReference{Name: r.Name.ValueString()})
	}
}

func expandContainerExtras(ctx context.Context, m containerModel, c *api.Container, diags *diag.Diagnostics) {
	c.EnvFrom = nil
	for _, e := range m.EnvFrom {
		from := api.EnvFromSource{Prefix: e.Prefix.ValueString()}
		if r := e.ConfigMapRef; r != nil {
			from.ConfigMapRef = &api.NameRef{Name: r.Name.ValueString(), Optional: boolPtr(r.Optional)}
		}
		if r := e.SecretRef; r != nil {
			from.SecretRef = &api.NameRef{Name: r.Name.ValueString(), Optional: boolPtr(r.Optional)}
		}
		c.EnvFrom = append(c.EnvFrom, from)
	}
	c.SecurityContext = nil
	if s := m.SecurityContext; s != nil {
		c.SecurityContext = &api.SecurityContext{
			RunAsUser: int64Ptr(s.RunAsUser), RunAsGroup: int64Ptr(s.RunAsGroup), RunAsNonRoot: boolPtr(s.RunAsNonRoot),
			ReadOnlyRootFilesystem: boolPtr(s.ReadOnlyRootFilesystem), Privileged: boolPtr(s.Privileged),
			AllowPrivilegeEscalation: boolPtr(s.AllowPrivilegeEscalation),
		}
		if caps := s.Capabilities; caps != nil {
			c.SecurityContext.Capabilities = &api.Capabilities{}
			for _, name := range stringList(ctx, caps.Add, diags) {
				c.SecurityContext.Capabilities.Add = append(c.SecurityContext.Capabilities.Add, api.Capability(name))
			}
			for _, name := range stringList(ctx, caps.Drop, diags) {
				c.SecurityContext.Capabilities.Drop = append(c.SecurityContext.Capabilities.Drop, api.Capability(name))
			}
		}
	}
}

// --- flatten ----------------------------------------------------------------

func int64Value(p *int64) types.Int64 {
	if p == nil {
		return types.Int64Null()
	}
	return types.Int64Value(*p)
}

func boolValue(p *bool) types.Bool {
	if p == nil {
		return types.BoolNull()
	}
	return types.BoolValue(*p)
}

func flattenPodSecurity(s api.PodSpec, m *PodSpecModel) {
	m.SecurityContext = nil
	if p := s.SecurityContext; p != nil {
		m.SecurityContext = &podSecurityContextModel{RunAsUser: int64Value(p.RunAsUser), RunAsGroup: int64Value(p.RunAsGroup), RunAsNonRoot: boolValue(p.RunAsNonRoot)}
	}
	m.ImagePullSecrets = nil
	for _, r := range s.ImagePullSecrets {
		m.ImagePullSecrets = append(m.ImagePullSecrets, nameModel{Name: types.StringValue(r.Name)})
	}
}

func flattenContainerExtras(ctx context.Context, c api.Container, prior *containerModel, m *containerModel, diags *diag.Diagnostics) {
	for i, e := range c.EnvFrom {
		priorNull := i >= len(prior.EnvFrom) || prior.EnvFrom[i].Prefix.IsNull()
		em := envFromModel{Prefix: optionalString(e.Prefix, "", priorNull, false)}
		if r := e.ConfigMapRef; r != nil {
			em.ConfigMapRef = &optionalRefModel{Name: types.StringValue(r.Name), Optional: boolValue(r.Optional)}
		}
		if r := e.SecretRef; r != nil {
			em.SecretRef = &optionalRefModel{Name: types.StringValue(r.Name), Optional: boolValue(r.Optional)}
		}
		m.EnvFrom = append(m.EnvFrom, em)
	}
	s := c.SecurityContext
	if s == nil {
		return
	}
	m.SecurityContext = &securityContextModel{
		RunAsUser: int64Value(s.RunAsUser), RunAsGroup: int64Value(s.RunAsGroup), RunAsNonRoot: boolValue(s.RunAsNonRoot),
		ReadOnlyRootFilesystem: boolValue(s.ReadOnlyRootFilesystem), Privileged: boolValue(s.Privileged),
		AllowPrivilegeEscalation: boolValue(s.AllowPrivilegeEscalation),
	}
	if caps := s.Capabilities; caps != nil {
		var add, drop []string
		for _, c := range caps.Add {
			add = append(add, string(c))
		}
		for _, c := range caps.Drop {
			drop = append(drop, string(c))
		}
		priorCaps := capabilitiesModel{Add: types.ListNull(types.StringType), Drop: types.ListNull(types.StringType)}
		if prior.SecurityContext != nil && prior.SecurityContext.Capabilities != nil {
			priorCaps = *prior.SecurityContext.Capabilities
		}
		m.SecurityContext.Capabilities = &capabilitiesModel{Add: keepEmptyList(ctx, add, priorCaps.Add, diags), Drop: keepEmptyList(ctx, drop, priorCaps.Drop, diags)}
	}
}
