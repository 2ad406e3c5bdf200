package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
)

// The pod spec's env_from, image_pull_secrets and security_context: their
// schema, models and conversion (the rest of the pod spec is in
// podspec_schema.go and podspec.go).

const idRange = 1<<31 - 1

func idAttribute(what string) schema.Int64Attribute {
	return schema.Int64Attribute{
		MarkdownDescription: what,
		Optional:            true,
		Validators:          []validator.Int64{int64RangeValidator{min: 0, max: idRange}},
	}
}

// podSecurityContextBlock is the pod-level security_context block.
func podSecurityContextBlock() schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		MarkdownDescription: "The identity every container of the pod runs as, unless its own `security_context` says otherwise.",
		Attributes: map[string]schema.Attribute{
			"run_as_user":     idAttribute("User id the containers' processes run as (default: the image's user)."),
			"run_as_group":    idAttribute("Primary group id of the containers' processes (default: the image's)."),
			"run_as_non_root": schema.BoolAttribute{Optional: true, MarkdownDescription: "Refuse to start a container that would run as root (uid 0)."},
		},
	}
}

// containerSecurityContextBlock is a container's security_context block.
func containerSecurityContextBlock() schema.SingleNestedBlock {
	caps := func(what string) schema.ListAttribute {
		return schema.ListAttribute{MarkdownDescription: what + " Names as in Linux without the `CAP_` prefix (`NET_ADMIN`), or `ALL`.",
			ElementType: types.StringType, Optional: true}
	}
	return schema.SingleNestedBlock{
		MarkdownDescription: "The container's identity and privileges; `run_as_*` override the pod's `security_context`.",
		Attributes: map[string]schema.Attribute{
			"run_as_user":                idAttribute("User id the container's processes run as."),
			"run_as_group":               idAttribute("Primary group id of the container's processes."),
			"run_as_non_root":            schema.BoolAttribute{Optional: true, MarkdownDescription: "Refuse to start the container if it would run as root (uid 0)."},
			"read_only_root_filesystem":  schema.BoolAttribute{Optional: true, MarkdownDescription: "Mount the image's file system read-only (volumes stay writable unless mounted read-only)."},
			"privileged":                 schema.BoolAttribute{Optional: true, MarkdownDescription: "Run with every capability and the node's devices."},
			"allow_privilege_escalation": schema.BoolAttribute{Optional: true, MarkdownDescription: "`false` sets no_new_privs: setuid programs and file capabilities grant nothing."},
		},
		Blocks: map[string]schema.Block{
			"capabilities": schema.SingleNestedBlock{
				MarkdownDescription: "Linux capabilities added to or dropped from the runtime's default set.",
				Attributes: map[string]schema.Attribute{
					"add":  caps("Capabilities to add."),
					"drop": caps("Capabilities to drop."),
				},
			},
		},
	}
}

// envFromBlock is a container's env_from block.
func envFromBlock() schema.ListNestedBlock {
	ref := func(what string) schema.SingleNestedBlock {
		return schema.SingleNestedBlock{
			MarkdownDescription: "A " + what + " in the pod's namespace.",
			Attributes: map[string]schema.Attribute{
				"name":     schema.StringAttribute{MarkdownDescription: "Name of the " + what + ".", Optional: true},
				"optional": schema.BoolAttribute{MarkdownDescription: "Start the container even if the " + what + " does not exist.", Optional: true},
			},
		}
	}
	return schema.ListNestedBlock{
		MarkdownDescription: "Every key of a config map or secret as an environment variable (exactly one of `config_map_ref` or `secret_ref`). " +
			"Keys that are not valid variable names are skipped; `env` wins over a key of the same name.",
		NestedObject: schema.NestedBlockObject{
			Attributes: map[string]schema.Attribute{
				"prefix": schema.StringAttribute{MarkdownDescription: "Prepended to every key.", Optional: true},
			},
			Blocks: map[string]schema.Block{
				"config_map_ref": ref("config map"),
				"secret_ref":     ref("secret"),
			},
		},
	}
}

// imagePullSecretsBlock is the pod's image_pull_secrets block, named and
// shaped as in the Kubernetes provider.
func imagePullSecretsBlock() schema.ListNestedBlock {
	return schema.ListNestedBlock{
		MarkdownDescription: "A secret of type `" + api.SecretTypeDockerConfigJSON + "` in the pod's namespace whose registry credentials pull the pod's images " +
			"(a `.dockerconfigjson` key holding a Docker config's `auths`). Repeat the block for several.",
		NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{MarkdownDescription: "Name of the secret.", Required: true},
		}},
	}
}

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
