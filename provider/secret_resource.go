package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

var (
	_ resource.Resource                 = (*SecretResource)(nil)
	_ resource.ResourceWithConfigure    = (*SecretResource)(nil)
	_ resource.ResourceWithImportState  = (*SecretResource)(nil)
	_ resource.ResourceWithUpgradeState = (*SecretResource)(nil)
)

// NewSecretResource is the constructor for maestro_secret.
func NewSecretResource() resource.Resource {
	return &SecretResource{crud[*api.Secret, SecretResourceModel]{
		kind:          "secret",
		api:           (*client.Client).Secrets,
		newObj:        func() *api.Secret { return &api.Secret{} },
		key:           func(m *SecretResourceModel) (string, string) { return metaKey(m.Metadata) },
		expand:        expandSecret,
		flatten:       flattenSecret,
		writeError:    secretError,
		importExample: "terraform import maestro_secret.db default/db-password",
		importModel: func() SecretResourceModel {
			return SecretResourceModel{DataWO: types.MapNull(types.StringType), DataWOVersion: types.Int64Null()}
		},
	}}
}

// SecretResource manages a Secret.
type SecretResource struct {
	crud[*api.Secret, SecretResourceModel]
}

// SecretResourceModel is the state of maestro_secret. DataWO is
// write-only: it is read from the configuration and always null in plan
// and state.
type SecretResourceModel struct {
	ID            types.String   `tfsdk:"id"`
	Metadata      *metadataModel `tfsdk:"metadata"`
	Type          types.String   `tfsdk:"type"`
	Data          types.Map      `tfsdk:"data"`
	DataWO        types.Map      `tfsdk:"data_wo"`
	DataWOVersion types.Int64    `tfsdk:"data_wo_version"`
}

func (r *SecretResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_secret"
}

func (r *SecretResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = kindSchema(ctx, "secret")
}

func (r *SecretResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m SecretResourceModel
	if !readConfig(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	if m.Metadata == nil {
		missingMetadata(&resp.Diagnostics, "secret", "name and namespace")
	}
	if !m.DataWO.IsNull() && m.DataWOVersion.IsNull() {
		resp.Diagnostics.AddAttributeError(pathRoot("data_wo_version"), "Missing data_wo_version",
			"data_wo is write-only, so Terraform cannot see when it changes. Set data_wo_version, and change it whenever the data_wo values should be sent again.")
	}
	if m.Metadata != nil {
		r.validateWithAPI(ctx, req.Config, &m, &resp.Diagnostics)
	}
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

// expandSecret writes the plan into s. Without data_wo_version every key
// of data is managed. With it, only the keys of data are; the write-only
// keys are sent on create and when the version changes, and otherwise
// stay as they are.
func expandSecret(ctx context.Context, plan, state, config *SecretResourceModel, s *api.Secret, diags *diag.Diagnostics) {
	var prior SecretResourceModel
	if state == nil {
		s.Type = plan.Type.ValueString()
	} else {
		prior = *state
	}
	expandMetadata(ctx, plan.Metadata, prior.Metadata, &s.ObjectMeta, diags)
	if plan.DataWOVersion.IsNull() && state != nil {
		s.Data = toBytes(stringMap(ctx, plan.Data, diags))
		return
	}
	live := map[string]string{}
	for k, v := range s.Data {
		live[k] = string(v)
	}
	merged, d := mergeTracked(ctx, live, prior.Data, plan.Data)
	diags.Append(d...)
	if state == nil || !plan.DataWOVersion.Equal(state.DataWOVersion) {
		if merged == nil {
			merged = map[string]string{}
		}
		for k, v := range stringMap(ctx, config.DataWO, diags) {
			merged[k] = v
		}
	}
	s.Data = toBytes(merged)
}

// flattenSecret writes the object into the model. data holds every key,
// unless data_wo_version is set: then only the keys data already tracks.
// data_wo is always null.
func flattenSecret(ctx context.Context, s *api.Secret, m *SecretResourceModel, importing bool, diags *diag.Diagnostics) {
	m.ID = flattenMetadata(ctx, &s.ObjectMeta, &m.Metadata, diags)
	m.Type = types.StringValue(s.Type)
	m.DataWO = types.MapNull(types.StringType)
	data := map[string]string{}
	for k, v := range s.Data {
		data[k] = string(v)
	}
	var d diag.Diagnostics
	switch {
	case !m.DataWOVersion.IsNull() && !importing:
		m.Data, d = trackedMap(ctx, m.Data, data, false)
		diags.Append(d...)
	case len(data) == 0 && !m.Data.IsNull() && !importing:
		m.Data = types.MapValueMust(types.StringType, map[string]attr.Value{}) // keep data = {}
	default:
		m.Data = mapOrNull(ctx, data, diags)
	}
}
