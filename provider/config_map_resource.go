package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

var (
	_ resource.Resource                = (*ConfigMapResource)(nil)
	_ resource.ResourceWithConfigure   = (*ConfigMapResource)(nil)
	_ resource.ResourceWithImportState = (*ConfigMapResource)(nil)
)

// NewConfigMapResource is the constructor for maestro_config_map.
func NewConfigMapResource() resource.Resource {
	return &ConfigMapResource{crud[*api.ConfigMap, ConfigMapResourceModel]{
		kind:   "config map",
		api:    (*client.Client).ConfigMaps,
		newObj: func() *api.ConfigMap { return &api.ConfigMap{} },
		key: func(m *ConfigMapResourceModel) (string, string) {
			return m.Namespace.ValueString(), m.Name.ValueString()
		},
		expand:        expandConfigMap,
		flatten:       flattenConfigMap,
		importExample: "terraform import maestro_config_map.app default/app-config",
	}}
}

// ConfigMapResource manages a ConfigMap.
type ConfigMapResource struct {
	crud[*api.ConfigMap, ConfigMapResourceModel]
}

// ConfigMapResourceModel is the state of maestro_config_map.
type ConfigMapResourceModel struct {
	ID          types.String `tfsdk:"id"`
	Namespace   types.String `tfsdk:"namespace"`
	Name        types.String `tfsdk:"name"`
	Labels      types.Map    `tfsdk:"labels"`
	Annotations types.Map    `tfsdk:"annotations"`
	Data        types.Map    `tfsdk:"data"`
}

func (r *ConfigMapResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_config_map"
}

func (r *ConfigMapResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A config map: non-secret configuration that pods read as environment variables or files.",
		Attributes: map[string]schema.Attribute{
			"id":          computedString("`namespace/name`."),
			"namespace":   nameAttribute("Namespace of the config map. Changing it replaces the config map."),
			"name":        nameAttribute("Name of the config map (a DNS-1123 label). Changing it replaces the config map."),
			"labels":      labelsAttribute("labels"),
			"annotations": labelsAttribute("annotations"),
			"data": schema.MapAttribute{
				MarkdownDescription: "The configuration data. Every key is managed: a key added or changed outside Terraform shows as a diff.",
				ElementType:         types.StringType,
				Optional:            true,
			},
		},
	}
}

// expandConfigMap writes the plan into cm: its data, and the labels and
// annotations the configuration tracks (others on the live object stay).
func expandConfigMap(ctx context.Context, plan, state, _ *ConfigMapResourceModel, cm *api.ConfigMap, diags *diag.Diagnostics) {
	cm.Namespace, cm.Name = plan.Namespace.ValueString(), plan.Name.ValueString()
	var prior ConfigMapResourceModel
	if state != nil {
		prior = *state
	}
	expandTracked(ctx, &cm.ObjectMeta, plan.Labels, plan.Annotations, prior.Labels, prior.Annotations, diags)
	cm.Data = stringMap(ctx, plan.Data, diags)
}

// flattenConfigMap writes the object into the model: all data keys, and
// the labels and annotations the model tracks (all non-system on import).
func flattenConfigMap(ctx context.Context, cm *api.ConfigMap, m *ConfigMapResourceModel, importing bool, diags *diag.Diagnostics) {
	m.ID = types.StringValue(cm.Namespace + "/" + cm.Name)
	m.Namespace = types.StringValue(cm.Namespace)
	m.Name = types.StringValue(cm.Name)
	flattenTracked(ctx, &cm.ObjectMeta, &m.Labels, &m.Annotations, importing, diags)
	if len(cm.Data) == 0 && !m.Data.IsNull() && !importing {
		m.Data = types.MapValueMust(types.StringType, map[string]attr.Value{}) // keep data = {}
	} else {
		m.Data = mapOrNull(ctx, cm.Data, diags)
	}
}
