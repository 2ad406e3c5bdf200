package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
)

// Conversions between maestro_node_pool's model and api.NodePool.

// NodePoolResourceModel is the state of maestro_node_pool.
type NodePoolResourceModel struct {
	ID          types.String     `tfsdk:"id"`
	Name        types.String     `tfsdk:"name"`
	Local       *poolLocalModel  `tfsdk:"local"`
	SSH         *poolSSHModel    `tfsdk:"ssh"`
	AWS         *poolAWSModel    `tfsdk:"aws"`
	GCP         *poolGCPModel    `tfsdk:"gcp"`
	MachineType types.String     `tfsdk:"machine_type"`
	Zones       types.List       `tfsdk:"zones"`
	Labels      types.Map        `tfsdk:"labels"`
	Taints      []poolTaintModel `tfsdk:"taint"`
	Spot        types.Bool       `tfsdk:"spot"`
	Size        types.Int64      `tfsdk:"size"`
	Autoscaling types.Bool       `tfsdk:"autoscaling"`
	// TemplateCapacity is the pool's api.AnnotationTemplateCapacity.
	TemplateCapacity types.Map             `tfsdk:"template_capacity"`
	MinSize          types.Int64           `tfsdk:"min_size"`
	MaxSize          types.Int64           `tfsdk:"max_size"`
	Rollout          *poolRolloutModel     `tfsdk:"rollout"`
	DrainTimeout     types.String          `tfsdk:"drain_timeout"`
	Remediation      *poolRemediationModel `tfsdk:"remediation"`
	WaitForReady     types.Bool            `tfsdk:"wait_for_ready"`
	Timeouts         timeouts.Value        `tfsdk:"timeouts"`
}

// poolLocalModel is the empty `local {}` block: machines on this host.
type poolLocalModel struct{}

type poolSSHModel struct {
	Hosts                 types.List   `tfsdk:"hosts"`
	User                  types.String `tfsdk:"user"`
	Port                  types.Int64  `tfsdk:"port"`
	PrivateKey            types.String `tfsdk:"private_key"`
	PrivateKeyVersion     types.Int64  `tfsdk:"private_key_version"`
	HostKeys              types.List   `tfsdk:"host_keys"`
	InsecureIgnoreHostKey types.Bool   `tfsdk:"insecure_ignore_host_key"`
	InstallDir            types.String `tfsdk:"install_dir"`
}

type poolTaintModel struct {
	Key    types.String `tfsdk:"key"`
	Value  types.String `tfsdk:"value"`
	Effect types.String `tfsdk:"effect"`
}

type poolRolloutModel struct {
	MaxSurge       types.String `tfsdk:"max_surge"`
	MaxUnavailable types.String `tfsdk:"max_unavailable"`
}

type poolRemediationModel struct {
	StartupTimeout  types.String `tfsdk:"startup_timeout"`
	NotReadyTimeout types.String `tfsdk:"not_ready_timeout"`
	MaxInFlight     types.String `tfsdk:"max_in_flight"`
}

// Defaults of the model, the API's (api.defaultNodePoolSpec) written the
// way the schema takes them.
const (
	defaultPoolMaxSurge        = "1"
	defaultPoolMaxUnavailable  = "0"
	defaultPoolMaxInFlight     = "1"
	defaultPoolSSHUser         = "root"
	defaultPoolSSHPort         = 22
	poolPrivateKeySecretKey    = "privateKey"
	poolPrivateKeySecretPrefix = "nodepool-"
)

var (
	defaultPoolDrainTimeout    = secondsString(api.DefaultDrainTimeoutSeconds)
	defaultPoolStartupTimeout  = secondsString(api.DefaultStartupTimeoutSeconds)
	defaultPoolNotReadyTimeout = secondsString(api.DefaultNotReadyTimeoutSeconds)
)

// poolKeySecretName is the secret in maestro-system holding an ssh pool's
// private key.
func poolKeySecretName(pool string) string { return poolPrivateKeySecretPrefix + pool + "-ssh" }

// secondsString writes seconds as a Go duration ("5m0s").
func secondsString(s int64) string { return (time.Duration(s) * time.Second).String() }

// durationSeconds reads a duration attribute as whole seconds.
func durationSeconds(v types.String) (*int64, error) {
	if v.IsNull() || v.IsUnknown() {
		return nil, nil
	}
	d, err := time.ParseDuration(v.ValueString())
	if err != nil {
		return nil, fmt.Errorf("%q is not a duration (e.g. \"90s\", \"5m\", \"1h\")", v.ValueString())
	}
	if d%time.Second != 0 {
		return nil, fmt.Errorf("%q: use whole seconds", v.ValueString())
	}
	return api.Ptr(int64(d / time.Second)), nil
}

// keepDuration is the state value of a duration the server holds as
// seconds: the prior text when it means the same (5m and 300s are both
// kept), else the server's value.
func keepDuration(prior types.String, seconds *int64, def string) types.String {
	if seconds == nil {
		return types.StringValue(def)
	}
	if p, err := durationSeconds(prior); err == nil && p != nil && *p == *seconds {
		return prior
	}
	return types.StringValue(secondsString(*seconds))
}

// keepIntOrString is the state value of a count-or-percentage.
func keepIntOrString(prior types.String, v *api.IntOrString, def string) types.String {
	if v == nil {
		return types.StringValue(def)
	}
	if cur := intOrString(prior); cur != nil && *cur == *v {
		return prior
	}
	return types.StringValue(v.String())
}

func int32Ptr(v types.Int64) *int32 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return api.Ptr(int32(v.ValueInt64()))
}

// expandNodePool writes the plan into p: empty on create, the live pool
// on update (what Terraform does not manage survives). The private key is
// not in the pool: the pool names the secret holding it.
func expandNodePool(ctx context.Context, plan *NodePoolResourceModel, p *api.NodePool, diags *diag.Diagnostics) {
	p.Name = plan.Name.ValueString()
	s := &p.Spec
	machineType, zones, spot := poolMachineShape(plan)
	s.MachineType = machineType.ValueString()
	s.Zones = stringList(ctx, zones, diags)
	s.Labels = stringMap(ctx, plan.Labels, diags)
	s.Taints = nil
	for _, t := range plan.Taints {
		s.Taints = append(s.Taints, api.Taint{Key: t.Key.ValueString(), Value: t.Value.ValueString(), Effect: api.TaintEffect(t.Effect.ValueString())})
	}
	s.Spot = spot.ValueBool()
	if v := int32Ptr(plan.MinSize); v != nil {
		s.MinSize = *v
	}
	if v := int32Ptr(plan.MaxSize); v != nil {
		s.MaxSize = *v
	}
	live := s.Size
	if v := int32Ptr(plan.Size); v != nil {
		s.Size = v
		if plan.MinSize.IsNull() && plan.MaxSize.IsNull() {
			s.MinSize, s.MaxSize = *v, *v
		}
	}
	s.Autoscaling = plan.Autoscaling.ValueBool()
	expandTemplateCapacity(ctx, plan, p, diags)
	if s.Autoscaling && live != nil {
		// The cluster autoscaler owns the size once the pool exists: size
		// is only the initial one; an update keeps the live size, within
		// the (maybe new) bounds.
		s.Size = api.Ptr(max(s.MinSize, min(s.MaxSize, *live)))
	}
	if r := plan.Rollout; r != nil {
		s.Rollout = api.NodePoolRollout{MaxSurge: intOrString(r.MaxSurge), MaxUnavailable: intOrString(r.MaxUnavailable)}
	}
	expandPoolDurations(plan, s, diags)
	var awsRef, gcpRef string // the credentials secrets named now, kept
	if s.AWS != nil {
		awsRef = s.AWS.CredentialsSecretRef
	}
	if s.GCP != nil {
		gcpRef = s.GCP.CredentialsSecretRef
	}
	s.SSH, s.AWS, s.GCP = nil, nil, nil
	switch {
	case plan.SSH != nil:
		s.Provider = api.ProviderSSH
		s.SSH = expandPoolSSH(ctx, plan.Name.ValueString(), plan.SSH, diags)
	case plan.AWS != nil:
		s.Provider = api.ProviderAWS
		s.AWS = expandPoolAWS(ctx, plan.AWS, awsRef, diags)
	case plan.GCP != nil:
		s.Provider = api.ProviderGCP
		s.GCP = expandPoolGCP(ctx, plan.GCP, gcpRef, diags)
	default:
		s.Provider = api.ProviderLocal
	}
}

func expandPoolDurations(plan *NodePoolResourceModel, s *api.NodePoolSpec, diags *diag.Diagnostics) {
	set := func(v types.String, dst **int64, at string) {
		n, err := durationSeconds(v)
		if err != nil {
			diags.AddAttributeError(poolPath(at), "Invalid duration", err.Error())
			return
		}
		if n != nil {
			*dst = n
		}
	}
	set(plan.DrainTimeout, &s.DrainTimeoutSeconds, "drain_timeout")
	if r := plan.Remediation; r != nil {
		set(r.StartupTimeout, &s.Remediation.StartupTimeoutSeconds, "remediation.startup_timeout")
		set(r.NotReadyTimeout, &s.Remediation.NotReadyTimeoutSeconds, "remediation.not_ready_timeout")
		if v := intOrString(r.MaxInFlight); v != nil {
			s.Remediation.MaxInFlight = v
		}
	}
}

func expandPoolSSH(ctx context.Context, pool string, m *poolSSHModel, diags *diag.Diagnostics) *api.SSHPoolConfig {
	return &api.SSHPoolConfig{
		Hosts:                 stringList(ctx, m.Hosts, diags),
		User:                  m.User.ValueString(),
		Port:                  int32(m.Port.ValueInt64()),
		PrivateKeySecretRef:   poolKeySecretName(pool),
		HostKeys:              stringList(ctx, m.HostKeys, diags),
		InsecureIgnoreHostKey: m.InsecureIgnoreHostKey.ValueBool(),
		InstallDir:            m.InstallDir.ValueString(),
	}
}

// flattenNodePool writes p into m, which holds the prior values (empty on
// import). Blocks the prior left out (rollout, remediation) stay out
// unless importing finds values other than the defaults. The private key
// and cloud credentials are write-only: always null. A cloud pool's
// machine type and zones go where the prior had them (the pool's
// attributes or their aliases in the cloud block; on import, the pool's).
func flattenNodePool(ctx context.Context, p *api.NodePool, m *NodePoolResourceModel, importing bool, diags *diag.Diagnostics) {
	s := &p.Spec
	prior := *m
	m.ID = types.StringValue(p.Name)
	m.Name = types.StringValue(p.Name)
	m.MachineType = types.StringNull()
	if s.MachineType != "" {
		m.MachineType = types.StringValue(s.MachineType)
	}
	m.Zones = listOrNull(ctx, s.Zones, diags)
	m.Labels = mapOrNull(ctx, s.Labels, diags)
	m.Taints = nil
	for _, t := range s.Taints {
		m.Taints = append(m.Taints, poolTaintModel{Key: types.StringValue(t.Key), Value: optString(t.Value), Effect: types.StringValue(string(t.Effect))})
	}
	m.Spot = types.BoolValue(s.Spot)
	m.MinSize, m.MaxSize = types.Int64Value(int64(s.MinSize)), types.Int64Value(int64(s.MaxSize))
	size := s.MinSize
	if s.Size != nil {
		size = *s.Size
	}
	m.Size = types.Int64Value(int64(size))
	m.Autoscaling = types.BoolValue(s.Autoscaling)
	m.TemplateCapacity = flattenTemplateCapacity(ctx, p, diags)
	if s.Autoscaling && !importing && !prior.Size.IsNull() && !prior.Size.IsUnknown() {
		m.Size = prior.Size // the autoscaler's changes are no diff
	}
	m.DrainTimeout = keepDuration(m.DrainTimeout, s.DrainTimeoutSeconds, defaultPoolDrainTimeout)
	flattenPoolBehaviour(s, m, importing)
	if importing {
		m.WaitForReady = types.BoolValue(true)
		m.Timeouts = nullTimeouts()
	}
	m.Local, m.SSH, m.AWS, m.GCP = nil, nil, nil, nil
	switch s.Provider {
	case api.ProviderSSH:
		m.SSH = flattenPoolSSH(ctx, s.SSH, prior.SSH, diags)
	case api.ProviderAWS, api.ProviderGCP:
		flattenPoolCloud(ctx, s, m, &prior, diags)
	default:
		m.Local = &poolLocalModel{}
	}
}

func flattenPoolBehaviour(s *api.NodePoolSpec, m *NodePoolResourceModel, importing bool) {
	r := s.Rollout
	if m.Rollout != nil || importing && !(isCount(r.MaxSurge, 1) && isCount(r.MaxUnavailable, 0)) {
		var prior poolRolloutModel
		if m.Rollout != nil {
			prior = *m.Rollout
		}
		m.Rollout = &poolRolloutModel{
			MaxSurge:       keepIntOrString(prior.MaxSurge, r.MaxSurge, defaultPoolMaxSurge),
			MaxUnavailable: keepIntOrString(prior.MaxUnavailable, r.MaxUnavailable, defaultPoolMaxUnavailable),
		}
	}
	rem := s.Remediation
	nonDefault := !isCount(rem.MaxInFlight, 1) ||
		rem.StartupTimeoutSeconds != nil && *rem.StartupTimeoutSeconds != api.DefaultStartupTimeoutSeconds ||
		rem.NotReadyTimeoutSeconds != nil && *rem.NotReadyTimeoutSeconds != api.DefaultNotReadyTimeoutSeconds
	if m.Remediation != nil || importing && nonDefault {
		var prior poolRemediationModel
		if m.Remediation != nil {
			prior = *m.Remediation
		}
		m.Remediation = &poolRemediationModel{
			StartupTimeout:  keepDuration(prior.StartupTimeout, rem.StartupTimeoutSeconds, defaultPoolStartupTimeout),
			NotReadyTimeout: keepDuration(prior.NotReadyTimeout, rem.NotReadyTimeoutSeconds, defaultPoolNotReadyTimeout),
			MaxInFlight:     keepIntOrString(prior.MaxInFlight, rem.MaxInFlight, defaultPoolMaxInFlight),
		}
	}
}

// isCount: v is nil (the default) or the count n.
func isCount(v *api.IntOrString, n int32) bool { return v == nil || !v.IsString && v.IntVal == n }

func flattenPoolSSH(ctx context.Context, c *api.SSHPoolConfig, prior *poolSSHModel, diags *diag.Diagnostics) *poolSSHModel {
	if c == nil {
		c = &api.SSHPoolConfig{}
	}
	m := &poolSSHModel{
		Hosts:                 listOrNull(ctx, c.Hosts, diags),
		User:                  types.StringValue(c.User),
		Port:                  types.Int64Value(int64(c.Port)),
		PrivateKey:            types.StringNull(),
		PrivateKeyVersion:     types.Int64Null(),
		HostKeys:              listOrNull(ctx, c.HostKeys, diags),
		InsecureIgnoreHostKey: types.BoolValue(c.InsecureIgnoreHostKey),
		InstallDir:            types.StringValue(c.InstallDir),
	}
	if prior != nil {
		m.PrivateKeyVersion = prior.PrivateKeyVersion
	}
	return m
}

func optString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

// poolSize is the planned size of a model (known values only): size, else
// min_size, else 0; ok is false while it is unknown.
func poolSize(m *NodePoolResourceModel) (n int, ok bool) {
	switch {
	case m.Size.IsUnknown():
		return 0, false
	case !m.Size.IsNull():
		return int(m.Size.ValueInt64()), true
	case m.MinSize.IsUnknown():
		return 0, false
	}
	return int(m.MinSize.ValueInt64()), true
}

// itoa for messages.
func itoa(n int) string { return strconv.Itoa(n) }

// expandTemplateCapacity writes template_capacity ({cpu = "4", memory =
// "16Gi"}) as the pool's annotation "cpu=4,memory=16Gi" (sorted), or
// removes the annotation; the pool's other annotations stay.
func expandTemplateCapacity(ctx context.Context, plan *NodePoolResourceModel, p *api.NodePool, diags *diag.Diagnostics) {
	caps := stringMap(ctx, plan.TemplateCapacity, diags)
	if len(caps) == 0 {
		delete(p.Annotations, api.AnnotationTemplateCapacity)
		return
	}
	p.Annotations = maps.Clone(p.Annotations)
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[api.AnnotationTemplateCapacity] = capacityString(caps)
}

// capacityString is caps as the annotation says it: "cpu=4,memory=16Gi".
func capacityString(caps map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(caps)) {
		parts = append(parts, k+"="+caps[k])
	}
	return strings.Join(parts, ",")
}

// flattenTemplateCapacity reads the annotation back (null when unset).
func flattenTemplateCapacity(ctx context.Context, p *api.NodePool, diags *diag.Diagnostics) types.Map {
	caps := map[string]string{}
	for part := range strings.SplitSeq(p.Annotations[api.AnnotationTemplateCapacity], ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			caps[k] = v
		}
	}
	return mapOrNull(ctx, caps, diags)
}

// templateCapacityValidator checks template_capacity with the cluster
// autoscaler's own parser.
type templateCapacityValidator struct{}

func (templateCapacityValidator) Description(context.Context) string {
	return "keys cpu, memory and pods, values quantities such as 4, 500m, 16Gi"
}

func (v templateCapacityValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (templateCapacityValidator) ValidateMap(ctx context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	caps := map[string]string{}
	if d := req.ConfigValue.ElementsAs(ctx, &caps, false); d.HasError() {
		return // unknown elements: checked at apply
	}
	if _, err := api.ParseTemplateCapacity(capacityString(caps)); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid template_capacity", err.Error()+".")
	}
}
