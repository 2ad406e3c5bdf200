package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/maestro-dev/maestro/engine/cloud"
	"github.com/maestro-dev/maestro/internal/localserver"
	"github.com/maestro-dev/maestro/internal/remoteserver"
)

var _ resource.ResourceWithModifyPlan = (*ClusterResource)(nil)

type clusterSSHModel struct {
	Hosts                 types.List   `tfsdk:"hosts"`
	User                  types.String `tfsdk:"user"`
	Port                  types.Int64  `tfsdk:"port"`
	PrivateKey            types.String `tfsdk:"private_key"`
	PrivateKeyFile        types.String `tfsdk:"private_key_file"`
	HostKeys              types.List   `tfsdk:"host_keys"`
	InsecureIgnoreHostKey types.Bool   `tfsdk:"insecure_ignore_host_key"`
	InstallDir            types.String `tfsdk:"install_dir"`
	APIPort               types.Int64  `tfsdk:"api_port"`
	Binary                types.String `tfsdk:"binary"`
}

// clusterSSHBlock is the schema of the ssh variant.
func clusterSSHBlock() schema.SingleNestedBlock {
	replaceS := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	return schema.SingleNestedBlock{
		MarkdownDescription: "Install the control plane over SSH: `maestro server` with its embedded etcd on one host, or on three hosts " +
			"an HA control plane (the hosts' etcd as a three-member cluster with TLS among members, and a `maestro server` on each with " +
			"one shared cluster CA and encryption key). Each host gets `<install_dir>/<host>/` (binary, data, logs) and a systemd unit " +
			"where systemd runs and the user is root, else a process under `maestro supervise`. Destroy stops and removes all of it. " +
			"An apply on hosts that already run this control plane adopts it.",
		Attributes: map[string]schema.Attribute{
			"hosts": schema.ListAttribute{
				MarkdownDescription: "One host, or three (HA): names or addresses, with `:port` when the SSH port is not `port`. The first is the `endpoint`. Changing them replaces the cluster.",
				ElementType:         types.StringType, Optional: true,
				PlanModifiers: []planmodifier.List{listplanmodifier.RequiresReplace()},
			},
			"user": schema.StringAttribute{MarkdownDescription: "SSH user (default `root`; others get no systemd unit and need write access to `install_dir`).",
				Optional: true, Computed: true, Default: stringdefault.StaticString("root")},
			"port": schema.Int64Attribute{MarkdownDescription: "SSH port (default 22).", Optional: true, Computed: true,
				Default: int64default.StaticInt64(22), Validators: []validator.Int64{int64RangeValidator{1, 65535}}},
			"private_key": schema.StringAttribute{
				MarkdownDescription: "PEM private key the hosts accept (not passphrase-protected). Sensitive: kept in state, which destroy needs to reach the hosts again; use `private_key_file` to keep it out of state.",
				Optional:            true, Sensitive: true,
			},
			"private_key_file": schema.StringAttribute{
				MarkdownDescription: "Path of the PEM private key on the machine running Terraform, read on every apply, refresh and destroy: the key never enters plan or state. Set this or `private_key`.",
				Optional:            true,
			},
			"host_keys": schema.ListAttribute{MarkdownDescription: "The hosts' public keys, pinned: `authorized_keys` lines (any host may present them) or `known_hosts` lines (`ssh-keyscan` prints them).",
				ElementType: types.StringType, Optional: true},
			"insecure_ignore_host_key": schema.BoolAttribute{MarkdownDescription: "Accept any host key (only on a network you trust).", Optional: true},
			"install_dir": schema.StringAttribute{
				MarkdownDescription: "Directory on the hosts holding a directory per host (default `" + remoteserver.DefaultInstallDir + "`). Changing it replaces the cluster.",
				Optional:            true, Computed: true, Default: stringdefault.StaticString(remoteserver.DefaultInstallDir),
				Validators: []validator.String{absPathValidator{}}, PlanModifiers: replaceS,
			},
			"api_port": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Port the API servers listen on (default %d). Changing it replaces the cluster.", remoteserver.DefaultAPIPort),
				Optional:            true, Computed: true, Default: int64default.StaticInt64(remoteserver.DefaultAPIPort),
				Validators: []validator.Int64{int64RangeValidator{1, 65535}}, PlanModifiers: []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"binary": schema.StringAttribute{
				MarkdownDescription: "Local path of the `maestro` binary to install (a Linux build for the hosts' architecture). Default: `maestro` beside the provider's executable, then in `$PATH`. Changing it replaces the cluster.",
				Optional:            true, PlanModifiers: replaceS,
			},
		},
	}
}

// clusterEndpointsAttribute is the endpoints output.
func clusterEndpointsAttribute() schema.ListAttribute {
	return schema.ListAttribute{
		MarkdownDescription: "Every API server's URL (three for an HA `ssh` cluster; `endpoint` is the first). Each serves the same cluster with the same CA and token.",
		ElementType:         types.StringType,
		Computed:            true,
		PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
	}
}

func validateClusterSSH(_ context.Context, s *clusterSSHModel, diags *diag.Diagnostics) {
	at := path.Root("ssh")
	if s.Hosts.IsNull() {
		diags.AddAttributeError(at.AtName("hosts"), "Missing hosts", "Give one host, or three for an HA control plane.")
	} else if !s.Hosts.IsUnknown() {
		if n := len(s.Hosts.Elements()); n != 1 && n != 3 {
			diags.AddAttributeError(at.AtName("hosts"), "Wrong number of control plane hosts",
				fmt.Sprintf("%d hosts: give one host, or three for an HA control plane (an etcd cluster needs an odd number, and two is no more available than one).", n))
		}
	}
	if !s.HostKeys.IsUnknown() && len(s.HostKeys.Elements()) == 0 && !s.InsecureIgnoreHostKey.ValueBool() {
		diags.AddAttributeError(at.AtName("host_keys"), "Missing host keys",
			"Pin the hosts' keys in host_keys (ssh-keyscan prints them), or set insecure_ignore_host_key = true to accept any key.")
	}
	if s.PrivateKey.IsNull() == s.PrivateKeyFile.IsNull() {
		diags.AddAttributeError(at.AtName("private_key"), "Set one private key",
			"Set either private_key (the PEM, kept in state) or private_key_file (its path: the key stays out of state), not both and not neither.")
	}
}

// sshSpec is the remoteserver.Spec of m. withKey reads the private key
// (not needed to describe a plan).
func sshSpec(ctx context.Context, m *clusterSSHModel, withKey bool, diags *diag.Diagnostics) (remoteserver.Spec, bool) {
	at := path.Root("ssh")
	bin, err := localserver.ResolveBinary(m.Binary.ValueString(), os.Executable, localserver.LookPath)
	if err != nil {
		diags.AddAttributeError(at.AtName("binary"), "Cannot find the maestro binary", err.Error())
		return remoteserver.Spec{}, false
	}
	s := remoteserver.Spec{
		Hosts: stringList(ctx, m.Hosts, diags), User: m.User.ValueString(), Port: int(m.Port.ValueInt64()),
		HostKeys: stringList(ctx, m.HostKeys, diags), InsecureIgnoreHostKey: m.InsecureIgnoreHostKey.ValueBool(),
		InstallDir: m.InstallDir.ValueString(), APIPort: int(m.APIPort.ValueInt64()), Binary: bin,
		Logger: slog.New(tflogHandler{ctx: ctx}),
	}
	if withKey {
		key := m.PrivateKey.ValueString()
		if f := m.PrivateKeyFile.ValueString(); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				diags.AddAttributeError(at.AtName("private_key_file"), "Cannot read the private key file", err.Error())
				return s, false
			}
			key = string(b)
		}
		s.PrivateKey = cloud.Secret(key)
	}
	return s, !diags.HasError()
}

// ModifyPlan says, as a plan warning, what creating or destroying an ssh
// cluster does on its hosts.
func (r *ClusterResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		var state ClusterResourceModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if state.SSH != nil {
			hosts := stringList(ctx, state.SSH.Hosts, &resp.Diagnostics)
			resp.Diagnostics.AddWarning("maestro_cluster: the control plane on "+strings.Join(hosts, ", ")+" will be removed",
				"Destroy stops its servers (and etcd) and removes "+state.SSH.InstallDir.ValueString()+"/<host> from each host: the cluster's data goes with it.")
		}
		return
	}
	if !req.State.Raw.IsNull() || !req.Config.Raw.IsFullyKnown() {
		return
	}
	var plan ClusterResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.SSH == nil {
		return
	}
	s, ok := sshSpec(ctx, plan.SSH, false, &resp.Diagnostics)
	if !ok {
		return
	}
	lines, err := remoteserver.Describe(s)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("ssh"), "Invalid ssh control plane", err.Error())
		return
	}
	resp.Diagnostics.AddWarning("maestro_cluster: a control plane will be installed over SSH", strings.Join(lines, ";\n"))
}

func (r *ClusterResource) installer(ctx context.Context, m *ClusterResourceModel, diags *diag.Diagnostics) *remoteserver.Installer {
	s, ok := sshSpec(ctx, m.SSH, true, diags)
	if !ok {
		return nil
	}
	in, err := remoteserver.New(s)
	if err != nil {
		diags.AddAttributeError(path.Root("ssh"), "Invalid ssh control plane", err.Error())
		return nil
	}
	return in
}

// createSSH installs (or adopts) the control plane and sets m's outputs.
// An install that failed after writing to the hosts still sets the id, so
// the resource is in state (tainted) and destroy, or the next apply,
// removes what was left; one that wrote nothing leaves no state.
func (r *ClusterResource) createSSH(ctx context.Context, m *ClusterResourceModel, diags *diag.Diagnostics) {
	in := r.installer(ctx, m, diags)
	if in == nil {
		return
	}
	res, err := in.Create(ctx)
	if errors.Is(err, remoteserver.ErrNothingInstalled) {
		diags.AddError("Cannot install the control plane over SSH", err.Error())
		return
	}
	m.ID = types.StringValue("ssh:" + strings.Join(stringList(ctx, m.SSH.Hosts, diags), ","))
	if err != nil {
		diags.AddError("Cannot install the control plane over SSH", err.Error())
		res = remoteserver.Result{}
	}
	setSSHOutputs(ctx, m, res, diags)
}

func setSSHOutputs(ctx context.Context, m *ClusterResourceModel, res remoteserver.Result, diags *diag.Diagnostics) {
	m.Endpoint = types.StringValue(res.Endpoint)
	m.CACertificate = types.StringValue(res.CACertificate)
	m.Token = types.StringValue(res.Token)
	m.Endpoints = listOrNull(ctx, res.Endpoints, diags)
}

// readSSH removes the cluster from state when no host holds it any more,
// and refreshes the outputs when every host's server runs.
func (r *ClusterResource) readSSH(ctx context.Context, m *ClusterResourceModel, resp *resource.ReadResponse) {
	in := r.installer(ctx, m, &resp.Diagnostics)
	if in == nil {
		return
	}
	st := in.Status(ctx)
	if err := st.Unreachable(); err != nil {
		resp.Diagnostics.AddWarning("Some control plane hosts did not answer", err.Error())
	} else if !st.Installed() {
		resp.State.RemoveResource(ctx)
		return
	}
	for _, h := range st.Hosts {
		if h.Err == nil && h.Server != "running" {
			resp.Diagnostics.AddWarning("maestro server is not running on "+h.Host, "Its state is "+h.Server+"; an apply after `terraform taint` reinstalls it, keeping the data of the other hosts.")
		}
	}
	if len(st.Result.Endpoints) == len(st.Hosts) {
		setSSHOutputs(ctx, m, st.Result, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// deleteSSH stops and removes the control plane from every host.
func (r *ClusterResource) deleteSSH(ctx context.Context, m *ClusterResourceModel, diags *diag.Diagnostics) {
	in := r.installer(ctx, m, diags)
	if in == nil {
		return
	}
	if err := in.Delete(ctx); err != nil {
		diags.AddError("Cannot remove the control plane from its hosts", err.Error())
	}
}

// tflogHandler sends the installer's log lines to Terraform's log.
type tflogHandler struct {
	ctx   context.Context
	attrs []slog.Attr
}

func (h tflogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h tflogHandler) Handle(_ context.Context, r slog.Record) error {
	fields := map[string]any{}
	for _, a := range h.attrs {
		fields[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool { fields[a.Key] = a.Value.String(); return true })
	switch {
	case r.Level >= slog.LevelWarn:
		tflog.Warn(h.ctx, r.Message, fields)
	case r.Level >= slog.LevelInfo:
		tflog.Info(h.ctx, r.Message, fields)
	default:
		tflog.Debug(h.ctx, r.Message, fields)
	}
	return nil
}

func (h tflogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return tflogHandler{ctx: h.ctx, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...)}
}

func (h tflogHandler) WithGroup(string) slog.Handler { return h }
