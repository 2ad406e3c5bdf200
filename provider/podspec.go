package provider

import (
	"context"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/api/resource"
)

// Models of a pod spec (its schema: internal/schema/podspec.go) and their
// conversion to and from api.PodSpec, shared by maestro_pod and
// maestro_deployment.

// PodSpecModel is a pod spec. It is embedded, untagged, in the deployment
// template and the pod's spec block.
type PodSpecModel struct {
	RestartPolicy                 types.String             `tfsdk:"restart_policy"`
	TerminationGracePeriodSeconds types.Int64              `tfsdk:"termination_grace_period_seconds"`
	NodeSelector                  types.Map                `tfsdk:"node_selector"`
	Containers                    []containerModel         `tfsdk:"container"`
	Volumes                       []volumeModel            `tfsdk:"volume"`
	Affinity                      *affinityModel           `tfsdk:"affinity"`
	Tolerations                   []tolerationModel        `tfsdk:"toleration"`
	TopologySpread                []topologySpreadModel    `tfsdk:"topology_spread_constraint"`
	SecurityContext               *podSecurityContextModel `tfsdk:"security_context"`
	ImagePullSecrets              []nameModel              `tfsdk:"image_pull_secrets"`
}

type containerModel struct {
	Name            types.String          `tfsdk:"name"`
	Image           types.String          `tfsdk:"image"`
	Args            types.List            `tfsdk:"args"`
	Command         types.List            `tfsdk:"command"`
	Env             []envModel            `tfsdk:"env"`
	EnvFrom         []envFromModel        `tfsdk:"env_from"`
	SecurityContext *securityContextModel `tfsdk:"security_context"`
	Ports           []portModel           `tfsdk:"port"`
	Resources       *resourcesModel       `tfsdk:"resources"`
	VolumeMounts    []volumeMountModel    `tfsdk:"volume_mount"`
	Liveness        *probeModel           `tfsdk:"liveness_probe"`
	Readiness       *probeModel           `tfsdk:"readiness_probe"`
	Startup         *probeModel           `tfsdk:"startup_probe"`
}

type envModel struct {
	Name      types.String    `tfsdk:"name"`
	Value     types.String    `tfsdk:"value"`
	ValueFrom *envSourceModel `tfsdk:"value_from"`
}

type envSourceModel struct {
	ConfigMapKeyRef *keyRefModel   `tfsdk:"config_map_key_ref"`
	SecretKeyRef    *keyRefModel   `tfsdk:"secret_key_ref"`
	FieldRef        *fieldRefModel `tfsdk:"field_ref"`
}

type keyRefModel struct {
	Name types.String `tfsdk:"name"`
	Key  types.String `tfsdk:"key"`
}

type fieldRefModel struct {
	FieldPath types.String `tfsdk:"field_path"`
}

type portModel struct {
	Name          types.String `tfsdk:"name"`
	ContainerPort types.Int64  `tfsdk:"container_port"`
	Protocol      types.String `tfsdk:"protocol"`
}

type resourcesModel struct {
	Requests *resourceListModel `tfsdk:"requests"`
	Limits   *resourceListModel `tfsdk:"limits"`
}

type resourceListModel struct {
	CPU    types.String `tfsdk:"cpu"`
	Memory types.String `tfsdk:"memory"`
}

type volumeMountModel struct {
	Name      types.String `tfsdk:"name"`
	MountPath types.String `tfsdk:"mount_path"`
	SubPath   types.String `tfsdk:"sub_path"`
	ReadOnly  types.Bool   `tfsdk:"read_only"`
}

type probeModel struct {
	InitialDelaySeconds types.Int64     `tfsdk:"initial_delay_seconds"`
	PeriodSeconds       types.Int64     `tfsdk:"period_seconds"`
	TimeoutSeconds      types.Int64     `tfsdk:"timeout_seconds"`
	SuccessThreshold    types.Int64     `tfsdk:"success_threshold"`
	FailureThreshold    types.Int64     `tfsdk:"failure_threshold"`
	HTTPGet             *httpGetModel   `tfsdk:"http_get"`
	TCPSocket           *tcpSocketModel `tfsdk:"tcp_socket"`
	Exec                *execModel      `tfsdk:"exec"`
}

type httpGetModel struct {
	Path   types.String `tfsdk:"path"`
	Port   types.String `tfsdk:"port"`
	Scheme types.String `tfsdk:"scheme"`
}

type tcpSocketModel struct {
	Port types.String `tfsdk:"port"`
}

type execModel struct {
	Command types.List `tfsdk:"command"`
}

type volumeModel struct {
	Name       types.String       `tfsdk:"name"`
	EmptyDir   *emptyDirModel     `tfsdk:"empty_dir"`
	HostPath   *hostPathModel     `tfsdk:"host_path"`
	ConfigMap  *nameModel         `tfsdk:"config_map"`
	Secret     *secretVolumeModel `tfsdk:"secret"`
	Persistent *nameModel         `tfsdk:"persistent"`
}

type emptyDirModel struct {
	Medium    types.String `tfsdk:"medium"`
	SizeLimit types.String `tfsdk:"size_limit"`
}

type hostPathModel struct {
	Path types.String `tfsdk:"path"`
	Type types.String `tfsdk:"type"`
}

type nameModel struct {
	Name types.String `tfsdk:"name"`
}

type secretVolumeModel struct {
	SecretName types.String `tfsdk:"secret_name"`
}

type tolerationModel struct {
	Key               types.String `tfsdk:"key"`
	Operator          types.String `tfsdk:"operator"`
	Value             types.String `tfsdk:"value"`
	Effect            types.String `tfsdk:"effect"`
	TolerationSeconds types.Int64  `tfsdk:"toleration_seconds"`
}

type topologySpreadModel struct {
	MaxSkew           types.Int64         `tfsdk:"max_skew"`
	TopologyKey       types.String        `tfsdk:"topology_key"`
	WhenUnsatisfiable types.String        `tfsdk:"when_unsatisfiable"`
	LabelSelector     *labelSelectorModel `tfsdk:"label_selector"`
}

type labelSelectorModel struct {
	MatchLabels      types.Map              `tfsdk:"match_labels"`
	MatchExpressions []matchExpressionModel `tfsdk:"match_expression"`
}

type matchExpressionModel struct {
	Key      types.String `tfsdk:"key"`
	Operator types.String `tfsdk:"operator"`
	Values   types.List   `tfsdk:"values"`
}

type affinityModel struct {
	NodeAffinity    *nodeAffinityModel `tfsdk:"node_affinity"`
	PodAffinity     *podAffinityModel  `tfsdk:"pod_affinity"`
	PodAntiAffinity *podAffinityModel  `tfsdk:"pod_anti_affinity"`
}

type nodeAffinityModel struct {
	Required  []nodeTermModel         `tfsdk:"required_term"`
	Preferred []weightedNodeTermModel `tfsdk:"preferred"`
}

type nodeTermModel struct {
	MatchExpressions []matchExpressionModel `tfsdk:"match_expression"`
}

type weightedNodeTermModel struct {
	Weight           types.Int64            `tfsdk:"weight"`
	MatchExpressions []matchExpressionModel `tfsdk:"match_expression"`
}

type podAffinityModel struct {
	Required  []podTermModel         `tfsdk:"required"`
	Preferred []weightedPodTermModel `tfsdk:"preferred"`
}

type podTermModel struct {
	TopologyKey   types.String        `tfsdk:"topology_key"`
	Namespaces    types.List          `tfsdk:"namespaces"`
	LabelSelector *labelSelectorModel `tfsdk:"label_selector"`
}

type weightedPodTermModel struct {
	Weight        types.Int64         `tfsdk:"weight"`
	TopologyKey   types.String        `tfsdk:"topology_key"`
	Namespaces    types.List          `tfsdk:"namespaces"`
	LabelSelector *labelSelectorModel `tfsdk:"label_selector"`
}

// --- expand: model -> API -------------------------------------------------

// expandPodSpec writes m into s. s is empty on create and the live spec on
// update: fields Terraform does not manage (a container's working dir,
// a volume's projected items) survive.
func expandPodSpec(ctx context.Context, m *PodSpecModel, s *api.PodSpec, diags *diag.Diagnostics) {
	s.RestartPolicy = api.RestartPolicy(m.RestartPolicy.ValueString())
	s.TerminationGracePeriodSeconds = nil
	if !m.TerminationGracePeriodSeconds.IsNull() && !m.TerminationGracePeriodSeconds.IsUnknown() {
		s.TerminationGracePeriodSeconds = api.Ptr(m.TerminationGracePeriodSeconds.ValueInt64())
	}
	s.NodeSelector = stringMap(ctx, m.NodeSelector, diags)

	liveContainers := map[string]api.Container{}
	for _, c := range s.Containers {
		liveContainers[c.Name] = c
	}
	s.Containers = nil
	for _, cm := range m.Containers {
		c := liveContainers[cm.Name.ValueString()]
		expandContainer(ctx, cm, &c, diags)
		s.Containers = append(s.Containers, c)
	}

	liveVolumes := map[string]api.Volume{}
	for _, v := range s.Volumes {
		liveVolumes[v.Name] = v
	}
	s.Volumes = nil
	for _, vm := range m.Volumes {
		s.Volumes = append(s.Volumes, expandVolume(vm, liveVolumes[vm.Name.ValueString()]))
	}

	s.Affinity = expandAffinity(ctx, m.Affinity, diags)
	s.Tolerations = nil
	for _, t := range m.Tolerations {
		tol := api.Toleration{Key: t.Key.ValueString(), Operator: t.Operator.ValueString(), Value: t.Value.ValueString(), Effect: api.TaintEffect(t.Effect.ValueString())}
		if !t.TolerationSeconds.IsNull() && !t.TolerationSeconds.IsUnknown() {
			tol.TolerationSeconds = api.Ptr(t.TolerationSeconds.ValueInt64())
		}
		s.Tolerations = append(s.Tolerations, tol)
	}
	s.TopologySpreadConstraints = nil
	for _, t := range m.TopologySpread {
		s.TopologySpreadConstraints = append(s.TopologySpreadConstraints, api.TopologySpreadConstraint{
			MaxSkew:           int32(t.MaxSkew.ValueInt64()),
			TopologyKey:       t.TopologyKey.ValueString(),
			WhenUnsatisfiable: t.WhenUnsatisfiable.ValueString(),
			LabelSelector:     expandLabelSelector(ctx, t.LabelSelector, diags),
		})
	}
	expandPodSecurity(m, s)
}

func expandContainer(ctx context.Context, m containerModel, c *api.Container, diags *diag.Diagnostics) {
	c.Name = m.Name.ValueString()
	c.Image = m.Image.ValueString()
	c.Args = stringList(ctx, m.Args, diags)
	c.Command = stringList(ctx, m.Command, diags)
	c.Env = nil
	for _, e := range m.Env {
		ev := api.EnvVar{Name: e.Name.ValueString(), Value: e.Value.ValueString()}
		if vf := e.ValueFrom; vf != nil {
			ev.ValueFrom = &api.EnvVarSource{}
			if r := vf.ConfigMapKeyRef; r != nil {
				ev.ValueFrom.ConfigMapKeyRef = &api.KeySelector{Name: r.Name.ValueString(), Key: r.Key.ValueString()}
			}
			if r := vf.SecretKeyRef; r != nil {
				ev.ValueFrom.SecretKeyRef = &api.KeySelector{Name: r.Name.ValueString(), Key: r.Key.ValueString()}
			}
			if r := vf.FieldRef; r != nil {
				ev.ValueFrom.FieldRef = &api.ObjectFieldSelector{FieldPath: r.FieldPath.ValueString()}
			}
		}
		c.Env = append(c.Env, ev)
	}
	c.Ports = nil
	for _, p := range m.Ports {
		proto := api.Protocol(p.Protocol.ValueString())
		if proto == "" {
			proto = api.ProtocolTCP
		}
		c.Ports = append(c.Ports, api.ContainerPort{Name: p.Name.ValueString(), ContainerPort: int32(p.ContainerPort.ValueInt64()), Protocol: proto})
	}
	c.Resources = api.ResourceRequirements{}
	if r := m.Resources; r != nil {
		c.Resources.Requests = expandResourceList(r.Requests)
		c.Resources.Limits = expandResourceList(r.Limits)
	}
	c.VolumeMounts = nil
	for _, vm := range m.VolumeMounts {
		c.VolumeMounts = append(c.VolumeMounts, api.VolumeMount{
			Name: vm.Name.ValueString(), MountPath: vm.MountPath.ValueString(), SubPath: vm.SubPath.ValueString(), ReadOnly: vm.ReadOnly.ValueBool(),
		})
	}
	c.LivenessProbe = expandProbe(ctx, m.Liveness, diags)
	c.ReadinessProbe = expandProbe(ctx, m.Readiness, diags)
	c.StartupProbe = expandProbe(ctx, m.Startup, diags)
	expandContainerExtras(ctx, m, c, diags)
}

func expandProbe(ctx context.Context, m *probeModel, diags *diag.Diagnostics) *api.Probe {
	if m == nil {
		return nil
	}
	p := &api.Probe{
		InitialDelaySeconds: int32(m.InitialDelaySeconds.ValueInt64()),
		PeriodSeconds:       int32(m.PeriodSeconds.ValueInt64()),
		TimeoutSeconds:      int32(m.TimeoutSeconds.ValueInt64()),
		SuccessThreshold:    int32(m.SuccessThreshold.ValueInt64()),
		FailureThreshold:    int32(m.FailureThreshold.ValueInt64()),
	}
	if h := m.HTTPGet; h != nil {
		p.HTTPGet = &api.HTTPGetAction{Path: h.Path.ValueString(), Port: portValue(h.Port.ValueString()), Scheme: h.Scheme.ValueString()}
	}
	if t := m.TCPSocket; t != nil {
		p.TCPSocket = &api.TCPSocketAction{Port: portValue(t.Port.ValueString())}
	}
	if e := m.Exec; e != nil {
		p.Exec = &api.ExecAction{Command: stringList(ctx, e.Command, diags)}
	}
	return p
}

// portValue reads "8080" as a number and "http" as a port name.
func portValue(s string) api.IntOrString {
	if n, err := strconv.Atoi(s); err == nil {
		return api.FromInt(int32(n))
	}
	return api.FromString(s)
}

func expandVolume(m volumeModel, live api.Volume) api.Volume {
	v := api.Volume{Name: m.Name.ValueString()}
	if e := m.EmptyDir; e != nil {
		v.EmptyDir = &api.EmptyDirVolumeSource{Medium: e.Medium.ValueString()}
		if q, err := resource.ParseQuantity(e.SizeLimit.ValueString()); err == nil && !e.SizeLimit.IsNull() {
			v.EmptyDir.SizeLimit = &q
		}
	}
	if h := m.HostPath; h != nil {
		v.HostPath = &api.HostPathVolumeSource{Path: h.Path.ValueString(), Type: h.Type.ValueString()}
	}
	if c := m.ConfigMap; c != nil {
		v.ConfigMap = &api.ConfigMapVolumeSource{Name: c.Name.ValueString()}
		if l := live.ConfigMap; l != nil { // projected items and modes are not managed
			v.ConfigMap.Items, v.ConfigMap.DefaultMode, v.ConfigMap.Optional = l.Items, l.DefaultMode, l.Optional
		}
	}
	if s := m.Secret; s != nil {
		v.Secret = &api.SecretVolumeSource{SecretName: s.SecretName.ValueString()}
		if l := live.Secret; l != nil {
			v.Secret.Items, v.Secret.DefaultMode, v.Secret.Optional = l.Items, l.DefaultMode, l.Optional
		}
	}
	if p := m.Persistent; p != nil {
		v.Persistent = &api.PersistentVolumeSource{Name: p.Name.ValueString()}
	}
	return v
}

func expandResourceList(m *resourceListModel) api.ResourceList {
	if m == nil {
		return nil
	}
	out := api.ResourceList{}
	for name, v := range map[api.ResourceName]types.String{api.ResourceCPU: m.CPU, api.ResourceMemory: m.Memory} {
		if q, err := resource.ParseQuantity(v.ValueString()); err == nil && !v.IsNull() {
			out[name] = q // validated at plan time
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func expandLabelSelector(ctx context.Context, m *labelSelectorModel, diags *diag.Diagnostics) *api.LabelSelector {
	if m == nil {
		return nil
	}
	sel := &api.LabelSelector{MatchLabels: stringMap(ctx, m.MatchLabels, diags)}
	for _, e := range m.MatchExpressions {
		sel.MatchExpressions = append(sel.MatchExpressions, api.LabelSelectorRequirement{
			Key: e.Key.ValueString(), Operator: e.Operator.ValueString(), Values: stringList(ctx, e.Values, diags),
		})
	}
	return sel
}

func expandNodeExpressions(ctx context.Context, exprs []matchExpressionModel, diags *diag.Diagnostics) []api.NodeSelectorRequirement {
	var out []api.NodeSelectorRequirement
	for _, e := range exprs {
		out = append(out, api.NodeSelectorRequirement{Key: e.Key.ValueString(), Operator: e.Operator.ValueString(), Values: stringList(ctx, e.Values, diags)})
	}
	return out
}

func expandAffinity(ctx context.Context, m *affinityModel, diags *diag.Diagnostics) *api.Affinity {
	if m == nil {
		return nil
	}
	a := &api.Affinity{}
	if n := m.NodeAffinity; n != nil {
		a.NodeAffinity = &api.NodeAffinity{}
		if len(n.Required) > 0 {
			a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &api.NodeSelector{}
			for _, t := range n.Required {
				a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = append(
					a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms,
					api.NodeSelectorTerm{MatchExpressions: expandNodeExpressions(ctx, t.MatchExpressions, diags)})
			}
		}
		for _, p := range n.Preferred {
			a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
				api.PreferredSchedulingTerm{Weight: int32(p.Weight.ValueInt64()), Preference: api.NodeSelectorTerm{MatchExpressions: expandNodeExpressions(ctx, p.MatchExpressions, diags)}})
		}
	}
	podTerms := func(m *podAffinityModel) (req []api.PodAffinityTerm, pref []api.WeightedPodAffinityTerm) {
		for _, t := range m.Required {
			req = append(req, api.PodAffinityTerm{TopologyKey: t.TopologyKey.ValueString(), Namespaces: stringList(ctx, t.Namespaces, diags), LabelSelector: expandLabelSelector(ctx, t.LabelSelector, diags)})
		}
		for _, t := range m.Preferred {
			pref = append(pref, api.WeightedPodAffinityTerm{Weight: int32(t.Weight.ValueInt64()), PodAffinityTerm: api.PodAffinityTerm{
				TopologyKey: t.TopologyKey.ValueString(), Namespaces: stringList(ctx, t.Namespaces, diags), LabelSelector: expandLabelSelector(ctx, t.LabelSelector, diags),
			}})
		}
		return req, pref
	}
	if p := m.PodAffinity; p != nil {
		req, pref := podTerms(p)
		a.PodAffinity = &api.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: req, PreferredDuringSchedulingIgnoredDuringExecution: pref}
	}
	if p := m.PodAntiAffinity; p != nil {
		req, pref := podTerms(p)
		a.PodAntiAffinity = &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: req, PreferredDuringSchedulingIgnoredDuringExecution: pref}
	}
	return a
}

// --- flatten: API -> model --------------------------------------------------

// flattenPodSpec writes s into m. m holds the prior values (nil fields on
// import); they decide the spelling of equal quantities and whether an
// empty optional list is kept as [] or null.
func flattenPodSpec(ctx context.Context, s api.PodSpec, m *PodSpecModel, diags *diag.Diagnostics) {
	m.RestartPolicy = types.StringValue(string(s.RestartPolicy))
	m.TerminationGracePeriodSeconds = types.Int64Value(api.Deref(s.TerminationGracePeriodSeconds, api.DefaultTerminationGracePeriodSeconds))
	m.NodeSelector = mapOrNull(ctx, s.NodeSelector, diags)

	priorContainers := m.Containers
	m.Containers = nil
	for i, c := range s.Containers {
		var prior *containerModel
		if i < len(priorContainers) {
			prior = &priorContainers[i]
		}
		m.Containers = append(m.Containers, flattenContainer(ctx, c, prior, diags))
	}

	priorVolumes := m.Volumes
	m.Volumes = nil
	for i, v := range s.Volumes {
		var prior *volumeModel
		if i < len(priorVolumes) {
			prior = &priorVolumes[i]
		}
		m.Volumes = append(m.Volumes, flattenVolume(v, prior))
	}

	m.Affinity = flattenAffinity(ctx, s.Affinity, diags)
	m.Tolerations = nil
	for _, t := range s.Tolerations {
		tm := tolerationModel{
			Key: nullIfEmpty(t.Key), Operator: types.StringValue(t.Operator), Value: nullIfEmpty(t.Value), Effect: nullIfEmpty(string(t.Effect)),
			TolerationSeconds: types.Int64Null(),
		}
		if t.TolerationSeconds != nil {
			tm.TolerationSeconds = types.Int64Value(*t.TolerationSeconds)
		}
		m.Tolerations = append(m.Tolerations, tm)
	}
	m.TopologySpread = nil
	for _, t := range s.TopologySpreadConstraints {
		m.TopologySpread = append(m.TopologySpread, topologySpreadModel{
			MaxSkew: types.Int64Value(int64(t.MaxSkew)), TopologyKey: types.StringValue(t.TopologyKey),
			WhenUnsatisfiable: types.StringValue(t.WhenUnsatisfiable), LabelSelector: flattenLabelSelector(ctx, t.LabelSelector, diags),
		})
	}
	flattenPodSecurity(s, m)
}

func flattenContainer(ctx context.Context, c api.Container, prior *containerModel, diags *diag.Diagnostics) containerModel {
	if prior == nil {
		prior = &containerModel{Args: types.ListNull(types.StringType), Command: types.ListNull(types.StringType)}
	}
	m := containerModel{
		Name:    types.StringValue(c.Name),
		Image:   types.StringValue(c.Image),
		Args:    keepEmptyList(ctx, c.Args, prior.Args, diags),
		Command: keepEmptyList(ctx, c.Command, prior.Command, diags),
	}
	for i, e := range c.Env {
		priorNull := i >= len(prior.Env) || prior.Env[i].Value.IsNull()
		em := envModel{Name: types.StringValue(e.Name), Value: optionalString(e.Value, "", priorNull, false)}
		if vf := e.ValueFrom; vf != nil {
			em.ValueFrom = &envSourceModel{}
			if r := vf.ConfigMapKeyRef; r != nil {
				em.ValueFrom.ConfigMapKeyRef = &keyRefModel{Name: types.StringValue(r.Name), Key: types.StringValue(r.Key)}
			}
			if r := vf.SecretKeyRef; r != nil {
				em.ValueFrom.SecretKeyRef = &keyRefModel{Name: types.StringValue(r.Name), Key: types.StringValue(r.Key)}
			}
			if r := vf.FieldRef; r != nil {
				em.ValueFrom.FieldRef = &fieldRefModel{FieldPath: types.StringValue(r.FieldPath)}
			}
		}
		m.Env = append(m.Env, em)
	}
	for i, p := range c.Ports {
		priorPort := portModel{Name: types.StringNull(), Protocol: types.StringNull()}
		if i < len(prior.Ports) {
			priorPort = prior.Ports[i]
		}
		m.Ports = append(m.Ports, portModel{
			Name:          optionalString(p.Name, "", priorPort.Name.IsNull(), false),
			ContainerPort: types.Int64Value(int64(p.ContainerPort)),
			Protocol:      optionalString(string(p.Protocol), string(api.ProtocolTCP), priorPort.Protocol.IsNull(), false),
		})
	}
	if len(c.Resources.Requests)+len(c.Resources.Limits) > 0 || prior.Resources != nil {
		var pr resourcesModel
		if prior.Resources != nil {
			pr = *prior.Resources
		}
		m.Resources = &resourcesModel{
			Requests: flattenResourceList(c.Resources.Requests, pr.Requests),
			Limits:   flattenResourceList(c.Resources.Limits, pr.Limits),
		}
	}
	for _, vm := range c.VolumeMounts {
		m.VolumeMounts = append(m.VolumeMounts, volumeMountModel{
			Name: types.StringValue(vm.Name), MountPath: types.StringValue(vm.MountPath), SubPath: nullIfEmpty(vm.SubPath), ReadOnly: types.BoolValue(vm.ReadOnly),
		})
	}
	m.Liveness = flattenProbe(ctx, c.LivenessProbe, diags)
	m.Readiness = flattenProbe(ctx, c.ReadinessProbe, diags)
	m.Startup = flattenProbe(ctx, c.StartupProbe, diags)
	flattenContainerExtras(ctx, c, prior, &m, diags)
	return m
}

func flattenProbe(ctx context.Context, p *api.Probe, diags *diag.Diagnostics) *probeModel {
	if p == nil {
		return nil
	}
	m := &probeModel{
		InitialDelaySeconds: types.Int64Value(int64(p.InitialDelaySeconds)),
		PeriodSeconds:       types.Int64Value(int64(p.PeriodSeconds)),
		TimeoutSeconds:      types.Int64Value(int64(p.TimeoutSeconds)),
		SuccessThreshold:    types.Int64Value(int64(p.SuccessThreshold)),
		FailureThreshold:    types.Int64Value(int64(p.FailureThreshold)),
	}
	if h := p.HTTPGet; h != nil {
		m.HTTPGet = &httpGetModel{Path: types.StringValue(h.Path), Port: types.StringValue(h.Port.String()), Scheme: types.StringValue(h.Scheme)}
	}
	if t := p.TCPSocket; t != nil {
		m.TCPSocket = &tcpSocketModel{Port: types.StringValue(t.Port.String())}
	}
	if e := p.Exec; e != nil {
		m.Exec = &execModel{Command: listOrNull(ctx, e.Command, diags)}
	}
	return m
}

func flattenVolume(v api.Volume, prior *volumeModel) volumeModel {
	m := volumeModel{Name: types.StringValue(v.Name)}
	if e := v.EmptyDir; e != nil {
		m.EmptyDir = &emptyDirModel{Medium: nullIfEmpty(e.Medium), SizeLimit: types.StringNull()}
		if e.SizeLimit != nil {
			priorLimit := types.StringNull()
			if prior != nil && prior.EmptyDir != nil {
				priorLimit = prior.EmptyDir.SizeLimit
			}
			m.EmptyDir.SizeLimit = sameQuantity(*e.SizeLimit, priorLimit)
		}
	}
	if h := v.HostPath; h != nil {
		m.HostPath = &hostPathModel{Path: types.StringValue(h.Path), Type: nullIfEmpty(h.Type)}
	}
	if c := v.ConfigMap; c != nil {
		m.ConfigMap = &nameModel{Name: types.StringValue(c.Name)}
	}
	if s := v.Secret; s != nil {
		m.Secret = &secretVolumeModel{SecretName: types.StringValue(s.SecretName)}
	}
	if p := v.Persistent; p != nil {
		m.Persistent = &nameModel{Name: types.StringValue(p.Name)}
	}
	return m
}

// flattenResourceList keeps the configuration's spelling of a quantity
// when the server's canonical form has the same value ("1000m" vs "1").
func flattenResourceList(l api.ResourceList, prior *resourceListModel) *resourceListModel {
	if len(l) == 0 && prior == nil {
		return nil
	}
	if prior == nil {
		prior = &resourceListModel{CPU: types.StringNull(), Memory: types.StringNull()}
	}
	one := func(name api.ResourceName, p types.String) types.String {
		q, ok := l[name]
		if !ok {
			return types.StringNull()
		}
		return sameQuantity(q, p)
	}
	return &resourceListModel{CPU: one(api.ResourceCPU, prior.CPU), Memory: one(api.ResourceMemory, prior.Memory)}
}

// sameQuantity is q as the prior spelled it when the values are equal.
func sameQuantity(q resource.Quantity, prior types.String) types.String {
	if pq, err := resource.ParseQuantity(prior.ValueString()); err == nil && !prior.IsNull() && pq.Equal(q) {
		return prior
	}
	return types.StringValue(q.String())
}

func flattenLabelSelector(ctx context.Context, s *api.LabelSelector, diags *diag.Diagnostics) *labelSelectorModel {
	if s == nil {
		return nil
	}
	m := &labelSelectorModel{MatchLabels: mapOrNull(ctx, s.MatchLabels, diags)}
	for _, e := range s.MatchExpressions {
		m.MatchExpressions = append(m.MatchExpressions, matchExpressionModel{Key: types.StringValue(e.Key), Operator: types.StringValue(e.Operator), Values: listOrNull(ctx, e.Values, diags)})
	}
	return m
}

func flattenNodeExpressions(ctx context.Context, exprs []api.NodeSelectorRequirement, diags *diag.Diagnostics) []matchExpressionModel {
	var out []matchExpressionModel
	for _, e := range exprs {
		out = append(out, matchExpressionModel{Key: types.StringValue(e.Key), Operator: types.StringValue(e.Operator), Values: listOrNull(ctx, e.Values, diags)})
	}
	return out
}

func flattenAffinity(ctx context.Context, a *api.Affinity, diags *diag.Diagnostics) *affinityModel {
	if a == nil {
		return nil
	}
	m := &affinityModel{}
	if n := a.NodeAffinity; n != nil {
		m.NodeAffinity = &nodeAffinityModel{}
		if r := n.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
			for _, t := range r.NodeSelectorTerms {
				m.NodeAffinity.Required = append(m.NodeAffinity.Required, nodeTermModel{MatchExpressions: flattenNodeExpressions(ctx, t.MatchExpressions, diags)})
			}
		}
		for _, p := range n.PreferredDuringSchedulingIgnoredDuringExecution {
			m.NodeAffinity.Preferred = append(m.NodeAffinity.Preferred, weightedNodeTermModel{
				Weight: types.Int64Value(int64(p.Weight)), MatchExpressions: flattenNodeExpressions(ctx, p.Preference.MatchExpressions, diags),
			})
		}
	}
	podTerms := func(req []api.PodAffinityTerm, pref []api.WeightedPodAffinityTerm) *podAffinityModel {
		out := &podAffinityModel{}
		for _, t := range req {
			out.Required = append(out.Required, podTermModel{
				TopologyKey: types.StringValue(t.TopologyKey), Namespaces: listOrNull(ctx, t.Namespaces, diags), LabelSelector: flattenLabelSelector(ctx, t.LabelSelector, diags),
			})
		}
		for _, t := range pref {
			out.Preferred = append(out.Preferred, weightedPodTermModel{
				Weight: types.Int64Value(int64(t.Weight)), TopologyKey: types.StringValue(t.PodAffinityTerm.TopologyKey),
				Namespaces: listOrNull(ctx, t.PodAffinityTerm.Namespaces, diags), LabelSelector: flattenLabelSelector(ctx, t.PodAffinityTerm.LabelSelector, diags),
			})
		}
		return out
	}
	if p := a.PodAffinity; p != nil {
		m.PodAffinity = podTerms(p.RequiredDuringSchedulingIgnoredDuringExecution, p.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if p := a.PodAntiAffinity; p != nil {
		m.PodAntiAffinity = podTerms(p.RequiredDuringSchedulingIgnoredDuringExecution, p.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	return m
}

// keepEmptyList is the state of an optional list: null when the server
// has none, unless the configuration spelled out an empty list.
func keepEmptyList(ctx context.Context, actual []string, prior types.List, diags *diag.Diagnostics) types.List {
	if len(actual) == 0 && !prior.IsNull() && !prior.IsUnknown() && len(prior.Elements()) == 0 {
		return prior
	}
	return listOrNull(ctx, actual, diags)
}

// nullIfEmpty is an optional string without a server default.
func nullIfEmpty(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}
