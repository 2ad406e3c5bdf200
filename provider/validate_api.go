package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/fieldpath"
)

// Plan-time validation with the engine's own rules. ValidateConfig of
// every resource that is an API object expands the configuration into that
// object with the resource's own expand function (as Create would), applies
// the API's defaults and runs api.Validate, exactly what the API server
// does before it stores a new object. Each problem becomes an error on the
// attribute the user wrote, with the API's message, so `terraform plan`
// refuses what `terraform apply` would have had refused, without a cluster.
//
// The API names fields by their JSON paths
// (spec.template.spec.containers[0].resources.requests["cpu"]); the
// resources name them by their HCL attribute paths
// (spec.template.container[0].resources.requests.cpu). attrPathOf maps the
// one to the other with internal/fieldpath's table.

var (
	_ resource.ResourceWithValidateConfig = (*NamespaceResource)(nil)
	_ resource.ResourceWithValidateConfig = (*ConfigMapResource)(nil)
	_ resource.ResourceWithValidateConfig = (*ServiceResource)(nil)
	_ resource.ResourceWithValidateConfig = (*VolumeResource)(nil)
)

// validateWithAPI expands m (the configuration) into a new object as
// Create would and reports what the API's validation refuses. It does
// nothing while any configured value is unknown: a value known only after
// apply would be validated as empty.
func (r *crud[T, M]) validateWithAPI(ctx context.Context, config tfsdk.Config, m *M, diags *diag.Diagnostics) {
	if !config.Raw.IsFullyKnown() {
		tflog.Debug(ctx, "API validation skipped: the configuration has values known only after apply", map[string]any{"kind": r.kind})
		return
	}
	obj := r.newObj()
	var d diag.Diagnostics
	r.expand(ctx, m, nil, m, obj, &d)
	if d.HasError() {
		return // the attribute validators report these
	}
	reportAPIErrors(config, obj, diags)
}

// reportAPIErrors defaults obj and adds an attribute error for each
// problem api.Validate finds in it.
func reportAPIErrors(config tfsdk.Config, obj api.Object, diags *diag.Diagnostics) {
	api.Default(obj)
	kind := api.KindOf(obj).Kind
	for _, fe := range api.Validate(obj) {
		if checkedBySchema[fe.Field] {
			continue
		}
		at := presentPath(config, attrPathOf(kind, fe.Field))
		summary := apiErrorSummary[fe.Type]
		if summary == "" {
			summary = "Invalid value"
		}
		where := at.String()
		if where == "" {
			where = fe.Field
		}
		detail := fmt.Sprintf("%s: %s\n\nThe API server refuses the %s with this (its field %s).", where, fe.Detail, strings.ToLower(kind), fe.Field)
		if at.Equal(path.Empty()) {
			diags.AddError(summary, detail)
		} else {
			diags.AddAttributeError(at, summary, detail)
		}
	}
}

// checkedBySchema are fields whose attributes carry a validator that runs
// the same API check (nameAttribute's DNS-1123 label check, stricter than
// the API's for config maps and secrets), so the API's error would repeat
// it.
var checkedBySchema = map[string]bool{"metadata.name": true, "metadata.namespace": true}

// apiErrorSummary is a diagnostic's summary per kind of API field error.
var apiErrorSummary = map[api.ErrorType]string{
	api.ErrRequired:     "Missing required value",
	api.ErrInvalid:      "Invalid value",
	api.ErrNotSupported: "Unsupported value",
	api.ErrDuplicate:    "Duplicate value",
	api.ErrForbidden:    "Value not allowed here",
	api.ErrTooLong:      "Value too long",
	api.ErrTooMany:      "Too many values",
}

// presentPath is p, or its nearest ancestor, that the configuration has:
// an error on a field the resource does not expose (a template's
// annotations) or inside a block left out lands on what the user wrote.
func presentPath(config tfsdk.Config, p path.Path) path.Path {
	for !p.Equal(path.Empty()) {
		if _, _, err := tftypes.WalkAttributePath(config.Raw, toTFPath(p)); err == nil {
			return p
		}
		p = p.ParentPath()
	}
	return p
}

// toTFPath is p as a terraform-plugin-go attribute path.
func toTFPath(p path.Path) *tftypes.AttributePath {
	out := tftypes.NewAttributePath()
	for _, s := range p.Steps() {
		switch s := s.(type) {
		case path.PathStepAttributeName:
			out = out.WithAttributeName(string(s))
		case path.PathStepElementKeyInt:
			out = out.WithElementKeyInt(int(s))
		case path.PathStepElementKeyString:
			out = out.WithElementKeyString(string(s))
		}
	}
	return out
}

// attrPathOf maps an API field path of an object of kind to the attribute
// path of its resource (internal/fieldpath holds the table, shared with
// `maestro plan`).
func attrPathOf(kind, field string) path.Path {
	p := path.Empty()
	for _, s := range fieldpath.AttrPath(kind, field) {
		switch s.Kind {
		case fieldpath.StepName:
			p = p.AtName(s.Name)
		case fieldpath.StepIndex:
			p = p.AtListIndex(s.Index)
		case fieldpath.StepKey:
			p = p.AtMapKey(s.Key)
		}
	}
	return p
}

// --- ValidateConfig of the kinds without other checks --------------------------

// ValidateConfig requires the metadata block and checks the namespace
// with the API's rules.
func (r *NamespaceResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m NamespaceResourceModel
	if !readConfig(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	if m.Metadata == nil {
		missingMetadata(&resp.Diagnostics, "namespace", "its name")
		return
	}
	r.validateWithAPI(ctx, req.Config, &m, &resp.Diagnostics)
}

// ValidateConfig requires the metadata block and checks the config map
// with the API's rules.
func (r *ConfigMapResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m ConfigMapResourceModel
	if !readConfig(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	if m.Metadata == nil {
		missingMetadata(&resp.Diagnostics, "config map", "name and namespace")
		return
	}
	r.validateWithAPI(ctx, req.Config, &m, &resp.Diagnostics)
}

// ValidateConfig requires the metadata and spec blocks and checks the
// service with the API's rules.
func (r *ServiceResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m ServiceResourceModel
	if !readConfig(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	if m.Metadata == nil {
		resp.Diagnostics.AddAttributeError(path.Root("metadata"), "Missing metadata block", "A service needs a metadata block with name and namespace.")
	}
	if m.Spec == nil {
		resp.Diagnostics.AddAttributeError(path.Root("spec"), "Missing spec block", "A service needs a spec block with at least one port.")
	}
	if m.Metadata != nil && m.Spec != nil {
		r.validateWithAPI(ctx, req.Config, &m, &resp.Diagnostics)
	}
}

// ValidateConfig requires the metadata block and checks the volume with
// the API's rules.
func (r *VolumeResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m VolumeResourceModel
	if !readConfig(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	if m.Metadata == nil {
		resp.Diagnostics.AddAttributeError(path.Root("metadata"), "Missing metadata block", "A volume needs a metadata block with name and namespace.")
		return
	}
	r.validateWithAPI(ctx, req.Config, &m, &resp.Diagnostics)
}

// validateAPI checks a deployment whose blocks are all there with the
// API's rules (DeploymentResource.ValidateConfig calls it last).
func (r *DeploymentResource) validateAPI(ctx context.Context, config tfsdk.Config, m *DeploymentResourceModel, diags *diag.Diagnostics) {
	if m.Metadata == nil || m.Spec == nil || m.Spec.Selector == nil || m.Spec.Template == nil {
		return // reported as missing blocks
	}
	r.validateWithAPI(ctx, config, m, diags)
}

// validateAPI checks a pod whose blocks are all there with the API's rules.
func (r *PodResource) validateAPI(ctx context.Context, config tfsdk.Config, m *PodResourceModel, diags *diag.Diagnostics) {
	if m.Metadata == nil || m.Spec == nil {
		return // reported as missing blocks
	}
	r.validateWithAPI(ctx, config, m, diags)
}
