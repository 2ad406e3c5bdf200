package provider

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
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

// --- maestro_namespace ---

// NewNamespaceDataSource is the constructor for data.maestro_namespace.
func NewNamespaceDataSource() datasource.DataSource { return &NamespaceDataSource{} }

// NamespaceDataSource reads a namespace.
type NamespaceDataSource struct{ dataSourceBase }

// NamespaceDataSourceModel is data.maestro_namespace.
type NamespaceDataSourceModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Labels      types.Map    `tfsdk:"labels"`
	Annotations types.Map    `tfsdk:"annotations"`
	Phase       types.String `tfsdk:"phase"`
}

func (d *NamespaceDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_namespace"
}

func (d *NamespaceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads an existing namespace.",
		Attributes: map[string]schema.Attribute{
			"id":          schema.StringAttribute{MarkdownDescription: "The name.", Computed: true},
			"name":        schema.StringAttribute{MarkdownDescription: "Name of the namespace.", Required: true, Validators: []validator.String{dnsLabelValidator{}}},
			"labels":      schema.MapAttribute{MarkdownDescription: "All labels of the namespace.", ElementType: types.StringType, Computed: true},
			"annotations": schema.MapAttribute{MarkdownDescription: "All annotations of the namespace.", ElementType: types.StringType, Computed: true},
			"phase":       schema.StringAttribute{MarkdownDescription: "`Active` or `Terminating`.", Computed: true},
		},
	}
}

func (d *NamespaceDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m NamespaceDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	c, diags := d.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, err := c.Namespaces().Get(ctx, m.Name.ValueString())
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read namespace %s", m.Name.ValueString()), err)
		return
	}
	m.ID = types.StringValue(ns.Name)
	m.Labels = allMap(ctx, ns.Labels, &resp.Diagnostics)
	m.Annotations = allMap(ctx, ns.Annotations, &resp.Diagnostics)
	m.Phase = types.StringValue(ns.Status.Phase)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// --- maestro_service ---

// NewServiceDataSource is the constructor for data.maestro_service.
func NewServiceDataSource() datasource.DataSource { return &ServiceDataSource{} }

// ServiceDataSource reads a service and its ready endpoints.
type ServiceDataSource struct{ dataSourceBase }

// ServiceDataSourceModel is data.maestro_service.
type ServiceDataSourceModel struct {
	ID                types.String         `tfsdk:"id"`
	Namespace         types.String         `tfsdk:"namespace"`
	Name              types.String         `tfsdk:"name"`
	Type              types.String         `tfsdk:"type"`
	ClusterIP         types.String         `tfsdk:"cluster_ip"`
	Ports             []serviceDSPortModel `tfsdk:"ports"`
	EndpointAddresses types.List           `tfsdk:"endpoint_addresses"`
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

func (d *ServiceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads an existing service and the addresses of its ready pods.",
		Attributes: map[string]schema.Attribute{
			"id":         schema.StringAttribute{MarkdownDescription: "`namespace/name`.", Computed: true},
			"namespace":  schema.StringAttribute{MarkdownDescription: "Namespace of the service.", Required: true, Validators: []validator.String{dnsLabelValidator{}}},
			"name":       schema.StringAttribute{MarkdownDescription: "Name of the service.", Required: true, Validators: []validator.String{dnsLabelValidator{}}},
			"type":       schema.StringAttribute{MarkdownDescription: "`ClusterIP`, `NodePort` or `LoadBalancer`.", Computed: true},
			"cluster_ip": schema.StringAttribute{MarkdownDescription: "Virtual IP of the service (`None` for a headless service).", Computed: true},
			"ports": schema.ListNestedAttribute{
				MarkdownDescription: "Ports of the service.",
				Computed:            true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":        schema.StringAttribute{Computed: true, MarkdownDescription: "Name of the port."},
					"protocol":    schema.StringAttribute{Computed: true, MarkdownDescription: "`TCP` or `UDP`."},
					"port":        schema.Int64Attribute{Computed: true, MarkdownDescription: "Port of the service."},
					"target_port": schema.StringAttribute{Computed: true, MarkdownDescription: "Port on the pods: a number or a container port name."},
					"node_port":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Port opened on every node (0 when none)."},
				}},
			},
			"endpoint_addresses": schema.ListAttribute{
				MarkdownDescription: "Sorted IP addresses of the ready pods behind the service, from its Endpoints object (empty when there is none yet).",
				ElementType:         types.StringType,
				Computed:            true,
			},
		},
	}
}

func (d *ServiceDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m ServiceDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	c, diags := d.handle.Client()
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, name := m.Namespace.ValueString(), m.Name.ValueString()
	s, err := c.Services(ns).Get(ctx, name)
	if err != nil {
		apiError(&resp.Diagnostics, fmt.Sprintf("Cannot read service %s/%s", ns, name), err)
		return
	}
	m.ID = types.StringValue(ns + "/" + name)
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
