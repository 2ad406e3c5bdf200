package provider

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/client"
)

// Environment variables read when the provider block leaves a setting out.
const (
	EnvEndpoint      = "MAESTRO_ENDPOINT"
	EnvToken         = "MAESTRO_TOKEN"
	EnvCACertificate = "MAESTRO_CA_CERTIFICATE"
	EnvConfig        = client.ConfigEnv // MAESTRO_CONFIG
)

var _ provider.Provider = (*MaestroProvider)(nil)

// New returns a constructor of the provider for providerserver.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &MaestroProvider{version: version} }
}

// MaestroProvider is the provider implementation.
type MaestroProvider struct {
	version string
	// handle is what Configure made, for the protocol server's fast
	// paths (see Server); resources get it through the framework.
	handle atomic.Pointer[clientHandle]
}

// MaestroProviderModel is the provider block.
type MaestroProviderModel struct {
	Endpoint      types.String `tfsdk:"endpoint"`
	Token         types.String `tfsdk:"token"`
	CACertificate types.String `tfsdk:"ca_certificate"`
	ConfigPath    types.String `tfsdk:"config_path"`
}

func (p *MaestroProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "maestro"
	resp.Version = p.version
}

func (p *MaestroProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manages objects of a maestro cluster through its API server.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "API server URL, e.g. `https://127.0.0.1:6443`. Defaults to `$" + EnvEndpoint + "`, then to the `server` of the client config file.",
				Optional:            true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "Bearer token. Defaults to `$" + EnvToken + "`, then to the `token` of the client config file.",
				Optional:            true,
				Sensitive:           true,
			},
			"ca_certificate": schema.StringAttribute{
				MarkdownDescription: "PEM of the cluster CA. Defaults to `$" + EnvCACertificate + "`, then to the CA of the client config file.",
				Optional:            true,
			},
			"config_path": schema.StringAttribute{
				MarkdownDescription: "Path of the client config file written by `maestro server` or `maestro up`. Defaults to `$" + EnvConfig + "`. No file is read when neither is set.",
				Optional:            true,
			},
		},
	}
}

// Configure resolves the connection settings. It never fails on missing or
// unknown settings: the provider may be configured with values known only
// after apply, so the problem is reported by the first resource that needs
// a client (see clientHandle).
func (p *MaestroProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var data MaestroProviderModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &data)...)
	if resp.Diagnostics.HasError() {
		return
	}
	h := buildClient(data, os.Getenv, "terraform-provider-maestro/"+p.version)
	h.version = p.version
	p.handle.Store(h)
	resp.ResourceData = h
	resp.DataSourceData = h
}

func (p *MaestroProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewNamespaceResource,
		NewConfigMapResource,
		NewDeploymentResource,
		NewPodResource,
		NewServiceResource,
		NewSecretResource,
		NewVolumeResource,
		NewClusterResource,
		NewNodePoolResource,
		NewAutoscalerResource,
	}
}

func (p *MaestroProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewNamespaceDataSource,
		NewServiceDataSource,
		NewNodesDataSource,
	}
}

// clientHandle is what Configure hands to resources: a client, or the
// diagnostics that say why there is none.
type clientHandle struct {
	client *client.Client
	diags  diag.Diagnostics
	// unknown: some setting is known only after apply (the cluster the
	// provider reaches is being created, e.g. by maestro_cluster).
	unknown bool
	// version is the provider's, recorded with what a refresh may skip
	// (refreshMark).
	version string
}

// settingsUnknown reports whether the provider's settings are not known
// yet (plan of a configuration whose cluster is still to be made).
func (h *clientHandle) settingsUnknown() bool { return h != nil && h.unknown }

// Client returns the API client, or an error diagnostic at the point of use.
func (h *clientHandle) Client() (*client.Client, diag.Diagnostics) {
	if h == nil {
		var d diag.Diagnostics
		d.AddError("Provider not configured",
			"The maestro provider was not configured before a resource used it. This is a bug in the provider; please report it.")
		return nil, d
	}
	if h.client == nil {
		return nil, h.diags
	}
	return h.client, nil
}

// buildClient merges the provider block, the environment and the client
// config file (in that order of precedence) into a client.
func buildClient(data MaestroProviderModel, getenv func(string) string, userAgent string) *clientHandle {
	h := &clientHandle{}
	for name, v := range map[string]types.String{
		"endpoint": data.Endpoint, "token": data.Token,
		"ca_certificate": data.CACertificate, "config_path": data.ConfigPath,
	} {
		if v.IsUnknown() {
			h.unknown = true
			h.diags.AddAttributeError(pathRoot(name), "Unknown maestro provider setting",
				fmt.Sprintf("The provider setting %q depends on a value that is known only after apply, so the provider cannot reach the API server yet. "+
					"Set it to a value known at plan time, or apply the resources it depends on first with -target.", name))
		}
	}
	if h.diags.HasError() {
		return h
	}
	pick := func(v types.String, env string) string {
		if s := v.ValueString(); s != "" {
			return s
		}
		return getenv(env)
	}
	var cfg client.Config
	if path := pick(data.ConfigPath, EnvConfig); path != "" {
		loaded, err := client.LoadConfig(path)
		if err != nil {
			h.diags.AddAttributeError(pathRoot("config_path"), "Cannot load the maestro client config",
				fmt.Sprintf("%v. Check config_path (or $%s), or set endpoint, token and ca_certificate instead.", err, EnvConfig))
			return h
		}
		cfg = loaded
	}
	if s := pick(data.Endpoint, EnvEndpoint); s != "" {
		cfg.Server = s
	}
	if s := pick(data.Token, EnvToken); s != "" {
		cfg.Token = s
	}
	if s := pick(data.CACertificate, EnvCACertificate); s != "" {
		cfg.CertificateAuthorityData = s
		cfg.CertificateAuthority = ""
	}
	if cfg.Server == "" {
		h.diags.AddAttributeError(pathRoot("endpoint"), "Missing maestro API endpoint",
			fmt.Sprintf("The provider does not know which API server to talk to. Set endpoint in the provider block, $%s, or config_path (or $%s) to the client config written by `maestro server` or `maestro up`.", EnvEndpoint, EnvConfig))
	}
	if cfg.Token == "" {
		h.diags.AddAttributeError(pathRoot("token"), "Missing maestro API token",
			fmt.Sprintf("Set token in the provider block, $%s, or config_path (or $%s). Create one with `maestro token create`.", EnvToken, EnvConfig))
	}
	if h.diags.HasError() {
		return h
	}
	c, err := client.New(cfg, client.WithUserAgent(userAgent))
	if err != nil {
		h.diags.AddError("Invalid maestro provider configuration",
			fmt.Sprintf("Building the API client failed: %v. Check endpoint (an https:// URL) and ca_certificate (a PEM certificate).", err))
		return h
	}
	h.client = c
	return h
}

// clientFromProviderData is the shared Configure body of every resource.
func clientFromProviderData(providerData any, diags *diag.Diagnostics) *clientHandle {
	if providerData == nil { // the provider is not configured yet (validation)
		return nil
	}
	h, ok := providerData.(*clientHandle)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *clientHandle, got %T. This is a bug in the provider; please report it.", providerData))
		return nil
	}
	return h
}
