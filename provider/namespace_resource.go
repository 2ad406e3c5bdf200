package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

var (
	_ resource.Resource                 = (*NamespaceResource)(nil)
	_ resource.ResourceWithConfigure    = (*NamespaceResource)(nil)
	_ resource.ResourceWithImportState  = (*NamespaceResource)(nil)
	_ resource.ResourceWithUpgradeState = (*NamespaceResource)(nil)
)

// namespaceDeleteTimeout bounds the wait for the namespace controller to
// empty and remove a namespace.
const namespaceDeleteTimeout = 5 * time.Minute

// NewNamespaceResource is the constructor for maestro_namespace.
func NewNamespaceResource() resource.Resource {
	return &NamespaceResource{crud[*api.Namespace, NamespaceResourceModel]{
		kind:   "namespace",
		api:    func(c *client.Client, _ string) client.Resource[*api.Namespace] { return c.Namespaces() },
		newObj: func() *api.Namespace { return &api.Namespace{} },
		key: func(m *NamespaceResourceModel) (string, string) {
			if m.Metadata == nil {
				return "", ""
			}
			return "", m.Metadata.Name.ValueString()
		},
		expand:  expandNamespace,
		flatten: flattenNamespace,
		// flattenNamespace reads the metadata only.
		reads: &flattenReads[*api.Namespace, NamespaceResourceModel]{object: func(*api.Namespace) any { return nil },
			metadata: func(m *NamespaceResourceModel) (types.Map, types.Map) {
				if m.Metadata == nil {
					return types.MapNull(types.StringType), types.MapNull(types.StringType)
				}
				return m.Metadata.Labels, m.Metadata.Annotations
			}},
		clusterScoped: true,
		// A namespace being emptied is as good as gone: the plan recreates it.
		gone:     func(ns *api.Namespace) bool { return ns.DeletionTimestamp != nil },
		defaults: opTimeouts{delete: namespaceDeleteTimeout}, // delete waits until it is emptied and gone
	}}
}

// NamespaceResource manages a Namespace.
type NamespaceResource struct {
	crud[*api.Namespace, NamespaceResourceModel]
}

// NamespaceResourceModel is the state of maestro_namespace.
type NamespaceResourceModel struct {
	ID       types.String          `tfsdk:"id"`
	Metadata *clusterMetadataModel `tfsdk:"metadata"`
}

func (r *NamespaceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_namespace"
}

func (r *NamespaceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = kindSchema(ctx, "namespace")
}

// expandNamespace writes the tracked labels and annotations into ns.
func expandNamespace(ctx context.Context, plan, state, _ *NamespaceResourceModel, ns *api.Namespace, diags *diag.Diagnostics) {
	var prior *clusterMetadataModel
	if state != nil {
		prior = state.Metadata
	}
	expandClusterMetadata(ctx, plan.Metadata, prior, &ns.ObjectMeta, diags)
}

// flattenNamespace writes the object into the model, keeping only the
// labels and annotations the model tracks (all non-system keys on import).
func flattenNamespace(ctx context.Context, ns *api.Namespace, m *NamespaceResourceModel, _ bool, diags *diag.Diagnostics) {
	m.ID = flattenClusterMetadata(ctx, &ns.ObjectMeta, &m.Metadata, diags)
}
