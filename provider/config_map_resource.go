package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

var (
	_ resource.Resource                 = (*ConfigMapResource)(nil)
	_ resource.ResourceWithConfigure    = (*ConfigMapResource)(nil)
	_ resource.ResourceWithImportState  = (*ConfigMapResource)(nil)
	_ resource.ResourceWithUpgradeState = (*ConfigMapResource)(nil)
)

// NewConfigMapResource is the constructor for maestro_config_map.
func NewConfigMapResource() resource.Resource {
	return &ConfigMapResource{crud[*api.ConfigMap, ConfigMapResourceModel]{
		kind:          "config map",
		api:           (*client.Client).ConfigMaps,
		newObj:        func() *api.ConfigMap { return &api.ConfigMap{} },
		key:           func(m *ConfigMapResourceModel) (string, string) { return metaKey(m.Metadata) },
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
	ID       types.String   `tfsdk:"id"`
	Metadata *metadataModel `tfsdk:"metadata"`
	Data     types.Map      `tfsdk:"data"`
}

func (r *ConfigMapResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_config_map"
}

func (r *ConfigMapResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = kindSchema(ctx, "config_map")
}

// expandConfigMap writes the plan into cm: its data, and the labels and
// annotations the configuration tracks (others on the live object stay).
func expandConfigMap(ctx context.Context, plan, state, _ *ConfigMapResourceModel, cm *api.ConfigMap, diags *diag.Diagnostics) {
	var prior *metadataModel
	if state != nil {
		prior = state.Metadata
	}
	expandMetadata(ctx, plan.Metadata, prior, &cm.ObjectMeta, diags)
	cm.Data = stringMap(ctx, plan.Data, diags)
}

// flattenConfigMap writes the object into the model: all data keys, and
// the labels and annotations the model tracks (all non-system on import).
func flattenConfigMap(ctx context.Context, cm *api.ConfigMap, m *ConfigMapResourceModel, importing bool, diags *diag.Diagnostics) {
	m.ID = flattenMetadata(ctx, &cm.ObjectMeta, &m.Metadata, diags)
	if len(cm.Data) == 0 && !m.Data.IsNull() && !importing {
		m.Data = types.MapValueMust(types.StringType, map[string]attr.Value{}) // keep data = {}
	} else {
		m.Data = mapOrNull(ctx, cm.Data, diags)
	}
}
