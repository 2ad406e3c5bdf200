package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

var (
	_ resource.Resource                = (*NamespaceResource)(nil)
	_ resource.ResourceWithConfigure   = (*NamespaceResource)(nil)
	_ resource.ResourceWithImportState = (*NamespaceResource)(nil)
)

// namespaceDeleteTimeout bounds the wait for the namespace controller to
// empty and remove a namespace.
const namespaceDeleteTimeout = 5 * time.Minute

// NewNamespaceResource is the constructor for maestro_namespace.
func NewNamespaceResource() resource.Resource {
	return &NamespaceResource{crud[*api.Namespace, NamespaceResourceModel]{
		kind:          "namespace",
		api:           func(c *client.Client, _ string) client.Resource[*api.Namespace] { return c.Namespaces() },
		newObj:        func() *api.Namespace { return &api.Namespace{} },
		key:           func(m *NamespaceResourceModel) (string, string) { return "", m.Name.ValueString() },
		expand:        expandNamespace,
		flatten:       flattenNamespace,
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
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Labels      types.Map    `tfsdk:"labels"`
	Annotations types.Map    `tfsdk:"annotations"`
	UID         types.String `tfsdk:"uid"`
}

func (r *NamespaceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_namespace"
}

func (r *NamespaceResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A namespace: a scope for names. Deleting it deletes everything in it.",
		Attributes: map[string]schema.Attribute{
			"id":          computedString("The namespace name."),
			"name":        nameAttribute("Name of the namespace (a DNS-1123 label). Changing it replaces the namespace."),
			"labels":      labelsAttribute("labels"),
			"annotations": labelsAttribute("annotations"),
			"uid": schema.StringAttribute{
				MarkdownDescription: "Server-assigned identity of this incarnation of the namespace.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

// expandNamespace writes the tracked labels and annotations into ns.
func expandNamespace(ctx context.Context, plan, state, _ *NamespaceResourceModel, ns *api.Namespace, diags *diag.Diagnostics) {
	ns.Name = plan.Name.ValueString()
	var prior NamespaceResourceModel
	if state != nil {
		prior = *state
	}
	expandTracked(ctx, &ns.ObjectMeta, plan.Labels, plan.Annotations, prior.Labels, prior.Annotations, diags)
}

// flattenNamespace writes the object into the model, keeping only the
// labels and annotations the model tracks (all non-system keys on import).
func flattenNamespace(ctx context.Context, ns *api.Namespace, m *NamespaceResourceModel, importing bool, diags *diag.Diagnostics) {
	m.ID = types.StringValue(ns.Name)
	m.Name = types.StringValue(ns.Name)
	m.UID = types.StringValue(ns.UID)
	flattenTracked(ctx, &ns.ObjectMeta, &m.Labels, &m.Annotations, importing, diags)
}
