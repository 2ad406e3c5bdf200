package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

var (
	_ resource.Resource                   = (*AutoscalerResource)(nil)
	_ resource.ResourceWithConfigure      = (*AutoscalerResource)(nil)
	_ resource.ResourceWithImportState    = (*AutoscalerResource)(nil)
	_ resource.ResourceWithValidateConfig = (*AutoscalerResource)(nil)
	_ resource.ResourceWithUpgradeState   = (*AutoscalerResource)(nil)
)

// NewAutoscalerResource is the constructor for maestro_autoscaler.
func NewAutoscalerResource() resource.Resource {
	return &AutoscalerResource{crud[*api.Autoscaler, AutoscalerResourceModel]{
		kind:    "autoscaler",
		api:     (*client.Client).Autoscalers,
		newObj:  func() *api.Autoscaler { return &api.Autoscaler{} },
		key:     func(m *AutoscalerResourceModel) (string, string) { return metaKey(m.Metadata) },
		expand:  expandAutoscaler,
		flatten: flattenAutoscaler,
		// flattenAutoscaler reads the spec, not the status it updates
		// at every sync.
		reads: readsOf(func(a *api.Autoscaler) any { return &a.Spec },
			func(m *AutoscalerResourceModel) *metadataModel { return m.Metadata }),
		importExample: "terraform import maestro_autoscaler.web default/web",
	}}
}

// AutoscalerResource manages an Autoscaler (a horizontal pod autoscaler).
type AutoscalerResource struct {
	crud[*api.Autoscaler, AutoscalerResourceModel]
}

// AutoscalerResourceModel is the state of maestro_autoscaler.
type AutoscalerResourceModel struct {
	ID       types.String         `tfsdk:"id"`
	Metadata *metadataModel       `tfsdk:"metadata"`
	Spec     *autoscalerSpecModel `tfsdk:"spec"`
}

// autoscalerSpecModel is maestro_autoscaler's spec block.
type autoscalerSpecModel struct {
	Target      *scaleTargetModel `tfsdk:"target"`
	MinReplicas types.Int64       `tfsdk:"min_replicas"`
	MaxReplicas types.Int64       `tfsdk:"max_replicas"`
	Metrics     []metricModel     `tfsdk:"metric"`
	Behavior    *behaviorModel    `tfsdk:"behavior"`
}

type scaleTargetModel struct {
	Kind types.String `tfsdk:"kind"`
	Name types.String `tfsdk:"name"`
}

type metricModel struct {
	Resource           types.String `tfsdk:"resource"`
	AverageUtilization types.Int64  `tfsdk:"average_utilization"`
	AverageValue       types.String `tfsdk:"average_value"`
}

type behaviorModel struct {
	ScaleUp   *scalingRulesModel `tfsdk:"scale_up"`
	ScaleDown *scalingRulesModel `tfsdk:"scale_down"`
}

type scalingRulesModel struct {
	StabilizationWindowSeconds types.Int64          `tfsdk:"stabilization_window_seconds"`
	SelectPolicy               types.String         `tfsdk:"select_policy"`
	Policies                   []scalingPolicyModel `tfsdk:"policy"`
}

type scalingPolicyModel struct {
	Type          types.String `tfsdk:"type"`
	Value         types.Int64  `tfsdk:"value"`
	PeriodSeconds types.Int64  `tfsdk:"period_seconds"`
}

func (r *AutoscalerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_autoscaler"
}

func (r *AutoscalerResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = kindSchema(ctx, "autoscaler")
}

// ValidateConfig requires the target and checks the whole autoscaler with
// the API's own rules (engine/api), so plan fails where apply would.
func (r *AutoscalerResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m AutoscalerResourceModel
	if !readConfig(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	if m.Metadata == nil {
		missingMetadata(&resp.Diagnostics, "autoscaler", "name and namespace")
	}
	if m.Spec == nil {
		resp.Diagnostics.AddAttributeError(path.Root("spec"), "Missing spec block",
			"An autoscaler needs a spec block with max_replicas and a target naming the deployment it scales.")
		return
	}
	if m.Spec.Target == nil || m.Spec.Target.Name.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("spec").AtName("target"), "Missing target",
			"An autoscaler needs a target block in spec naming the deployment it scales, e.g. target { name = \"web\" }.")
		return
	}
	for i, mt := range m.Spec.Metrics {
		if !mt.AverageUtilization.IsNull() && !mt.AverageValue.IsNull() || mt.AverageUtilization.IsNull() && mt.AverageValue.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("spec").AtName("metric").AtListIndex(i), "Invalid metric",
				"Set exactly one of average_utilization (percent of requests) and average_value (a quantity per pod).")
		}
	}
	if !resp.Diagnostics.HasError() {
		r.validateWithAPI(ctx, req.Config, &m, &resp.Diagnostics)
	}
}
