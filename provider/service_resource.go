package provider

import (
	"context"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

var (
	_ resource.Resource                = (*ServiceResource)(nil)
	_ resource.ResourceWithConfigure   = (*ServiceResource)(nil)
	_ resource.ResourceWithImportState = (*ServiceResource)(nil)
)

// NewServiceResource is the constructor for maestro_service.
func NewServiceResource() resource.Resource {
	return &ServiceResource{crud[*api.Service, ServiceResourceModel]{
		kind:   "service",
		api:    (*client.Client).Services,
		newObj: func() *api.Service { return &api.Service{} },
		key: func(m *ServiceResourceModel) (string, string) {
			return m.Metadata.Namespace.ValueString(), m.Metadata.Name.ValueString()
		},
		expand:  expandService,
		flatten: flattenService,
		// flattenService reads the spec and the load balancer's address.
		reads: readsOf(func(s *api.Service) any { return []any{&s.Spec, &s.Status.LoadBalancer} },
			func(m *ServiceResourceModel) *metadataModel { return m.Metadata }),
		importExample: "terraform import maestro_service.web default/web",
	}}
}

// ServiceResource manages a Service.
type ServiceResource struct {
	crud[*api.Service, ServiceResourceModel]
}

// ServiceResourceModel is the state of maestro_service.
type ServiceResourceModel struct {
	ID                  types.String      `tfsdk:"id"`
	Metadata            *metadataModel    `tfsdk:"metadata"`
	Spec                *serviceSpecModel `tfsdk:"spec"`
	LoadBalancerIngress types.List        `tfsdk:"load_balancer_ingress"`
}

type serviceSpecModel struct {
	Type            types.String       `tfsdk:"type"`
	Selector        types.Map          `tfsdk:"selector"`
	SessionAffinity types.String       `tfsdk:"session_affinity"`
	ClusterIP       types.String       `tfsdk:"cluster_ip"`
	Ports           []servicePortModel `tfsdk:"port"`
}

type servicePortModel struct {
	Name       types.String `tfsdk:"name"`
	Protocol   types.String `tfsdk:"protocol"`
	Port       types.Int64  `tfsdk:"port"`
	TargetPort types.String `tfsdk:"target_port"`
	NodePort   types.Int64  `tfsdk:"node_port"`
}

func (r *ServiceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_service"
}

func (r *ServiceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = kindSchema(ctx, "service")
}

// clusterIPChanged: replacing is needed only when both the configured and
// the allocated IP are known and differ.
func clusterIPChanged(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() || req.StateValue.IsNull() || req.StateValue.IsUnknown() {
		return
	}
	resp.RequiresReplace = req.ConfigValue.ValueString() != req.StateValue.ValueString()
}

// targetPortDefault plans target_port as the port number when the
// configuration leaves it out, as the server defaults it.
type targetPortDefault struct{}

func (targetPortDefault) Description(context.Context) string { return "defaults to the port number" }
func (m targetPortDefault) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (targetPortDefault) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if !req.ConfigValue.IsNull() {
		return
	}
	var port types.Int64
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, req.Path.ParentPath().AtName("port"), &port)...)
	if !port.IsNull() && !port.IsUnknown() {
		resp.PlanValue = types.StringValue(strconv.FormatInt(port.ValueInt64(), 10))
	}
}

// nodePortKeep plans an unconfigured node_port: none for ClusterIP
// services, the allocated one while the type stays the same, otherwise
// known after apply.
type nodePortKeep struct{}

func (nodePortKeep) Description(context.Context) string {
	return "keeps the allocated node port while the service type stays the same"
}
func (m nodePortKeep) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (nodePortKeep) PlanModifyInt64(ctx context.Context, req planmodifier.Int64Request, resp *planmodifier.Int64Response) {
	if !req.ConfigValue.IsNull() {
		return
	}
	typePath := path.Root("spec").AtName("type")
	var planType, stateType types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, typePath, &planType)...)
	if planType.IsUnknown() {
		return
	}
	if planType.ValueString() == api.ServiceTypeClusterIP {
		resp.PlanValue = types.Int64Null()
		return
	}
	if req.State.Raw.IsNull() || req.StateValue.IsNull() || req.StateValue.IsUnknown() {
		return
	}
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, typePath, &stateType)...)
	if stateType.ValueString() == planType.ValueString() {
		resp.PlanValue = req.StateValue
	}
}

// expandService writes the plan into s; state is nil on create.
func expandService(ctx context.Context, plan, state, _ *ServiceResourceModel, s *api.Service, diags *diag.Diagnostics) {
	var prior *metadataModel
	if state != nil {
		prior = state.Metadata
	}
	expandMetadata(ctx, plan.Metadata, prior, &s.ObjectMeta, diags)

	spec := plan.Spec
	s.Spec.Type = spec.Type.ValueString()
	s.Spec.Selector = stringMap(ctx, spec.Selector, diags)
	s.Spec.SessionAffinity = spec.SessionAffinity.ValueString()
	if !spec.ClusterIP.IsUnknown() && !spec.ClusterIP.IsNull() {
		s.Spec.ClusterIP = spec.ClusterIP.ValueString()
	} // else: the server allocates it, or keeps the one it has
	ports := make([]api.ServicePort, 0, len(spec.Ports))
	for _, p := range spec.Ports {
		sp := api.ServicePort{
			Name:     p.Name.ValueString(),
			Protocol: api.Protocol(p.Protocol.ValueString()),
			Port:     int32(p.Port.ValueInt64()),
		}
		if tp := intOrString(p.TargetPort); tp != nil {
			sp.TargetPort = *tp
		}
		if !p.NodePort.IsNull() && !p.NodePort.IsUnknown() {
			sp.NodePort = int32(p.NodePort.ValueInt64())
		}
		ports = append(ports, sp)
	}
	s.Spec.Ports = ports
}

// flattenService writes s into m (empty on import).
func flattenService(ctx context.Context, s *api.Service, m *ServiceResourceModel, _ bool, diags *diag.Diagnostics) {
	m.ID = flattenMetadata(ctx, &s.ObjectMeta, &m.Metadata, diags)
	if m.Spec == nil {
		m.Spec = &serviceSpecModel{}
	}
	spec := m.Spec
	spec.Type = types.StringValue(s.Spec.Type)
	spec.Selector = mapOrNull(ctx, s.Spec.Selector, diags)
	spec.SessionAffinity = types.StringValue(s.Spec.SessionAffinity)
	spec.ClusterIP = types.StringNull()
	if s.Spec.ClusterIP != "" {
		spec.ClusterIP = types.StringValue(s.Spec.ClusterIP)
	}
	spec.Ports = nil
	for _, p := range s.Spec.Ports {
		pm := servicePortModel{
			Name:       types.StringNull(),
			Protocol:   types.StringValue(string(p.Protocol)),
			Port:       types.Int64Value(int64(p.Port)),
			TargetPort: types.StringValue(p.TargetPort.String()),
			NodePort:   types.Int64Null(),
		}
		if p.Name != "" {
			pm.Name = types.StringValue(p.Name)
		}
		if p.NodePort != 0 {
			pm.NodePort = types.Int64Value(int64(p.NodePort))
		}
		spec.Ports = append(spec.Ports, pm)
	}
	var ingress []string
	for _, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			ingress = append(ingress, in.IP)
		} else if in.Hostname != "" {
			ingress = append(ingress, in.Hostname)
		}
	}
	l, d := types.ListValueFrom(ctx, types.StringType, ingress)
	if ingress == nil {
		l, d = types.ListValueFrom(ctx, types.StringType, []string{})
	}
	diags.Append(d...)
	m.LoadBalancerIngress = l
}
