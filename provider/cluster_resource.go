package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/localserver"
)

var (
	_ resource.Resource                   = (*ClusterResource)(nil)
	_ resource.ResourceWithImportState    = (*ClusterResource)(nil)
	_ resource.ResourceWithValidateConfig = (*ClusterResource)(nil)
)

// Default timeouts of maestro_cluster.
const (
	clusterCreateTimeout = 3 * time.Minute
	clusterDeleteTimeout = 2 * time.Minute
	defaultClusterListen = "127.0.0.1:0"
)

// NewClusterResource is the constructor for maestro_cluster.
func NewClusterResource() resource.Resource { return &ClusterResource{} }

// ClusterResource runs a maestro control plane. It needs no connection
// to a cluster (it makes one), so it works on a provider instance whose
// endpoint is unknown or unset: give it a provider alias of its own, and
// configure the default instance from its outputs.
type ClusterResource struct{}

// ClusterResourceModel is the state of maestro_cluster.
type ClusterResourceModel struct {
	ID            types.String       `tfsdk:"id"`
	Local         *clusterLocalModel `tfsdk:"local"`
	SSH           *clusterSSHModel   `tfsdk:"ssh"`
	Endpoint      types.String       `tfsdk:"endpoint"`
	Endpoints     types.List         `tfsdk:"endpoints"`
	CACertificate types.String       `tfsdk:"ca_certificate"`
	Token         types.String       `tfsdk:"token"`
	Timeouts      timeouts.Value     `tfsdk:"timeouts"`
}

type clusterLocalModel struct {
	DataDir          types.String `tfsdk:"data_dir"`
	Listen           types.String `tfsdk:"listen"`
	AdvertiseAddress types.String `tfsdk:"advertise_address"`
	Binary           types.String `tfsdk:"binary"`
	ServerArgs       types.List   `tfsdk:"server_args"`
}

func (r *ClusterResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (r *ClusterResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A maestro control plane. `local` runs `maestro server` on the machine running Terraform, " +
			"under `maestro supervise` (restarted if it dies, detached from Terraform); `ssh` installs it on one host, or on three " +
			"as an HA control plane, over SSH. It needs no connection to a cluster: " +
			"put it on a provider alias of its own and configure the default provider from its `endpoint`, `ca_certificate` " +
			"and `token`; the same apply then creates the cluster and everything in it. Destroying it stops the server and " +
			"removes its data dir. Import with the data dir: `terraform import maestro_cluster.c /var/lib/maestro`.",
		Attributes: map[string]schema.Attribute{
			"id":        computedString("The data dir (local), or `ssh:` and the hosts (ssh)."),
			"endpoints": clusterEndpointsAttribute(),
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "API server URL, for the provider's `endpoint`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"ca_certificate": schema.StringAttribute{
				MarkdownDescription: "PEM of the cluster CA, for the provider's `ca_certificate`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "Admin token, for the provider's `token`. Stored in state (sensitive): protect the state.",
				Computed:            true,
				Sensitive:           true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
		Blocks: map[string]schema.Block{
			"local": schema.SingleNestedBlock{
				MarkdownDescription: "Run the control plane on this machine.",
				Attributes: map[string]schema.Attribute{
					"data_dir": schema.StringAttribute{
						MarkdownDescription: "Absolute path of the server's data dir (state, certificates, admin token, log). Destroy removes it. Changing it replaces the cluster.",
						Optional:            true, // required inside the block: see ValidateConfig
						Validators:          []validator.String{absPathValidator{}},
						PlanModifiers:       replace,
					},
					"listen": schema.StringAttribute{
						MarkdownDescription: "Address the API listens on, `host:port`. Port 0 (the default, `" + defaultClusterListen + "`) picks a free port at create, which the server then keeps.",
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(defaultClusterListen),
						PlanModifiers:       replace,
					},
					"advertise_address": schema.StringAttribute{
						MarkdownDescription: "Host in the endpoint that clients and nodes use (default: the listen host).",
						Optional:            true,
						PlanModifiers:       replace,
					},
					"binary": schema.StringAttribute{
						MarkdownDescription: "Path of the `maestro` binary. Default: `maestro` beside the provider's executable, then in `$PATH`. Changing it restarts the server with the new binary (same data).",
						Optional:            true,
						Computed:            true,
						PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
					},
					"server_args": schema.ListAttribute{
						MarkdownDescription: "More `maestro server` flags, e.g. `[\"--service-cidr=10.200.0.0/24\", \"--local-machine-network\"]` (see `maestro server --help`). Changing them restarts the server (same data).",
						ElementType:         types.StringType,
						Optional:            true,
					},
				},
			},
			"ssh":      clusterSSHBlock(),
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *ClusterResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m ClusterResourceModel
	if !readConfig(ctx, req.Config, &m, &resp.Diagnostics) {
		return
	}
	validateCluster(ctx, &m, &resp.Diagnostics)
}

// validateCluster checks what the schema cannot: exactly one variant, its
// required settings, and the ssh variant's shape.
func validateCluster(ctx context.Context, m *ClusterResourceModel, diags *diag.Diagnostics) {
	switch {
	case m.Local == nil && m.SSH == nil:
		diags.AddError("Missing cluster location", "Add a `local { data_dir = ... }` block or an `ssh { hosts = [...] }` block saying where the control plane runs.")
		return
	case m.Local != nil && m.SSH != nil:
		diags.AddAttributeError(path.Root("ssh"), "Conflicting cluster locations", "Set either `local` or `ssh`, not both.")
		return
	}
	if l := m.Local; l != nil {
		if l.DataDir.IsNull() {
			diags.AddAttributeError(path.Root("local").AtName("data_dir"), "Missing data_dir",
				"A local cluster keeps its state in a data dir of its own: set data_dir to an absolute path (e.g. \"${abspath(path.root)}/.maestro-cluster\").")
		}
		if s := l.Listen.ValueString(); !l.Listen.IsUnknown() && s != "" && !strings.Contains(s, ":") {
			diags.AddAttributeError(path.Root("local").AtName("listen"), "Invalid listen address",
				fmt.Sprintf("%q: want host:port, e.g. 127.0.0.1:0 (port 0 picks a free port).", s))
		}
		return
	}
	validateClusterSSH(ctx, m.SSH, diags)
}

// clusterTimeout reads the timeouts block for op.
func clusterTimeout(ctx context.Context, m *ClusterResourceModel, op string, diags *diag.Diagnostics) time.Duration {
	var d diag.Diagnostics
	var t time.Duration
	switch op {
	case "create":
		t, d = m.Timeouts.Create(ctx, clusterCreateTimeout)
	case "update":
		t, d = m.Timeouts.Update(ctx, clusterCreateTimeout)
	default:
		t, d = m.Timeouts.Delete(ctx, clusterDeleteTimeout)
	}
	diags.Append(d...)
	return t
}

func (r *ClusterResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan ClusterResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout(ctx, &plan, "create", &resp.Diagnostics))
	defer cancel()
	if plan.SSH != nil {
		r.createSSH(ctx, &plan, &resp.Diagnostics)
		if !plan.ID.IsUnknown() {
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		}
		return
	}
	r.start(ctx, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// start runs the local server of m and writes its outputs into m.
func (r *ClusterResource) start(ctx context.Context, m *ClusterResourceModel, diags *diag.Diagnostics) {
	l := m.Local
	dataDir := l.DataDir.ValueString()
	bin, err := localserver.ResolveBinary(l.Binary.ValueString(), os.Executable, localserver.LookPath)
	if err != nil {
		diags.AddAttributeError(path.Root("local").AtName("binary"), "Cannot find the maestro binary", err.Error())
		return
	}
	listen, err := localserver.ChooseListen(dataDir, l.Listen.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("local").AtName("listen"), "Invalid listen address", err.Error())
		return
	}
	_, cfg, err := localserver.Start(ctx, localserver.Spec{DataDir: dataDir, Listen: listen, RequestedListen: l.Listen.ValueString(),
		AdvertiseAddress: l.AdvertiseAddress.ValueString(), Binary: bin, Args: stringList(ctx, l.ServerArgs, diags)})
	if err != nil {
		diags.AddError("Cannot start the maestro server in "+dataDir, err.Error())
		return
	}
	l.Binary = types.StringValue(bin)
	setClusterOutputs(m, dataDir, cfg)
}

func setClusterOutputs(m *ClusterResourceModel, dataDir string, cfg client.Config) {
	m.ID = types.StringValue(dataDir)
	m.Endpoint = types.StringValue(cfg.Server)
	m.CACertificate = types.StringValue(cfg.CertificateAuthorityData)
	m.Token = types.StringValue(cfg.Token)
	m.Endpoints = types.ListValueMust(types.StringType, []attr.Value{types.StringValue(cfg.Server)})
}

// Read removes the cluster from state when its server no longer runs (or
// its data dir is gone): the next plan creates it again.
func (r *ClusterResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state ClusterResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.SSH != nil {
		r.readSSH(ctx, &state, resp)
		return
	}
	dataDir := state.Local.DataDir.ValueString()
	st, err := localserver.Check(ctx, dataDir)
	if err != nil || !st.Running {
		resp.State.RemoveResource(ctx)
		return
	}
	if st.ReadyErr != nil {
		resp.Diagnostics.AddWarning("The maestro server in "+dataDir+" is not ready",
			fmt.Sprintf("Its supervisor (pid %d) runs, but the server does not answer yet: %v. Its log is %s.",
				st.Record.PID, st.ReadyErr, filepath.Join(dataDir, localserver.LogFile)))
	}
	if st.Config.Server != "" {
		setClusterOutputs(&state, dataDir, st.Config)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update restarts the server with the new binary or flags, keeping its
// data.
func (r *ClusterResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state ClusterResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.SSH != nil { // only how the hosts are reached changed: everything else replaces
		plan.ID, plan.Endpoint, plan.Endpoints, plan.CACertificate, plan.Token = state.ID, state.Endpoint, state.Endpoints, state.CACertificate, state.Token
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, clusterTimeout(ctx, &plan, "update", &resp.Diagnostics))
	defer cancel()
	if !plan.Local.Binary.Equal(state.Local.Binary) || !plan.Local.ServerArgs.Equal(state.Local.ServerArgs) {
		if err := localserver.Shutdown(plan.Local.DataDir.ValueString(), clusterDeleteTimeout); err != nil {
			resp.Diagnostics.AddError("Cannot stop the maestro server to restart it", err.Error())
			return
		}
		r.start(ctx, &plan, &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
	} else {
		plan.ID, plan.Endpoint, plan.CACertificate, plan.Token = state.ID, state.Endpoint, state.CACertificate, state.Token
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *ClusterResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state ClusterResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout := clusterTimeout(ctx, &state, "delete", &resp.Diagnostics)
	if state.SSH != nil {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		r.deleteSSH(ctx, &state, &resp.Diagnostics)
		return
	}
	if err := localserver.Stop(state.Local.DataDir.ValueString(), timeout); err != nil {
		resp.Diagnostics.AddError("Cannot stop the maestro server in "+state.Local.DataDir.ValueString(), err.Error())
	}
}

// ImportState adopts a running local server by its data dir.
func (r *ClusterResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	dataDir := req.ID
	if !filepath.IsAbs(dataDir) {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("%q: import a local cluster by the absolute path of its data dir, e.g. terraform import maestro_cluster.c /var/lib/maestro.", dataDir))
		return
	}
	st, err := localserver.Check(ctx, dataDir)
	if err == nil && !st.Running {
		err = fmt.Errorf("%w: its supervisor (pid %d) is gone", localserver.ErrNotRunning, st.Record.PID)
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot import the cluster in "+dataDir, err.Error())
		return
	}
	if st.ReadyErr != nil {
		resp.Diagnostics.AddError("Cannot import the cluster in "+dataDir, "its server does not answer: "+st.ReadyErr.Error())
		return
	}
	listen := st.Record.RequestedListen
	if listen == "" {
		listen = st.Record.Listen
	}
	m := ClusterResourceModel{
		Local: &clusterLocalModel{DataDir: types.StringValue(dataDir), Listen: types.StringValue(listen),
			AdvertiseAddress: types.StringNull(), Binary: types.StringValue(st.Record.Binary)},
		Timeouts: nullTimeouts(),
	}
	if st.Record.AdvertiseAddress != "" {
		m.Local.AdvertiseAddress = types.StringValue(st.Record.AdvertiseAddress)
	}
	m.Local.ServerArgs = listOrNull(ctx, st.Record.Args, &resp.Diagnostics)
	setClusterOutputs(&m, dataDir, st.Config)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
