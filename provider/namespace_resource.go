package provider

import (
	"context"
	"fmt"
	"time"

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
	_ resource.Resource                = (*NamespaceResource)(nil)
	_ resource.ResourceWithConfigure   = (*NamespaceResource)(nil)
	_ resource.ResourceWithImportState = (*NamespaceResource)(nil)
)

// namespaceDeleteTimeout bounds the wait for the namespace controller to
// empty and remove a namespace.
const namespaceDeleteTimeout = 5 * time.Minute

// NewNamespaceResource is the constructor for maestro_namespace.
func NewNamespaceResource() resource.Resource { return &NamespaceResource{} }

// NamespaceResource manages a Namespace.
type NamespaceResource struct {
	handle *clientHandle
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
			"id": schema.StringAttribute{
				MarkdownDescription: "The namespace name.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the namespace (a DNS-1123 label). Changing it replaces the namespace.",
				Required:            true,
				Validators:          []validator.String{dnsLabelValidator{}},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
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

// labelsAttribute is the schema of a labels or annotations map.
func labelsAttribute(what string) schema.MapAttribute {
	return schema.MapAttribute{
		MarkdownDescription: fmt.Sprintf("Map of %s. Only the keys set here are managed: keys added by the server or other tools are left alone and never show as a diff.", what),
		ElementType:         types.StringType,
		Optional:            true,
	}
}

func (r *NamespaceResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.handle = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

func (r *NamespaceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan NamespaceResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns := &api.Namespace{ObjectMeta: api.ObjectMeta{
		Name:        plan.Name.ValueString(),
		Labels:      stringMap(ctx, plan.Labels, &resp.Diagnostics),
		Annotations: stringMap(ctx, plan.Annotations, &resp.Diagnostics),
	}}
	created, err := c.Namespaces().Create(ctx, ns)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot create namespace %q", ns.Name), err)
		return
	}
	resp.Diagnostics.Append(flattenNamespace(ctx, created, &plan, false)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *NamespaceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state NamespaceResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, err := c.Namespaces().Get(ctx, state.Name.ValueString())
	if api.IsNotFound(err) || err == nil && ns.DeletionTimestamp != nil {
		resp.State.RemoveResource(ctx) // deleted outside Terraform: plan recreates it
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read namespace %q", state.Name.ValueString()), err)
		return
	}
	resp.Diagnostics.Append(flattenNamespace(ctx, ns, &state, false)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *NamespaceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state NamespaceResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	ns, err := c.Namespaces().Get(ctx, name)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read namespace %q", name), err)
		return
	}
	var d diag.Diagnostics
	ns.Labels, d = mergeTracked(ctx, ns.Labels, state.Labels, plan.Labels)
	resp.Diagnostics.Append(d...)
	ns.Annotations, d = mergeTracked(ctx, ns.Annotations, state.Annotations, plan.Annotations)
	resp.Diagnostics.Append(d...)
	updated, err := c.Namespaces().Update(ctx, ns)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot update namespace %q", name), err)
		return
	}
	resp.Diagnostics.Append(flattenNamespace(ctx, updated, &plan, false)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *NamespaceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state NamespaceResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	if err := c.Namespaces().Delete(ctx, name); err != nil && !api.IsNotFound(err) {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot delete namespace %q", name), err)
		return
	}
	err := waitGone(ctx, namespaceDeleteTimeout, func(ctx context.Context) error {
		_, err := c.Namespaces().Get(ctx, name)
		return err
	})
	if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Namespace %q was not deleted", name),
			fmt.Sprintf("The namespace is %v: something in it is not going away (look for finalizers with `maestro get all -n %s`).", err, name))
	}
}

func (r *NamespaceResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	c, diags := r.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, err := c.Namespaces().Get(ctx, req.ID)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot import namespace %q", req.ID), err)
		return
	}
	var state NamespaceResourceModel
	resp.Diagnostics.Append(flattenNamespace(ctx, ns, &state, true)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// flattenNamespace writes the object into the model, keeping only the
// labels and annotations the model tracks (all non-system keys on import).
func flattenNamespace(ctx context.Context, ns *api.Namespace, m *NamespaceResourceModel, importing bool) diag.Diagnostics {
	var diags, d diag.Diagnostics
	m.ID = types.StringValue(ns.Name)
	m.Name = types.StringValue(ns.Name)
	m.UID = types.StringValue(ns.UID)
	m.Labels, d = trackedMap(ctx, m.Labels, ns.Labels, importing)
	diags.Append(d...)
	m.Annotations, d = trackedMap(ctx, m.Annotations, ns.Annotations, importing)
	diags.Append(d...)
	return diags
}
