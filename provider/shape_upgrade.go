package provider

import (
	"context"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	mschema "github.com/maestro-dev/maestro/internal/schema"
)

// State upgrades from the flat shape (schema version 0), where namespace,
// config map, secret and autoscaler kept name, namespace, labels and
// annotations at the top level, to the one shape every resource has now:
// those in a metadata block, the payload beside it (a config map's data, a
// secret's type and data, as the API has them; an autoscaler's in spec). Terraform calls
// UpgradeState with the stored state of version 0 before anything else,
// so a configuration rewritten to the new shape plans no change and no
// value (sensitive data included) is lost or replaced.
//
// The prior schemas below are frozen copies of the version 0 attributes:
// only their types and sensitivity matter to decoding the old state.

// flatMetaV0 are the version 0 top-level metadata attributes.
func flatMetaV0(namespaced bool) map[string]schema.Attribute {
	attrs := map[string]schema.Attribute{
		"id":          schema.StringAttribute{Computed: true},
		"name":        schema.StringAttribute{Required: true},
		"labels":      schema.MapAttribute{ElementType: types.StringType, Optional: true},
		"annotations": schema.MapAttribute{ElementType: types.StringType, Optional: true},
	}
	if namespaced {
		attrs["namespace"] = schema.StringAttribute{Required: true}
	}
	return attrs
}

type namespaceModelV0 struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Labels      types.Map    `tfsdk:"labels"`
	Annotations types.Map    `tfsdk:"annotations"`
	UID         types.String `tfsdk:"uid"`
}

func namespaceSchemaV0() *schema.Schema {
	attrs := flatMetaV0(false)
	attrs["uid"] = schema.StringAttribute{Computed: true}
	return &schema.Schema{Attributes: attrs}
}

// UpgradeState moves a version 0 namespace's attributes into metadata.
func (r *NamespaceResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return map[int64]resource.StateUpgrader{0: {
		PriorSchema: namespaceSchemaV0(),
		StateUpgrader: func(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
			var old namespaceModelV0
			if resp.Diagnostics.Append(req.State.Get(ctx, &old)...); resp.Diagnostics.HasError() {
				return
			}
			resp.Diagnostics.Append(resp.State.Set(ctx, &NamespaceResourceModel{
				ID:       old.ID,
				Metadata: &clusterMetadataModel{Name: old.Name, Labels: old.Labels, Annotations: old.Annotations, UID: old.UID},
			})...)
		},
	}}
}

type configMapModelV0 struct {
	ID          types.String `tfsdk:"id"`
	Namespace   types.String `tfsdk:"namespace"`
	Name        types.String `tfsdk:"name"`
	Labels      types.Map    `tfsdk:"labels"`
	Annotations types.Map    `tfsdk:"annotations"`
	Data        types.Map    `tfsdk:"data"`
}

func configMapSchemaV0() *schema.Schema {
	attrs := flatMetaV0(true)
	attrs["data"] = schema.MapAttribute{ElementType: types.StringType, Optional: true}
	return &schema.Schema{Attributes: attrs}
}

// metadataV0 is the metadata block of a version 0 namespaced object; the
// uid, which version 0 did not record, is read on the next refresh.
func metadataV0(namespace, name types.String, labels, annotations types.Map) *metadataModel {
	return &metadataModel{Name: name, Namespace: namespace, Labels: labels, Annotations: annotations, UID: types.StringNull()}
}

// UpgradeState moves a version 0 config map's attributes into metadata;
// data stays where it is.
func (r *ConfigMapResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return map[int64]resource.StateUpgrader{0: {
		PriorSchema: configMapSchemaV0(),
		StateUpgrader: func(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
			var old configMapModelV0
			if resp.Diagnostics.Append(req.State.Get(ctx, &old)...); resp.Diagnostics.HasError() {
				return
			}
			resp.Diagnostics.Append(resp.State.Set(ctx, &ConfigMapResourceModel{
				ID:       old.ID,
				Metadata: metadataV0(old.Namespace, old.Name, old.Labels, old.Annotations),
				Data:     old.Data,
			})...)
		},
	}}
}

type secretModelV0 struct {
	ID            types.String `tfsdk:"id"`
	Namespace     types.String `tfsdk:"namespace"`
	Name          types.String `tfsdk:"name"`
	Labels        types.Map    `tfsdk:"labels"`
	Annotations   types.Map    `tfsdk:"annotations"`
	Type          types.String `tfsdk:"type"`
	Data          types.Map    `tfsdk:"data"`
	DataWO        types.Map    `tfsdk:"data_wo"`
	DataWOVersion types.Int64  `tfsdk:"data_wo_version"`
}

func secretSchemaV0() *schema.Schema {
	attrs := flatMetaV0(true)
	attrs["type"] = schema.StringAttribute{Optional: true, Computed: true}
	attrs["data"] = schema.MapAttribute{ElementType: types.StringType, Optional: true, Sensitive: true}
	attrs["data_wo"] = schema.MapAttribute{ElementType: types.StringType, Optional: true, Sensitive: true, WriteOnly: true}
	attrs["data_wo_version"] = schema.Int64Attribute{Optional: true}
	return &schema.Schema{Attributes: attrs}
}

// UpgradeState moves a version 0 secret's attributes into metadata; type,
// data and data_wo_version stay where they are, data_wo stays null.
func (r *SecretResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return map[int64]resource.StateUpgrader{0: {
		PriorSchema: secretSchemaV0(),
		StateUpgrader: func(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
			var old secretModelV0
			if resp.Diagnostics.Append(req.State.Get(ctx, &old)...); resp.Diagnostics.HasError() {
				return
			}
			resp.Diagnostics.Append(resp.State.Set(ctx, &SecretResourceModel{
				ID:            old.ID,
				Metadata:      metadataV0(old.Namespace, old.Name, old.Labels, old.Annotations),
				Type:          old.Type,
				Data:          old.Data,
				DataWO:        types.MapNull(types.StringType),
				DataWOVersion: old.DataWOVersion,
			})...)
		},
	}}
}

type autoscalerModelV0 struct {
	ID          types.String      `tfsdk:"id"`
	Namespace   types.String      `tfsdk:"namespace"`
	Name        types.String      `tfsdk:"name"`
	Labels      types.Map         `tfsdk:"labels"`
	Annotations types.Map         `tfsdk:"annotations"`
	Target      *scaleTargetModel `tfsdk:"target"`
	MinReplicas types.Int64       `tfsdk:"min_replicas"`
	MaxReplicas types.Int64       `tfsdk:"max_replicas"`
	Metrics     []metricModel     `tfsdk:"metric"`
	Behavior    *behaviorModel    `tfsdk:"behavior"`
}

// autoscalerSchemaV0 is version 0: the spec block's contents were at the
// top level, beside the metadata attributes.
func autoscalerSchemaV0() *schema.Schema {
	k, _ := mschema.Describe("autoscaler")
	spec := k.Blocks["spec"]
	attrs := flatMetaV0(true)
	maps.Copy(attrs, emitAttributes(spec.Attributes))
	return &schema.Schema{Attributes: attrs, Blocks: emitBlocks(spec.Blocks)}
}

// UpgradeState moves a version 0 autoscaler's attributes into metadata
// and spec.
func (r *AutoscalerResource) UpgradeState(context.Context) map[int64]resource.StateUpgrader {
	return map[int64]resource.StateUpgrader{0: {
		PriorSchema: autoscalerSchemaV0(),
		StateUpgrader: func(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
			var old autoscalerModelV0
			if resp.Diagnostics.Append(req.State.Get(ctx, &old)...); resp.Diagnostics.HasError() {
				return
			}
			resp.Diagnostics.Append(resp.State.Set(ctx, &AutoscalerResourceModel{
				ID:       old.ID,
				Metadata: metadataV0(old.Namespace, old.Name, old.Labels, old.Annotations),
				Spec: &autoscalerSpecModel{Target: old.Target, MinReplicas: old.MinReplicas, MaxReplicas: old.MaxReplicas,
					Metrics: old.Metrics, Behavior: old.Behavior},
			})...)
		},
	}}
}
