package provider

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

var (
	_ datasource.DataSourceWithConfigure = (*NamespaceDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*ServiceDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*NodesDataSource)(nil)
)

// dataSourceBase holds the client handle every data source shares.
type dataSourceBase struct {
	handle *clientHandle
}

func (d *dataSourceBase) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.handle = clientFromProviderData(req.ProviderData, &resp.Diagnostics)
}

// allMap is a map of strings with every key (empty, not null, when none),
// for data sources, which read rather than track.
func allMap(ctx context.Context, m map[string]string, diags *diag.Diagnostics) types.Map {
	if m == nil {
		m = map[string]string{}
	}
	v, d := types.MapValueFrom(ctx, types.StringType, m)
	diags.Append(d...)
	return v
}

// The namespace and service data sources take the resources' shape: a
// metadata block names the object and reads back its labels, annotations
// and uid, and a service's spec reads like the resource's. The flat
// attributes of their first shape (name and namespace at the top, labels,
// type, cluster_ip, ports) still work, deprecated, so that configurations
// written for it keep planning while they move.

// dsDeprecated is the deprecation message of a flat attribute.
func dsDeprecated(instead string) string {
	return "Use " + instead + " instead: the data sources take the resources' metadata and spec shape. This attribute goes in the next major version."
}

// dsMetadataAttributes are the attributes of a data source's metadata
// block; withNamespace for namespaced kinds.
func dsMetadataAttributes(kind string, withNamespace bool) map[string]schema.Attribute {
	attrs := map[string]schema.Attribute{
		"name": schema.StringAttribute{MarkdownDescription: "Name of the " + kind + " to read (required).", Optional: true,
			Validators: []validator.String{dnsLabelValidator{}}},
		"labels":      schema.MapAttribute{MarkdownDescription: "All labels of the " + kind + ".", ElementType: types.StringType, Computed: true},
		"annotations": schema.MapAttribute{MarkdownDescription: "All annotations of the " + kind + ".", ElementType: types.StringType, Computed: true},
		"uid":         schema.StringAttribute{MarkdownDescription: "Server-assigned unique id.", Computed: true},
	}
	if withNamespace {
		attrs["namespace"] = schema.StringAttribute{MarkdownDescription: "Namespace of the " + kind + " (required).", Optional: true,
			Validators: []validator.String{dnsLabelValidator{}}}
	}
	return attrs
}

// dsMetadataModel is a data source's metadata block.
type dsMetadataModel struct {
	Name        types.String `tfsdk:"name"`
	Namespace   types.String `tfsdk:"namespace"`
	Labels      types.Map    `tfsdk:"labels"`
	Annotations types.Map    `tfsdk:"annotations"`
	UID         types.String `tfsdk:"uid"`
}

// dsNamespaceMetadataModel is the namespace data source's metadata block.
type dsNamespaceMetadataModel struct {
	Name        types.String `tfsdk:"name"`
	Labels      types.Map    `tfsdk:"labels"`
	Annotations types.Map    `tfsdk:"annotations"`
	UID         types.String `tfsdk:"uid"`
}

// dsName picks the name from the metadata block or, deprecated, the flat
// attribute; exactly one of them must say it. field is "name" or
// "namespace".
func dsName(block, flat types.String, field string, diags *diag.Diagnostics) string {
	set := func(v types.String) bool { return !v.IsNull() && !v.IsUnknown() && v.ValueString() != "" }
	switch {
	case block.IsUnknown() || flat.IsUnknown():
		return "" // known at apply; checked then
	case set(block) && set(flat):
		diags.AddAttributeError(path.Root(field), "Conflicting "+field,
			fmt.Sprintf("Set metadata.%s only; the top-level %s is its deprecated spelling.", field, field))
	case set(block):
		return block.ValueString()
	case set(flat):
		return flat.ValueString()
	default:
		diags.AddAttributeError(path.Root("metadata").AtName(field), "Missing "+field,
			fmt.Sprintf("Add a metadata block with the %s to read.", field))
	}
	return ""
}

// --- maestro_namespace ---

// NewNamespaceDataSource is the constructor for data.maestro_namespace.
func NewNamespaceDataSource() datasource.DataSource { return &NamespaceDataSource{} }

// NamespaceDataSource reads a namespace.
type NamespaceDataSource struct{ dataSourceBase }

var _ datasource.DataSourceWithValidateConfig = (*NamespaceDataSource)(nil)

// NamespaceDataSourceModel is data.maestro_namespace.
type NamespaceDataSourceModel struct {
	ID       types.String              `tfsdk:"id"`
	Metadata *dsNamespaceMetadataModel `tfsdk:"metadata"`
	Phase    types.String              `tfsdk:"phase"`
	// Deprecated flat attributes.
	Name        types.String `tfsdk:"name"`
	Labels      types.Map    `tfsdk:"labels"`
	Annotations types.Map    `tfsdk:"annotations"`
}

func (d *NamespaceDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_namespace"
}

func (d *NamespaceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads an existing namespace: `metadata { name = \"shop\" }`, as `maestro_namespace` names it.",
		Attributes: map[string]schema.Attribute{
			"id":    schema.StringAttribute{MarkdownDescription: "The name.", Computed: true},
			"phase": schema.StringAttribute{MarkdownDescription: "`Active` or `Terminating`.", Computed: true},
			"name": schema.StringAttribute{MarkdownDescription: "Name of the namespace (deprecated: `metadata.name`).", Optional: true, Computed: true,
				DeprecationMessage: dsDeprecated("metadata.name"), Validators: []validator.String{dnsLabelValidator{}}},
			"labels": schema.MapAttribute{MarkdownDescription: "All labels of the namespace (deprecated: `metadata.labels`).", ElementType: types.StringType, Computed: true,
				DeprecationMessage: dsDeprecated("metadata.labels")},
			"annotations": schema.MapAttribute{MarkdownDescription: "All annotations of the namespace (deprecated: `metadata.annotations`).", ElementType: types.StringType, Computed: true,
				DeprecationMessage: dsDeprecated("metadata.annotations")},
		},
		Blocks: map[string]schema.Block{
			"metadata": schema.SingleNestedBlock{
				MarkdownDescription: "The namespace to read, and its labels, annotations and uid.",
				Attributes:          dsMetadataAttributes("namespace", false),
			},
		},
	}
}

func (d *NamespaceDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m NamespaceDataSourceModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	dsName(m.metadataName(), m.Name, "name", &resp.Diagnostics)
}

func (m *NamespaceDataSourceModel) metadataName() types.String {
	if m.Metadata == nil {
		return types.StringNull()
	}
	return m.Metadata.Name
}

func (d *NamespaceDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m NamespaceDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	name := dsName(m.metadataName(), m.Name, "name", &resp.Diagnostics)
	c, diags := d.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, err := c.Namespaces().Get(ctx, name)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read namespace %s", name), err)
		return
	}
	m.ID, m.Name = types.StringValue(ns.Name), types.StringValue(ns.Name)
	m.Labels = allMap(ctx, ns.Labels, &resp.Diagnostics)
	m.Annotations = allMap(ctx, ns.Annotations, &resp.Diagnostics)
	if m.Metadata != nil { // a block is never computed: filled only when written
		m.Metadata.Labels, m.Metadata.Annotations, m.Metadata.UID = m.Labels, m.Annotations, types.StringValue(ns.UID)
	}
	m.Phase = types.StringValue(ns.Status.Phase)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// --- maestro_service ---

// NewServiceDataSource is the constructor for data.maestro_service.
func NewServiceDataSource() datasource.DataSource { return &ServiceDataSource{} }

// ServiceDataSource reads a service and its ready endpoints.
type ServiceDataSource struct{ dataSourceBase }

var _ datasource.DataSourceWithValidateConfig = (*ServiceDataSource)(nil)

// ServiceDataSourceModel is data.maestro_service.
type ServiceDataSourceModel struct {
	ID                types.String     `tfsdk:"id"`
	Metadata          *dsMetadataModel `tfsdk:"metadata"`
	Spec              *serviceDSSpec   `tfsdk:"spec"`
	EndpointAddresses types.List       `tfsdk:"endpoint_addresses"`
	// Deprecated flat attributes.
	Namespace types.String         `tfsdk:"namespace"`
	Name      types.String         `tfsdk:"name"`
	Type      types.String         `tfsdk:"type"`
	ClusterIP types.String         `tfsdk:"cluster_ip"`
	Ports     []serviceDSPortModel `tfsdk:"ports"`
}

// serviceDSSpec is the service's spec as maestro_service spells it.
type serviceDSSpec struct {
	Type      types.String         `tfsdk:"type"`
	ClusterIP types.String         `tfsdk:"cluster_ip"`
	Selector  types.Map            `tfsdk:"selector"`
	Port      []serviceDSPortModel `tfsdk:"port"`
}

type serviceDSPortModel struct {
	Name       types.String `tfsdk:"name"`
	Protocol   types.String `tfsdk:"protocol"`
	Port       types.Int64  `tfsdk:"port"`
	TargetPort types.String `tfsdk:"target_port"`
	NodePort   types.Int64  `tfsdk:"node_port"`
}

func (d *ServiceDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_service"
}

// serviceDSPortAttributes are a port's attributes (spec.port and the
// deprecated ports).
func serviceDSPortAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"name":        schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the port."},
		"protocol":    schema.StringAttribute{Computed: true, MarkdownDescription: "`TCP` or `UDP`."},
		"port":        schema.Int64Attribute{Computed: true, MarkdownDescription: "Port of the service."},
		"target_port": schema.StringAttribute{Computed: true, MarkdownDescription: "Port on the pods: a number or a container port name."},
		"node_port":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Port opened on every node (0 when none)."},
	}
}

func (d *ServiceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads an existing service and the addresses of its ready pods: `metadata { namespace, name }`, as `maestro_service` names it; `spec` reads like the resource's.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{MarkdownDescription: "`namespace/name`.", Computed: true},
			"spec": schema.SingleNestedAttribute{
				MarkdownDescription: "The service's spec, as `maestro_service` has it.",
				Computed:            true,
				Attributes: map[string]schema.Attribute{
					"type":       schema.StringAttribute{MarkdownDescription: "`ClusterIP`, `NodePort` or `LoadBalancer`.", Computed: true},
					"cluster_ip": schema.StringAttribute{MarkdownDescription: "Virtual IP of the service (`None` for a headless service).", Computed: true},
					"selector":   schema.MapAttribute{MarkdownDescription: "Labels of the pods the service sends to.", ElementType: types.StringType, Computed: true},
					"port": schema.ListNestedAttribute{MarkdownDescription: "Ports of the service.", Computed: true,
						NestedObject: schema.NestedAttributeObject{Attributes: serviceDSPortAttributes()}},
				},
			},
			"endpoint_addresses": schema.ListAttribute{
				MarkdownDescription: "Sorted IP addresses of the ready pods behind the service, from its Endpoints object (empty when there is none yet).",
				ElementType:         types.StringType,
				Computed:            true,
			},
			"namespace": schema.StringAttribute{MarkdownDescription: "Namespace of the service (deprecated: `metadata.namespace`).", Optional: true, Computed: true,
				DeprecationMessage: dsDeprecated("metadata.namespace"), Validators: []validator.String{dnsLabelValidator{}}},
			"name": schema.StringAttribute{MarkdownDescription: "Name of the service (deprecated: `metadata.name`).", Optional: true, Computed: true,
				DeprecationMessage: dsDeprecated("metadata.name"), Validators: []validator.String{dnsLabelValidator{}}},
			"type": schema.StringAttribute{MarkdownDescription: "Deprecated: `spec.type`.", Computed: true, DeprecationMessage: dsDeprecated("spec.type")},
			"cluster_ip": schema.StringAttribute{MarkdownDescription: "Deprecated: `spec.cluster_ip`.", Computed: true,
				DeprecationMessage: dsDeprecated("spec.cluster_ip")},
			"ports": schema.ListNestedAttribute{MarkdownDescription: "Deprecated: `spec.port`.", Computed: true, DeprecationMessage: dsDeprecated("spec.port"),
				NestedObject: schema.NestedAttributeObject{Attributes: serviceDSPortAttributes()}},
		},
		Blocks: map[string]schema.Block{
			"metadata": schema.SingleNestedBlock{
				MarkdownDescription: "The service to read, and its labels, annotations and uid.",
				Attributes:          dsMetadataAttributes("service", true),
			},
		},
	}
}

func (m *ServiceDataSourceModel) names(diags *diag.Diagnostics) (namespace, name string) {
	md := m.Metadata
	if md == nil {
		md = &dsMetadataModel{Name: types.StringNull(), Namespace: types.StringNull()}
	}
	return dsName(md.Namespace, m.Namespace, "namespace", diags), dsName(md.Name, m.Name, "name", diags)
}

func (d *ServiceDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m ServiceDataSourceModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	m.names(&resp.Diagnostics)
}

func (d *ServiceDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m ServiceDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	ns, name := m.names(&resp.Diagnostics)
	c, diags := d.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := c.Services(ns).Get(ctx, name)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read service %s/%s", ns, name), err)
		return
	}
	m.ID = types.StringValue(ns + "/" + name)
	m.Namespace, m.Name = types.StringValue(ns), types.StringValue(name)
	if m.Metadata != nil { // a block is never computed: filled only when written
		m.Metadata.UID = types.StringValue(s.UID)
		m.Metadata.Labels = allMap(ctx, s.Labels, &resp.Diagnostics)
		m.Metadata.Annotations = allMap(ctx, s.Annotations, &resp.Diagnostics)
	}
	m.Type = types.StringValue(s.Spec.Type)
	m.ClusterIP = types.StringValue(s.Spec.ClusterIP)
	m.Ports = []serviceDSPortModel{}
	for _, p := range s.Spec.Ports {
		m.Ports = append(m.Ports, serviceDSPortModel{
			Name:       types.StringValue(p.Name),
			Protocol:   types.StringValue(string(p.Protocol)),
			Port:       types.Int64Value(int64(p.Port)),
			TargetPort: types.StringValue(p.TargetPort.String()),
			NodePort:   types.Int64Value(int64(p.NodePort)),
		})
	}
	m.Spec = &serviceDSSpec{Type: m.Type, ClusterIP: m.ClusterIP, Selector: allMap(ctx, s.Spec.Selector, &resp.Diagnostics), Port: m.Ports}
	addrs := []string{}
	ep, err := c.Endpoints(ns).Get(ctx, name)
	switch {
	case api.IsNotFound(err): // no endpoints yet
	case err != nil:
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read the endpoints of service %s/%s", ns, name), err)
		return
	default:
		seen := map[string]bool{}
		for _, sub := range ep.Subsets {
			for _, a := range sub.Addresses {
				if !seen[a.IP] {
					seen[a.IP] = true
					addrs = append(addrs, a.IP)
				}
			}
		}
		sort.Strings(addrs)
	}
	l, d2 := types.ListValueFrom(ctx, types.StringType, addrs)
	resp.Diagnostics.Append(d2...)
	m.EndpointAddresses = l
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// --- maestro_nodes ---

// NewNodesDataSource is the constructor for data.maestro_nodes.
func NewNodesDataSource() datasource.DataSource { return &NodesDataSource{} }

// NodesDataSource lists nodes.
type NodesDataSource struct{ dataSourceBase }

// NodesDataSourceModel is data.maestro_nodes.
type NodesDataSourceModel struct {
	ID            types.String `tfsdk:"id"`
	LabelSelector types.String `tfsdk:"label_selector"`
	Nodes         []nodeModel  `tfsdk:"nodes"`
}

type nodeModel struct {
	Name      types.String `tfsdk:"name"`
	Labels    types.Map    `tfsdk:"labels"`
	Ready     types.Bool   `tfsdk:"ready"`
	Capacity  types.Object `tfsdk:"capacity"`
	Addresses types.List   `tfsdk:"addresses"`
}

var (
	capacityAttrTypes = map[string]attr.Type{"cpu": types.StringType, "memory": types.StringType, "pods": types.StringType}
	addressAttrTypes  = map[string]attr.Type{"type": types.StringType, "address": types.StringType}
)

func (d *NodesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_nodes"
}

func (d *NodesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the nodes of the cluster, sorted by name.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{MarkdownDescription: "The label selector used (empty for all nodes).", Computed: true},
			"label_selector": schema.StringAttribute{
				MarkdownDescription: "Only nodes whose labels match, e.g. `pool=gpu,zone!=a`. All nodes when left out.",
				Optional:            true,
			},
			"nodes": schema.ListNestedAttribute{
				MarkdownDescription: "The matching nodes.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":   schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the node."},
					"labels": schema.MapAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "All labels of the node."},
					"ready":  schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the node's Ready condition is true."},
					"capacity": schema.SingleNestedAttribute{
						Computed:            true,
						MarkdownDescription: "Resources of the node (quantities as strings; empty when not reported).",
						Attributes: map[string]schema.Attribute{
							"cpu":    schema.StringAttribute{Computed: true, MarkdownDescription: "CPU, e.g. `4` or `3500m`."},
							"memory": schema.StringAttribute{Computed: true, MarkdownDescription: "Memory, e.g. `8Gi`."},
							"pods":   schema.StringAttribute{Computed: true, MarkdownDescription: "Maximum number of pods."},
						},
					},
					"addresses": schema.ListNestedAttribute{
						Computed:            true,
						MarkdownDescription: "Addresses of the node.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"type":    schema.StringAttribute{Computed: true, MarkdownDescription: "`InternalIP`, `ExternalIP` or `Hostname`."},
							"address": schema.StringAttribute{Computed: true, MarkdownDescription: "The address."},
						}},
					},
				}},
			},
		},
	}
}

func (d *NodesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m NodesDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	c, diags := d.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	sel := m.LabelSelector.ValueString()
	nodes, _, err := c.Nodes().List(ctx, client.ListOptions{LabelSelector: sel})
	if err != nil {
		apiError(&resp.Diagnostics, "Cannot list nodes", err)
		return
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	m.ID = types.StringValue(sel)
	m.Nodes = []nodeModel{}
	for _, n := range nodes {
		q := func(name api.ResourceName) attr.Value {
			if v, ok := n.Status.Capacity[name]; ok {
				return types.StringValue(v.String())
			}
			return types.StringValue("")
		}
		capacity, d2 := types.ObjectValue(capacityAttrTypes, map[string]attr.Value{
			"cpu": q(api.ResourceCPU), "memory": q(api.ResourceMemory), "pods": q(api.ResourcePods),
		})
		resp.Diagnostics.Append(d2...)
		addrs := []attr.Value{}
		for _, a := range n.Status.Addresses {
			o, d2 := types.ObjectValue(addressAttrTypes, map[string]attr.Value{
				"type": types.StringValue(a.Type), "address": types.StringValue(a.Address),
			})
			resp.Diagnostics.Append(d2...)
			addrs = append(addrs, o)
		}
		addrList, d2 := types.ListValue(types.ObjectType{AttrTypes: addressAttrTypes}, addrs)
		resp.Diagnostics.Append(d2...)
		m.Nodes = append(m.Nodes, nodeModel{
			Name:      types.StringValue(n.Name),
			Labels:    allMap(ctx, n.Labels, &resp.Diagnostics),
			Ready:     types.BoolValue(api.IsNodeReady(n)),
			Capacity:  capacity,
			Addresses: addrList,
		})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
