package provider

import (
	"context"
	"fmt"
	"maps"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
)

// The aws {} and gcp {} blocks of maestro_node_pool: their schema, model,
// conversions, plan-time checks and the secrets holding their write-only
// credentials.

type poolAWSModel struct {
	Region             types.String `tfsdk:"region"`
	AMI                types.String `tfsdk:"ami"`
	InstanceType       types.String `tfsdk:"instance_type"`
	Zones              types.List   `tfsdk:"zones"`
	Spot               types.Bool   `tfsdk:"spot"`
	SubnetIDs          types.List   `tfsdk:"subnet_ids"`
	SecurityGroupIDs   types.List   `tfsdk:"security_group_ids"`
	InstanceProfile    types.String `tfsdk:"instance_profile"`
	KeyName            types.String `tfsdk:"key_name"`
	Tags               types.Map    `tfsdk:"tags"`
	Endpoint           types.String `tfsdk:"endpoint"`
	AccessKeyID        types.String `tfsdk:"access_key_id"`
	SecretAccessKey    types.String `tfsdk:"secret_access_key"`
	CredentialsVersion types.Int64  `tfsdk:"credentials_version"`
}

type poolGCPModel struct {
	Project            types.String `tfsdk:"project"`
	Image              types.String `tfsdk:"image"`
	MachineType        types.String `tfsdk:"machine_type"`
	Zones              types.List   `tfsdk:"zones"`
	Spot               types.Bool   `tfsdk:"spot"`
	Network            types.String `tfsdk:"network"`
	Subnetwork         types.String `tfsdk:"subnetwork"`
	ServiceAccount     types.String `tfsdk:"service_account"`
	Labels             types.Map    `tfsdk:"labels"`
	Endpoint           types.String `tfsdk:"endpoint"`
	CredentialsJSON    types.String `tfsdk:"credentials_json"`
	CredentialsVersion types.Int64  `tfsdk:"credentials_version"`
}

// Secrets (in maestro-system) holding a cloud pool's credentials, and
// their keys (those the clouds read: api.AWSPoolConfig,
// api.GCPPoolConfig).
const (
	poolAWSAccessKeyIDKey     = "accessKeyID"
	poolAWSSecretAccessKeyKey = "secretAccessKey"
	poolGCPCredentialsKey     = "credentials.json"
)

func poolAWSSecretName(pool string) string { return poolPrivateKeySecretPrefix + pool + "-aws" }
func poolGCPSecretName(pool string) string { return poolPrivateKeySecretPrefix + pool + "-gcp" }

func templateString(desc string) schema.StringAttribute {
	return schema.StringAttribute{MarkdownDescription: desc + " Part of the template.", Optional: true}
}

func templateList(desc string) schema.ListAttribute {
	return schema.ListAttribute{MarkdownDescription: desc + " Part of the template.", ElementType: types.StringType, Optional: true}
}

// aliasAttributes are a cloud block's names for the pool's machine_type,
// zones and spot.
func aliasAttributes(machineType, typeAttr string) map[string]schema.Attribute {
	return map[string]schema.Attribute{
		typeAttr: templateString(machineType + " Same as the pool's `machine_type`: set one of them."),
		"zones": templateList("Zones the machines are spread over; when one has no capacity, the next is tried. " +
			"Same as the pool's `zones`: set one of them."),
		"spot": schema.BoolAttribute{MarkdownDescription: "Spot capacity: cheaper, and reclaimed by the cloud at short notice " +
			"(the machine's node is drained and the machine replaced). Same as the pool's `spot`: set one of them. Part of the template.", Optional: true},
	}
}

func credentialsVersion(what string) schema.Int64Attribute {
	return schema.Int64Attribute{MarkdownDescription: "Change this number to send the current " + what + " again (rotation, or to stop sending them: " +
		"without them the server's default credentials are used).", Optional: true}
}

// poolAWSBlock is the aws {} block. Its region and ami (gcp {}: project
// and image) are Optional in the schema and required by
// validatePoolCloud: the framework requires a Required attribute of a
// single nested block even where the block is absent.
func poolAWSBlock() schema.SingleNestedBlock {
	attrs := aliasAttributes("EC2 instance type (`t3.medium`).", "instance_type")
	maps.Copy(attrs, map[string]schema.Attribute{
		"region":             schema.StringAttribute{MarkdownDescription: "AWS region (`us-east-1`). Required in the block. Part of the template.", Optional: true},
		"ami":                schema.StringAttribute{MarkdownDescription: "AMI the instances boot (a Linux with systemd and curl; its user data runs at first boot). Required in the block. Part of the template.", Optional: true},
		"subnet_ids":         templateList("Subnets to launch into, one per zone at most (the subnet's zone is the machine's); empty: the default VPC."),
		"security_group_ids": templateList("Security groups of the instances: they must let the instances reach the API server and each other (see the multi-cloud guide)."),
		"instance_profile":   templateString("IAM instance profile (name or ARN) the instances run as (needs iam:PassRole)."),
		"key_name":           templateString("EC2 key pair for SSH access to the instances (maestro does not need one)."),
		"tags":               schema.MapAttribute{MarkdownDescription: "Tags of the instances, besides maestro's own (cluster, pool, machine). Part of the template.", ElementType: types.StringType, Optional: true},
		"endpoint":           templateString("EC2 endpoint to use instead of the region's (a VPC endpoint, or a test server)."),
		"access_key_id": schema.StringAttribute{
			MarkdownDescription: "Access key id. Write-only (Terraform 1.11 or later), with `secret_access_key`: both go into the secret " +
				"`maestro-system/nodepool-<name>-aws` (keys `accessKeyID`, `secretAccessKey`), which the pool names; they are sent on create and whenever " +
				"`credentials_version` changes. Without them the API server's default AWS credential chain is used (environment, shared files, instance role).",
			Optional: true, Sensitive: true, WriteOnly: true,
		},
		"secret_access_key":   schema.StringAttribute{MarkdownDescription: "Secret access key, with `access_key_id`. Write-only.", Optional: true, Sensitive: true, WriteOnly: true},
		"credentials_version": credentialsVersion("`access_key_id` and `secret_access_key`"),
	})
	return schema.SingleNestedBlock{
		MarkdownDescription: "EC2 instances, which boot with user data that fetches the agent from the API server and joins the cluster with a single-use token.",
		Attributes:          attrs,
	}
}

func poolGCPBlock() schema.SingleNestedBlock {
	attrs := aliasAttributes("Compute Engine machine type (`e2-medium`).", "machine_type")
	maps.Copy(attrs, map[string]schema.Attribute{
		"project":         schema.StringAttribute{MarkdownDescription: "Google Cloud project id. Required in the block. Part of the template.", Optional: true},
		"image":           schema.StringAttribute{MarkdownDescription: "Boot image (`projects/debian-cloud/global/images/family/debian-12`; a Linux with systemd and curl, which runs its startup-script). Required in the block. Part of the template.", Optional: true},
		"network":         templateString("VPC network (default: `default`)."),
		"subnetwork":      templateString("Subnetwork of the network, in the zones' region."),
		"service_account": templateString("Email of the service account the instances run as (needs iam.serviceAccounts.actAs)."),
		"labels":          schema.MapAttribute{MarkdownDescription: "Labels of the instances (GCE labels, not the nodes'), besides maestro's own. Part of the template.", ElementType: types.StringType, Optional: true},
		"endpoint":        templateString("Compute Engine endpoint to use instead of compute.googleapis.com (Private Service Connect, or a test server)."),
		"credentials_json": schema.StringAttribute{
			MarkdownDescription: "A service account key (JSON). Write-only (Terraform 1.11 or later): it goes into the secret `maestro-system/nodepool-<name>-gcp` " +
				"(key `credentials.json`), which the pool names; it is sent on create and whenever `credentials_version` changes. Without it the API server's " +
				"Application Default Credentials are used.",
			Optional: true, Sensitive: true, WriteOnly: true,
		},
		"credentials_version": credentialsVersion("`credentials_json`"),
	})
	return schema.SingleNestedBlock{
		MarkdownDescription: "Compute Engine instances, which boot with a startup-script that fetches the agent from the API server and joins the cluster with a single-use token.",
		Attributes:          attrs,
	}
}

// firstSet is the block's alias when set, else the pool's attribute.
func firstSet[V interface{ IsNull() bool }](alias, top V) V {
	if !alias.IsNull() {
		return alias
	}
	return top
}

// poolMachineShape is the machine type, zones and spot a model asks for,
// whether given at the pool's level or in its cloud block.
func poolMachineShape(m *NodePoolResourceModel) (machineType types.String, zones types.List, spot types.Bool) {
	machineType, zones, spot = m.MachineType, m.Zones, m.Spot
	switch {
	case m.AWS != nil:
		return firstSet(m.AWS.InstanceType, machineType), firstSet(m.AWS.Zones, zones), firstSet(m.AWS.Spot, spot)
	case m.GCP != nil:
		return firstSet(m.GCP.MachineType, machineType), firstSet(m.GCP.Zones, zones), firstSet(m.GCP.Spot, spot)
	}
	return machineType, zones, spot
}

// expandPoolAWS is the pool's aws config; ref is the credentials secret it
// names now (kept: the credentials are sent only on create and when their
// version changes).
func expandPoolAWS(ctx context.Context, m *poolAWSModel, ref string, diags *diag.Diagnostics) *api.AWSPoolConfig {
	return &api.AWSPoolConfig{
		Region:               m.Region.ValueString(),
		AMI:                  m.AMI.ValueString(),
		SubnetIDs:            stringList(ctx, m.SubnetIDs, diags),
		SecurityGroupIDs:     stringList(ctx, m.SecurityGroupIDs, diags),
		KeyName:              m.KeyName.ValueString(),
		CredentialsSecretRef: ref,
		InstanceProfile:      m.InstanceProfile.ValueString(),
		Tags:                 stringMap(ctx, m.Tags, diags),
		Endpoint:             m.Endpoint.ValueString(),
	}
}

func expandPoolGCP(ctx context.Context, m *poolGCPModel, ref string, diags *diag.Diagnostics) *api.GCPPoolConfig {
	return &api.GCPPoolConfig{
		Project:              m.Project.ValueString(),
		Image:                m.Image.ValueString(),
		Network:              m.Network.ValueString(),
		Subnetwork:           m.Subnetwork.ValueString(),
		CredentialsSecretRef: ref,
		ServiceAccount:       m.ServiceAccount.ValueString(),
		Labels:               stringMap(ctx, m.Labels, diags),
		Endpoint:             m.Endpoint.ValueString(),
	}
}

// aliasValues places the pool's machine type and zones where the prior
// model had them: in the cloud block (blockSet), at the pool's level, or
// both; at the pool's level when neither (import, drift).
func aliasString(v string, priorTop types.String, blockSet bool) (top, block types.String) {
	top, block = types.StringNull(), types.StringNull()
	if v == "" {
		return top, block
	}
	if blockSet {
		block = types.StringValue(v)
		if !priorTop.IsNull() {
			top = block
		}
		return top, block
	}
	return types.StringValue(v), block
}

func aliasList(ctx context.Context, v []string, priorTop types.List, blockSet bool, diags *diag.Diagnostics) (top, block types.List) {
	top, block = types.ListNull(types.StringType), types.ListNull(types.StringType)
	if len(v) == 0 {
		return top, block
	}
	l := listOrNull(ctx, v, diags)
	if blockSet {
		if !priorTop.IsNull() {
			top = l
		}
		return top, l
	}
	return l, block
}

// aliasSpot is the block's spot: set when the prior block set it. (The
// pool's spot is always the pool's: ModifyPlan plans it so.)
func aliasSpot(v bool, blockSet bool) types.Bool {
	if blockSet {
		return types.BoolValue(v)
	}
	return types.BoolNull()
}

// keepEmpty is v, or the prior's "" when v is empty and the prior said ""
// (`endpoint = ""` stays as written rather than become null).
func keepEmpty(prior types.String, v string) types.String {
	if v == "" && !prior.IsNull() && !prior.IsUnknown() && prior.ValueString() == "" {
		return prior
	}
	return optString(v)
}

// keepEmptyMap is got, or the prior's empty map when got is null.
func keepEmptyMap(prior, got types.Map) types.Map {
	if got.IsNull() && !prior.IsNull() && !prior.IsUnknown() && len(prior.Elements()) == 0 {
		return prior
	}
	return got
}

// flattenPoolCloud writes an aws or gcp pool's block into m (prior: the
// model before flattening). Write-only credentials are always null; their
// version is the prior's.
func flattenPoolCloud(ctx context.Context, s *api.NodePoolSpec, m, prior *NodePoolResourceModel, diags *diag.Diagnostics) {
	m.AWS, m.GCP = nil, nil
	switch s.Provider {
	case api.ProviderAWS:
		c := s.AWS
		if c == nil {
			c = &api.AWSPoolConfig{}
		}
		p := prior.AWS
		if p == nil {
			p = &poolAWSModel{InstanceType: types.StringNull(), Zones: types.ListNull(types.StringType), Spot: types.BoolNull(), CredentialsVersion: types.Int64Null(),
				SubnetIDs: types.ListNull(types.StringType), SecurityGroupIDs: types.ListNull(types.StringType), Tags: types.MapNull(types.StringType),
				InstanceProfile: types.StringNull(), KeyName: types.StringNull(), Endpoint: types.StringNull()}
		}
		a := &poolAWSModel{
			Region: types.StringValue(c.Region), AMI: types.StringValue(c.AMI),
			SubnetIDs: keepEmptyList(ctx, c.SubnetIDs, p.SubnetIDs, diags), SecurityGroupIDs: keepEmptyList(ctx, c.SecurityGroupIDs, p.SecurityGroupIDs, diags),
			InstanceProfile: keepEmpty(p.InstanceProfile, c.InstanceProfile), KeyName: keepEmpty(p.KeyName, c.KeyName), Tags: keepEmptyMap(p.Tags, mapOrNull(ctx, c.Tags, diags)),
			Endpoint: keepEmpty(p.Endpoint, c.Endpoint), AccessKeyID: types.StringNull(), SecretAccessKey: types.StringNull(),
			CredentialsVersion: p.CredentialsVersion, Spot: aliasSpot(s.Spot, !p.Spot.IsNull()),
		}
		m.MachineType, a.InstanceType = aliasString(s.MachineType, prior.MachineType, !p.InstanceType.IsNull())
		m.Zones, a.Zones = aliasList(ctx, s.Zones, prior.Zones, !p.Zones.IsNull(), diags)
		m.AWS = a
	case api.ProviderGCP:
		c := s.GCP
		if c == nil {
			c = &api.GCPPoolConfig{}
		}
		p := prior.GCP
		if p == nil {
			p = &poolGCPModel{MachineType: types.StringNull(), Zones: types.ListNull(types.StringType), Spot: types.BoolNull(), CredentialsVersion: types.Int64Null(),
				Network: types.StringNull(), Subnetwork: types.StringNull(), ServiceAccount: types.StringNull(), Labels: types.MapNull(types.StringType), Endpoint: types.StringNull()}
		}
		g := &poolGCPModel{
			Project: types.StringValue(c.Project), Image: types.StringValue(c.Image),
			Network: keepEmpty(p.Network, c.Network), Subnetwork: keepEmpty(p.Subnetwork, c.Subnetwork), ServiceAccount: keepEmpty(p.ServiceAccount, c.ServiceAccount),
			Labels: keepEmptyMap(p.Labels, mapOrNull(ctx, c.Labels, diags)), Endpoint: keepEmpty(p.Endpoint, c.Endpoint), CredentialsJSON: types.StringNull(),
			CredentialsVersion: p.CredentialsVersion, Spot: aliasSpot(s.Spot, !p.Spot.IsNull()),
		}
		m.MachineType, g.MachineType = aliasString(s.MachineType, prior.MachineType, !p.MachineType.IsNull())
		m.Zones, g.Zones = aliasList(ctx, s.Zones, prior.Zones, !p.Zones.IsNull(), diags)
		m.GCP = g
	}
}

// validatePoolProvider checks that exactly one machine provider block is
// given.
func validatePoolProvider(m *NodePoolResourceModel, diags *diag.Diagnostics) {
	var given []string
	for _, b := range []struct {
		name string
		set  bool
	}{{"local", m.Local != nil}, {"ssh", m.SSH != nil}, {"aws", m.AWS != nil}, {"gcp", m.GCP != nil}} {
		if b.set {
			given = append(given, b.name)
		}
	}
	switch len(given) {
	case 0:
		diags.AddError("Missing machine provider", "Add one block saying where the machines are: `local {}` (the host of the control plane), "+
			"`ssh { hosts = [...] }` (hosts you have), `aws { region = ..., ami = ... }` or `gcp { project = ..., image = ... }`.")
	case 1:
	default:
		diags.AddAttributeError(path.Root(given[1]), "Conflicting machine providers",
			fmt.Sprintf("A pool's machines come from one provider: set one of `local`, `ssh`, `aws` and `gcp`, not %s and %s.", given[0], given[1]))
	}
}

// validatePoolCloud checks an aws or gcp block on known values: the
// aliases against the pool's attributes, and credentials given whole.
func validatePoolCloud(m *NodePoolResourceModel, diags *diag.Diagnostics) {
	conflict := func(block, alias, top string, a, b attr.Value) {
		if a.IsNull() || b.IsNull() || a.IsUnknown() || b.IsUnknown() || a.Equal(b) {
			return
		}
		diags.AddAttributeError(poolPath(block+"."+alias), "Conflicting "+top+" and "+block+"."+alias,
			fmt.Sprintf("%s.%s (%s) and the pool's %s (%s) say the same thing differently: set one of them.", block, alias, a, top, b))
	}
	required := func(at string, v types.String, what string) {
		if !v.IsUnknown() && v.ValueString() == "" {
			diags.AddAttributeError(poolPath(at), "Missing "+at, what)
		}
	}
	if a := m.AWS; a != nil {
		conflict("aws", "instance_type", "machine_type", a.InstanceType, m.MachineType)
		conflict("aws", "zones", "zones", a.Zones, m.Zones)
		conflict("aws", "spot", "spot", a.Spot, m.Spot)
		required("aws.region", a.Region, "An aws pool needs its region (e.g. region = \"us-east-1\").")
		required("aws.ami", a.AMI, "An aws pool needs the AMI its instances boot (e.g. a Debian 12 or Ubuntu 24.04 AMI of the region).")
		if a.AccessKeyID.IsNull() != a.SecretAccessKey.IsNull() {
			missing := "aws.secret_access_key"
			if a.AccessKeyID.IsNull() {
				missing = "aws.access_key_id"
			}
			diags.AddAttributeError(poolPath(missing), "Missing "+missing,
				"Give access_key_id and secret_access_key together, or neither (the API server's default AWS credential chain is then used).")
		}
	}
	if g := m.GCP; g != nil {
		conflict("gcp", "machine_type", "machine_type", g.MachineType, m.MachineType)
		conflict("gcp", "zones", "zones", g.Zones, m.Zones)
		conflict("gcp", "spot", "spot", g.Spot, m.Spot)
		required("gcp.project", g.Project, "A gcp pool needs its project id (e.g. project = \"acme-prod\").")
		required("gcp.image", g.Image, "A gcp pool needs the image its instances boot (e.g. \"projects/debian-cloud/global/images/family/debian-12\").")
	}
}

// planCloudSpot plans the pool's spot as the cloud block's when that sets
// it: the pool's spot is always what the pool asks for.
func planCloudSpot(config, plan *NodePoolResourceModel) {
	switch {
	case config.AWS != nil && !config.AWS.Spot.IsNull():
		plan.Spot = config.AWS.Spot
	case config.GCP != nil && !config.GCP.Spot.IsNull():
		plan.Spot = config.GCP.Spot
	}
}

// sendPoolCredentials writes the cloud credentials of config into their
// secret and points p at it when send (create, or a changed
// credentials_version); without credentials in config, p names none (the
// server's default credentials). Nothing is done when !send: p keeps the
// secret it names. No message carries the credentials.
func sendPoolCredentials(ctx context.Context, c *client.Client, config *NodePoolResourceModel, p *api.NodePool, send bool, diags *diag.Diagnostics) bool {
	if !send {
		return true
	}
	pool := p.Name
	switch {
	case config.AWS != nil && p.Spec.AWS != nil:
		p.Spec.AWS.CredentialsSecretRef = ""
		if a := config.AWS; !a.AccessKeyID.IsNull() {
			name := poolAWSSecretName(pool)
			if !writePoolSecret(ctx, c, pool, name, "AWS credentials", map[string][]byte{
				poolAWSAccessKeyIDKey: []byte(a.AccessKeyID.ValueString()), poolAWSSecretAccessKeyKey: []byte(a.SecretAccessKey.ValueString()),
			}, diags) {
				return false
			}
			p.Spec.AWS.CredentialsSecretRef = name
		}
	case config.GCP != nil && p.Spec.GCP != nil:
		p.Spec.GCP.CredentialsSecretRef = ""
		if g := config.GCP; !g.CredentialsJSON.IsNull() {
			name := poolGCPSecretName(pool)
			if !writePoolSecret(ctx, c, pool, name, "Google Cloud credentials", map[string][]byte{
				poolGCPCredentialsKey: []byte(g.CredentialsJSON.ValueString()),
			}, diags) {
				return false
			}
			p.Spec.GCP.CredentialsSecretRef = name
		}
	}
	return true
}

// cloudCredentialsChanged: the update must send the cloud credentials
// again (the pool comes to this cloud, or their version changed).
func cloudCredentialsChanged(plan, state *NodePoolResourceModel) bool {
	switch {
	case plan.AWS != nil:
		return state.AWS == nil || !plan.AWS.CredentialsVersion.Equal(state.AWS.CredentialsVersion)
	case plan.GCP != nil:
		return state.GCP == nil || !plan.GCP.CredentialsVersion.Equal(state.GCP.CredentialsVersion)
	}
	return false
}
