package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
)

var (
	_ resource.Resource                = (*ConfigMapResource)(nil)
	_ resource.ResourceWithConfigure   = (*ConfigMapResource)(nil)
	_ resource.ResourceWithImportState = (*ConfigMapResource)(nil)
)

// NewConfigMapResource is the constructor for maestro_config_map.
func NewConfigMapResource() resource.Resource { return &ConfigMapResource{} }

// ConfigMapResource manages a ConfigMap.
type ConfigMapResource struct {
	handle *clientHandle
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
			"id": schema.StringAttribute{
				MarkdownDescription: "`namespace/name`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"namespace": schema.StringAttribute{
				MarkdownDescription: "Namespace of the config map. Changing it replaces the config map.",
				Required:            true,
				Validators:          []validator.String{dnsLabelValidator{}},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the config map (a DNS-1123 label). Changing it replaces the config map.",
				Required:            true,
				Validators:          []validator.String{dnsLabelValidator{}},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
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

func (r *ConfigMapResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.handle = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *ConfigMapResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan ConfigMapResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	cm := &api.ConfigMap{
		ObjectMeta: api.ObjectMeta{
			Namespace:   plan.Namespace.ValueString(),
			Name:        plan.Name.ValueString(),
			Labels:      stringMap(ctx, plan.Labels, &resp.Diagnostics),
			Annotations: stringMap(ctx, plan.Annotations, &resp.Diagnostics),
		},
		Data: stringMap(ctx, plan.Data, &resp.Diagnostics),
	}
	created, err := c.ConfigMaps(cm.Namespace).Create(ctx, cm)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot create config map %s/%s", cm.Namespace, cm.Name), err)
		return
	}
	resp.Diagnostics.Append(flattenConfigMap(ctx, created, &plan, false)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *ConfigMapResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state ConfigMapResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, name := state.Namespace.ValueString(), state.Name.ValueString()
	cm, err := c.ConfigMaps(ns).Get(ctx, name)
	if api.IsNotFound(err) {
		resp.State.RemoveResource(ctx) // deleted outside Terraform: plan recreates it
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read config map %s/%s", ns, name), err)
		return
	}
	resp.Diagnostics.Append(flattenConfigMap(ctx, cm, &state, false)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *ConfigMapResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state ConfigMapResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, name := plan.Namespace.ValueString(), plan.Name.ValueString()
	cm, err := c.ConfigMaps(ns).Get(ctx, name)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read config map %s/%s", ns, name), err)
		return
	}
	var d diag.Diagnostics
	cm.Labels, d = mergeTracked(ctx, cm.Labels, state.Labels, plan.Labels)
	resp.Diagnostics.Append(d...)
	cm.Annotations, d = mergeTracked(ctx, cm.Annotations, state.Annotations, plan.Annotations)
	resp.Diagnostics.Append(d...)
	cm.Data = stringMap(ctx, plan.Data, &resp.Diagnostics)
	updated, err := c.ConfigMaps(ns).Update(ctx, cm)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot update config map %s/%s", ns, name), err)
		return
	}
	resp.Diagnostics.Append(flattenConfigMap(ctx, updated, &plan, false)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *ConfigMapResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state ConfigMapResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, name := state.Namespace.ValueString(), state.Name.ValueString()
	if err := c.ConfigMaps(ns).Delete(ctx, name); err != nil && !api.IsNotFound(err) {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot delete config map %s/%s", ns, name), err)
	}
}

func (r *ConfigMapResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ns, name, err := splitID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID", err.Error()+", e.g. terraform import maestro_config_map.app default/app-config.")
		return
	}
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	cm, err := c.ConfigMaps(ns).Get(ctx, name)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot import config map %s/%s", ns, name), err)
		return
	}
	var state ConfigMapResourceModel
	resp.Diagnostics.Append(flattenConfigMap(ctx, cm, &state, true)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// flattenConfigMap writes the object into the model: all data keys, and
// the labels and annotations the model tracks (all non-system on import).
func flattenConfigMap(ctx context.Context, cm *api.ConfigMap, m *ConfigMapResourceModel, importing bool) diag.Diagnostics {
	var diags, d diag.Diagnostics
	m.ID = types.StringValue(cm.Namespace + "/" + cm.Name)
	m.Namespace = types.StringValue(cm.Namespace)
	m.Name = types.StringValue(cm.Name)
	m.Labels, d = trackedMap(ctx, m.Labels, cm.Labels, importing)
	diags.Append(d...)
	m.Annotations, d = trackedMap(ctx, m.Annotations, cm.Annotations, importing)
	diags.Append(d...)
	if len(cm.Data) == 0 && !m.Data.IsNull() && !importing {
		m.Data, d = types.MapValueFrom(ctx, types.StringType, map[string]string{}) // keep data = {}
		diags.Append(d...)
	} else {
		m.Data = mapOrNull(ctx, cm.Data, &diags)
	}
	return diags
}
