package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
)

var (
	_ resource.Resource                = (*SecretResource)(nil)
	_ resource.ResourceWithConfigure   = (*SecretResource)(nil)
	_ resource.ResourceWithImportState = (*SecretResource)(nil)
)

// NewSecretResource is the constructor for maestro_secret.
func NewSecretResource() resource.Resource { return &SecretResource{} }

// SecretResource manages a Secret.
type SecretResource struct {
	handle *clientHandle
}

// SecretResourceModel is the state of maestro_secret. DataWO is
// write-only: it is read from the configuration and always null in plan
// and state.
type SecretResourceModel struct {
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

func (r *SecretResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_secret"
}

func (r *SecretResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A secret: confidential data that pods read as environment variables or files. " +
			"Use `data_wo` (Terraform 1.11 or later) to keep the values out of plan and state.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`namespace/name`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"namespace": schema.StringAttribute{
				MarkdownDescription: "Namespace of the secret. Changing it replaces the secret.",
				Required:            true,
				Validators:          []validator.String{dnsLabelValidator{}},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the secret (a DNS-1123 label). Changing it replaces the secret.",
				Required:            true,
				Validators:          []validator.String{dnsLabelValidator{}},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"labels":      labelsAttribute("labels"),
			"annotations": labelsAttribute("annotations"),
			"type": schema.StringAttribute{
				MarkdownDescription: "Type of the secret (default `Opaque`). It cannot change: changing it replaces the secret.",
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(api.SecretTypeOpaque),
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"data": schema.MapAttribute{
				MarkdownDescription: "The secret data, stored (sensitive) in state. Without `data_wo_version` every key is managed; with it, only the keys set here are, so the keys written through `data_wo` are not a diff.",
				ElementType:         types.StringType,
				Optional:            true,
				Sensitive:           true,
			},
			"data_wo": schema.MapAttribute{
				MarkdownDescription: "Write-only secret data, never stored in plan or state. It is sent on create and whenever `data_wo_version` changes; requires `data_wo_version`.",
				ElementType:         types.StringType,
				Optional:            true,
				Sensitive:           true,
				WriteOnly:           true,
			},
			"data_wo_version": schema.Int64Attribute{
				MarkdownDescription: "Change this number to send the current `data_wo` values again.",
				Optional:            true,
			},
		},
	}
}

func (r *SecretResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m SecretResourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.DataWO.IsNull() && m.DataWOVersion.IsNull() {
		resp.Diagnostics.AddAttributeError(pathRoot("data_wo_version"), "Missing data_wo_version",
			"data_wo is write-only, so Terraform cannot see when it changes. Set data_wo_version, and change it whenever the data_wo values should be sent again.")
	}
}

func (r *SecretResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.handle = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

// secretError reports a failed call without any of the secret's values:
// every value sent is masked in the server's message.
func secretError(diags *diag.Diagnostics, summary string, err error, s *api.Secret) {
	var d diag.Diagnostics
	apiError(&d, summary, err)
	for _, e := range d {
		detail := e.Detail()
		for _, v := range s.Data {
			if len(v) > 0 {
				detail = strings.ReplaceAll(detail, string(v), "(sensitive value)")
			}
		}
		diags.AddError(e.Summary(), detail)
	}
}

func toBytes(m map[string]string) map[string][]byte {
	if m == nil {
		return nil
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out
}

func (r *SecretResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan, config SecretResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	s := &api.Secret{
		ObjectMeta: api.ObjectMeta{
			Namespace:   plan.Namespace.ValueString(),
			Name:        plan.Name.ValueString(),
			Labels:      stringMap(ctx, plan.Labels, &resp.Diagnostics),
			Annotations: stringMap(ctx, plan.Annotations, &resp.Diagnostics),
		},
		Type: plan.Type.ValueString(),
		Data: toBytes(stringMap(ctx, plan.Data, &resp.Diagnostics)),
	}
	if wo := stringMap(ctx, config.DataWO, &resp.Diagnostics); len(wo) > 0 {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		for k, v := range wo {
			s.Data[k] = []byte(v)
		}
	}
	created, err := c.Secrets(s.Namespace).Create(ctx, s)
	if err != nil {
		secretError(&resp.Diagnostics, fmt.Sprintf("Cannot create secret %s/%s", s.Namespace, s.Name), err, s)
		return
	}
	resp.Diagnostics.Append(flattenSecret(ctx, created, &plan, false)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *SecretResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state SecretResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, name := state.Namespace.ValueString(), state.Name.ValueString()
	s, err := c.Secrets(ns).Get(ctx, name)
	if api.IsNotFound(err) {
		resp.State.RemoveResource(ctx) // deleted outside Terraform: plan recreates it
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read secret %s/%s", ns, name), err)
		return
	}
	resp.Diagnostics.Append(flattenSecret(ctx, s, &state, false)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *SecretResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state, config SecretResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, name := plan.Namespace.ValueString(), plan.Name.ValueString()
	s, err := c.Secrets(ns).Get(ctx, name)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read secret %s/%s", ns, name), err)
		return
	}
	var d diag.Diagnostics
	s.Labels, d = mergeTracked(ctx, s.Labels, state.Labels, plan.Labels)
	resp.Diagnostics.Append(d...)
	s.Annotations, d = mergeTracked(ctx, s.Annotations, state.Annotations, plan.Annotations)
	resp.Diagnostics.Append(d...)
	if plan.DataWOVersion.IsNull() {
		s.Data = toBytes(stringMap(ctx, plan.Data, &resp.Diagnostics)) // every key managed
	} else {
		// Only the keys of data are managed; the write-only keys stay
		// unless a new version sends them again.
		live := map[string]string{}
		for k, v := range s.Data {
			live[k] = string(v)
		}
		merged, d := mergeTracked(ctx, live, state.Data, plan.Data)
		resp.Diagnostics.Append(d...)
		if !plan.DataWOVersion.Equal(state.DataWOVersion) {
			if merged == nil {
				merged = map[string]string{}
			}
			for k, v := range stringMap(ctx, config.DataWO, &resp.Diagnostics) {
				merged[k] = v
			}
		}
		s.Data = toBytes(merged)
	}
	updated, err := c.Secrets(ns).Update(ctx, s)
	if err != nil {
		secretError(&resp.Diagnostics, fmt.Sprintf("Cannot update secret %s/%s", ns, name), err, s)
		return
	}
	resp.Diagnostics.Append(flattenSecret(ctx, updated, &plan, false)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *SecretResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state SecretResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, name := state.Namespace.ValueString(), state.Name.ValueString()
	if err := c.Secrets(ns).Delete(ctx, name); err != nil && !api.IsNotFound(err) {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot delete secret %s/%s", ns, name), err)
	}
}

func (r *SecretResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ns, name, err := splitID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID", err.Error()+", e.g. terraform import maestro_secret.db default/db-password.")
		return
	}
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := c.Secrets(ns).Get(ctx, name)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot import secret %s/%s", ns, name), err)
		return
	}
	state := SecretResourceModel{DataWO: types.MapNull(types.StringType), DataWOVersion: types.Int64Null()}
	resp.Diagnostics.Append(flattenSecret(ctx, s, &state, true)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// flattenSecret writes the object into the model. data holds every key,
// unless data_wo_version is set: then only the keys data already tracks.
// data_wo is always null.
func flattenSecret(ctx context.Context, s *api.Secret, m *SecretResourceModel, importing bool) diag.Diagnostics {
	var diags, d diag.Diagnostics
	m.ID = types.StringValue(s.Namespace + "/" + s.Name)
	m.Namespace = types.StringValue(s.Namespace)
	m.Name = types.StringValue(s.Name)
	m.Type = types.StringValue(s.Type)
	m.DataWO = types.MapNull(types.StringType)
	m.Labels, d = trackedMap(ctx, m.Labels, s.Labels, importing)
	diags.Append(d...)
	m.Annotations, d = trackedMap(ctx, m.Annotations, s.Annotations, importing)
	diags.Append(d...)
	data := map[string]string{}
	for k, v := range s.Data {
		data[k] = string(v)
	}
	switch {
	case !m.DataWOVersion.IsNull() && !importing:
		m.Data, d = trackedMap(ctx, m.Data, data, false)
		diags.Append(d...)
	case len(data) == 0 && !m.Data.IsNull() && !importing:
		m.Data, d = types.MapValueFrom(ctx, types.StringType, map[string]string{}) // keep data = {}
		diags.Append(d...)
	default:
		m.Data = mapOrNull(ctx, data, &diags)
	}
	return diags
}
