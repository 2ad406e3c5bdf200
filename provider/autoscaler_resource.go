package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
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
		kind:          "autoscaler",
		api:           (*client.Client).Autoscalers,
		newObj:        func() *api.Autoscaler { return &api.Autoscaler{} },
		key:           func(m *AutoscalerResourceModel) (string, string) { return metaKey(m.Metadata) },
		expand:        expandAutoscaler,
		flatten:       flattenAutoscaler,
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

func (r *AutoscalerResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A horizontal autoscaler: it sets a deployment's replicas between `spec.min_replicas` and `spec.max_replicas` from the CPU and memory its pods use, " +
			"as Kubernetes' HorizontalPodAutoscaler does (same calculation, tolerance and defaults). While it targets a `maestro_deployment`, " +
			"the autoscaler owns that deployment's replicas: Terraform no longer changes them, and the autoscaler's changes never show as a diff.",
		// Version 1 moved namespace, name, labels and annotations into the
		// metadata block and the rest into spec (UpgradeState carries
		// version 0 states over).
		Version: 1,
		Attributes: map[string]schema.Attribute{
			"id": computedString("`namespace/name`."),
		},
		Blocks: map[string]schema.Block{
			"metadata": metadataBlock("autoscaler"),
			"spec": schema.SingleNestedBlock{
				MarkdownDescription: "What the autoscaler scales, between which counts, on which usage, and how fast.",
				Attributes:          autoscalerSpecAttributes(),
				Blocks:              autoscalerSpecBlocks(),
			},
		},
	}
}

// autoscalerSpecAttributes are the spec block's attributes (the top-level
// ones of schema version 0).
func autoscalerSpecAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"min_replicas": schema.Int64Attribute{
			MarkdownDescription: "Fewest replicas (default 1).",
			Optional:            true,
			Computed:            true,
			Default:             int64default.StaticInt64(1),
			Validators:          []validator.Int64{int64RangeValidator{min: 1, max: 1 << 20}},
		},
		"max_replicas": schema.Int64Attribute{
			MarkdownDescription: "Most replicas; at least `min_replicas`.",
			Required:            true,
			Validators:          []validator.Int64{int64RangeValidator{min: 1, max: 1 << 20}},
		},
	}
}

// autoscalerSpecBlocks are the spec block's blocks (the top-level ones of
// schema version 0).
func autoscalerSpecBlocks() map[string]schema.Block {
	return map[string]schema.Block{
		"target": schema.SingleNestedBlock{
			MarkdownDescription: "The scaled object, in the autoscaler's namespace.",
			Attributes: map[string]schema.Attribute{
				"kind": schema.StringAttribute{
					MarkdownDescription: "`Deployment` (default) or `ReplicaSet`.",
					Optional:            true,
					Computed:            true,
					Default:             stringdefault.StaticString("Deployment"),
					Validators:          []validator.String{oneOfValidator{"Deployment", "ReplicaSet"}},
				},
				"name": schema.StringAttribute{
					MarkdownDescription: "Name of the deployment (or replica set).",
					Optional:            true, // required; checked in ValidateConfig (blocks cannot require)
					Validators:          []validator.String{dnsLabelValidator{}},
				},
			},
		},
		"metric": schema.ListNestedBlock{
			MarkdownDescription: "A usage target; with several, the largest replica count any of them asks for wins. " +
				"Without any, the server's default applies: CPU at 80 % of requests.",
			NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
				"resource": schema.StringAttribute{
					MarkdownDescription: "`cpu` or `memory`.",
					Required:            true,
					Validators:          []validator.String{oneOfValidator{string(api.ResourceCPU), string(api.ResourceMemory)}},
				},
				"average_utilization": schema.Int64Attribute{
					MarkdownDescription: "Target average use in percent of the pods' requests (every container needs a request of the resource). Set this or `average_value`.",
					Optional:            true,
					Validators:          []validator.Int64{int64RangeValidator{min: 1, max: 1 << 20}},
				},
				"average_value": schema.StringAttribute{
					MarkdownDescription: "Target average use per pod, a quantity (`500m` of CPU, `256Mi` of memory). Set this or `average_utilization`.",
					Optional:            true,
					Validators:          []validator.String{quantityValidator{}},
				},
			}},
		},
		"behavior": schema.SingleNestedBlock{
			MarkdownDescription: "How fast the autoscaler moves. What is left out takes Kubernetes' defaults: scale-up at once (no window), " +
				"by up to 4 pods or 100 % per 15 s, whichever is more; scale-down after a 300 s stabilisation window, by up to 100 % per 15 s.",
			Blocks: map[string]schema.Block{
				"scale_up":   scalingRulesBlock("scaling up"),
				"scale_down": scalingRulesBlock("scaling down"),
			},
		},
	}
}

func scalingRulesBlock(what string) schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Rules for " + what + ".",
		Attributes: map[string]schema.Attribute{
			"stabilization_window_seconds": schema.Int64Attribute{
				MarkdownDescription: "The autoscaler acts on the most conservative recommendation of this many past seconds (0-3600), so that a short dip or spike does not move it.",
				Optional:            true,
				Validators:          []validator.Int64{int64RangeValidator{min: 0, max: 3600}},
			},
			"select_policy": schema.StringAttribute{
				MarkdownDescription: "`Max` (default: the policy allowing the largest change), `Min` (the smallest) or `Disabled` (never scale this way).",
				Optional:            true,
				Validators: []validator.String{oneOfValidator{string(api.MaxChangePolicySelect), string(api.MinChangePolicySelect),
					string(api.DisabledPolicySelect)}},
			},
		},
		Blocks: map[string]schema.Block{
			"policy": schema.ListNestedBlock{
				MarkdownDescription: "A limit on the change within a period; none: the defaults above.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"type": schema.StringAttribute{
						MarkdownDescription: "`Pods` (a number of pods) or `Percent` (of the current replicas).",
						Required:            true,
						Validators:          []validator.String{oneOfValidator{string(api.PodsScalingPolicy), string(api.PercentScalingPolicy)}},
					},
					"value": schema.Int64Attribute{
						MarkdownDescription: "How many pods, or what percentage, may change within the period.",
						Required:            true,
						Validators:          []validator.Int64{int64RangeValidator{min: 1, max: 1 << 20}},
					},
					"period_seconds": schema.Int64Attribute{
						MarkdownDescription: "The period, 1-1800 seconds.",
						Required:            true,
						Validators:          []validator.Int64{int64RangeValidator{min: 1, max: 1800}},
					},
				}},
			},
		},
	}
}

// ValidateConfig requires the target and checks the whole autoscaler with
// the API's own rules (engine/api), so plan fails where apply would.
func (r *AutoscalerResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m AutoscalerResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
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
