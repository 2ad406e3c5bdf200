package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

var (
	_ resource.Resource                = (*VolumeResource)(nil)
	_ resource.ResourceWithConfigure   = (*VolumeResource)(nil)
	_ resource.ResourceWithImportState = (*VolumeResource)(nil)
)

// volumeDeleteTimeout bounds the wait for a deleted volume to go: for the
// pods using it to stop, then for its node's agent to remove the data.
const volumeDeleteTimeout = 5 * time.Minute

// NewVolumeResource is the constructor for maestro_volume.
func NewVolumeResource() resource.Resource {
	return &VolumeResource{crud[*api.PersistentVolume, VolumeResourceModel]{
		kind:   "volume",
		api:    (*client.Client).Volumes,
		newObj: func() *api.PersistentVolume { return &api.PersistentVolume{} },
		key: func(m *VolumeResourceModel) (string, string) {
			return m.Metadata.Namespace.ValueString(), m.Metadata.Name.ValueString()
		},
		expand:        expandVolumeObject,
		flatten:       flattenVolumeObject,
		importExample: "terraform import maestro_volume.data default/data",
		importModel:   func() VolumeResourceModel { return VolumeResourceModel{Timeouts: nullDeleteTimeout()} },
		// A volume being deleted is as good as gone: the plan recreates it.
		gone:     func(v *api.PersistentVolume) bool { return v.DeletionTimestamp != nil },
		defaults: opTimeouts{delete: volumeDeleteTimeout},
		timeouts: func(m *VolumeResourceModel) timeouts.Value { return m.Timeouts },
	}}
}

// VolumeResource manages a Volume: a named store of data on one node that
// outlives the pods using it.
type VolumeResource struct {
	crud[*api.PersistentVolume, VolumeResourceModel]
}

// VolumeResourceModel is the state of maestro_volume.
type VolumeResourceModel struct {
	ID       types.String     `tfsdk:"id"`
	Metadata *metadataModel   `tfsdk:"metadata"`
	Spec     *volumeSpecModel `tfsdk:"spec"`
	Node     types.String     `tfsdk:"node"`
	Phase    types.String     `tfsdk:"phase"`
	Timeouts timeouts.Value   `tfsdk:"timeouts"`
}

type volumeSpecModel struct {
	ReclaimPolicy types.String `tfsdk:"reclaim_policy"`
	NodeName      types.String `tfsdk:"node_name"`
}

func (r *VolumeResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_volume"
}

func (r *VolumeResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = kindSchema(ctx, "volume")
}

// pinMovesData: the configured pin names another node than the one the
// volume's data lives on (known from the state).
func pinMovesData(ctx context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.State.Raw.IsNull() {
		return
	}
	var node types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, pathRoot("node"), &node)...)
	resp.RequiresReplace = node.ValueString() != "" && node.ValueString() != req.ConfigValue.ValueString()
}

// expandVolumeObject writes the plan into v; state is nil on create.
func expandVolumeObject(ctx context.Context, plan, state, _ *VolumeResourceModel, v *api.PersistentVolume, diags *diag.Diagnostics) {
	var prior *metadataModel
	if state != nil {
		prior = state.Metadata
	}
	expandMetadata(ctx, plan.Metadata, prior, &v.ObjectMeta, diags)
	v.Spec.ReclaimPolicy = api.ReclaimRetain
	if s := plan.Spec; s != nil {
		v.Spec.ReclaimPolicy = s.ReclaimPolicy.ValueString()
		if !s.NodeName.IsUnknown() && !s.NodeName.IsNull() {
			v.Spec.NodeName = s.NodeName.ValueString()
		}
	} // else: the live object's pin (if any) stays
}

// flattenVolumeObject writes v into m (empty on import). A spec block left out
// of the configuration stays out of the state (the defaults are sent); an
// imported volume gets one when its spec is not the defaults.
func flattenVolumeObject(ctx context.Context, v *api.PersistentVolume, m *VolumeResourceModel, importing bool, diags *diag.Diagnostics) {
	m.ID = flattenMetadata(ctx, &v.ObjectMeta, &m.Metadata, diags)
	if m.Spec != nil || importing && (v.Spec.ReclaimPolicy != api.ReclaimRetain || v.Spec.NodeName != "") {
		m.Spec = &volumeSpecModel{ReclaimPolicy: types.StringValue(v.Spec.ReclaimPolicy), NodeName: types.StringNull()}
		if v.Spec.NodeName != "" {
			m.Spec.NodeName = types.StringValue(v.Spec.NodeName)
		}
	}
	m.Node = types.StringValue(v.Status.NodeName)
	m.Phase = types.StringValue(v.Status.Phase)
}

// nullDeleteTimeout is an unset timeouts block with only delete, for import.
func nullDeleteTimeout() timeouts.Value {
	return timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{"delete": types.StringType})}
}

// nodeNameValidator checks node names (DNS-1123 subdomains).
type nodeNameValidator struct{}

var _ validator.String = nodeNameValidator{}

func (nodeNameValidator) Description(context.Context) string {
	return "must be a node name: a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')"
}

func (v nodeNameValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (nodeNameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if msg := api.IsDNS1123Subdomain(req.ConfigValue.ValueString()); msg != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid node name", fmt.Sprintf("%q %s.", req.ConfigValue.ValueString(), msg))
	}
}
