package convert

import (
	"github.com/maestro-dev/maestro/engine/api"
)

// The pod spec shared by the deployment's template and the pod's spec
// block (provider/podspec.go's expandPodSpec and flattenPodSpec).

func podSpecFrom(r *reader, s *api.PodSpec) {
	s.RestartPolicy = api.RestartPolicy(r.str("restart_policy"))
	s.TerminationGracePeriodSeconds = r.int64Ptr("termination_grace_period_seconds")
	s.NodeSelector = r.strMap("node_selector")
	r.each("container", func(c *reader) { s.Containers = append(s.Containers, containerFrom(c)) })
	r.each("volume", func(v *reader) { s.Volumes = append(s.Volumes, volumeSourceFrom(v)) })
	r.with("affinity", func(a *reader) { s.Affinity = affinityFrom(a) })
	r.each("toleration", func(t *reader) {
		s.Tolerations = append(s.Tolerations, api.Toleration{Key: t.str("key"), Operator: t.str("operator"), Value: t.str("value"),
			Effect: api.TaintEffect(t.str("effect")), TolerationSeconds: t.int64Ptr("toleration_seconds")})
	})
	r.each("topology_spread_constraint", func(t *reader) {
		s.TopologySpreadConstraints = append(s.TopologySpreadConstraints, api.TopologySpreadConstraint{
			MaxSkew: t.int32("max_skew"), TopologyKey: t.str("topology_key"), WhenUnsatisfiable: t.str("when_unsatisfiable"),
			LabelSelector: labelSelectorFrom(t, "label_selector"),
		})
	})
	podSecurityFrom(r, s)
}

func containerFrom(r *reader) api.Container {
	c := api.Container{Name: r.str("name"), Image: r.str("image"), Args: r.strList("args"), Command: r.strList("command")}
	r.each("env", func(e *reader) {
		ev := api.EnvVar{Name: e.str("name"), Value: e.str("value")}
		e.with("value_from", func(vf *reader) {
			ev.ValueFrom = &api.EnvVarSource{}
			vf.with("config_map_key_ref", func(k *reader) {
				ev.ValueFrom.ConfigMapKeyRef = &api.KeySelector{Name: k.str("name"), Key: k.str("key")}
			})
			vf.with("secret_key_ref", func(k *reader) { ev.ValueFrom.SecretKeyRef = &api.KeySelector{Name: k.str("name"), Key: k.str("key")} })
			vf.with("field_ref", func(f *reader) { ev.ValueFrom.FieldRef = &api.ObjectFieldSelector{FieldPath: f.str("field_path")} })
		})
		c.Env = append(c.Env, ev)
	})
	r.each("port", func(p *reader) {
		proto := api.Protocol(p.str("protocol"))
		if proto == "" {
			proto = api.ProtocolTCP
		}
		c.Ports = append(c.Ports, api.ContainerPort{Name: p.str("name"), ContainerPort: p.int32("container_port"), Protocol: proto})
	})
	r.with("resources", func(res *reader) {
		c.Resources.Requests = resourceListFrom(res, "requests")
		c.Resources.Limits = resourceListFrom(res, "limits")
	})
	r.each("volume_mount", func(vm *reader) {
		c.VolumeMounts = append(c.VolumeMounts, api.VolumeMount{Name: vm.str("name"), MountPath: vm.str("mount_path"), SubPath: vm.str("sub_path"), ReadOnly: vm.boolean("read_only")})
	})
	c.LivenessProbe = probeFrom(r, "liveness_probe")
	c.ReadinessProbe = probeFrom(r, "readiness_probe")
	c.StartupProbe = probeFrom(r, "startup_probe")
	containerExtrasFrom(r, &c)
	return c
}

func resourceListFrom(r *reader, name string) api.ResourceList {
	var out api.ResourceList
	r.with(name, func(l *reader) {
		for _, res := range []api.ResourceName{api.ResourceCPU, api.ResourceMemory} {
			if q := l.quantity(string(res)); q != nil {
				if out == nil {
					out = api.ResourceList{}
				}
				out[res] = *q
			}
		}
	})
	return out
}

func probeFrom(r *reader, name string) *api.Probe {
	var p *api.Probe
	r.with(name, func(b *reader) {
		p = &api.Probe{
			InitialDelaySeconds: b.int32("initial_delay_seconds"), PeriodSeconds: b.int32("period_seconds"), TimeoutSeconds: b.int32("timeout_seconds"),
			SuccessThreshold: b.int32("success_threshold"), FailureThreshold: b.int32("failure_threshold"),
		}
		b.with("http_get", func(h *reader) {
			p.HTTPGet = &api.HTTPGetAction{Path: h.str("path"), Port: intOrString(h.str("port")), Scheme: h.str("scheme")}
		})
		b.with("tcp_socket", func(t *reader) { p.TCPSocket = &api.TCPSocketAction{Port: intOrString(t.str("port"))} })
		b.with("exec", func(e *reader) { p.Exec = &api.ExecAction{Command: e.strList("command")} })
	})
	return p
}

func volumeSourceFrom(r *reader) api.Volume {
	v := api.Volume{Name: r.str("name")}
	r.with("empty_dir", func(e *reader) {
		v.EmptyDir = &api.EmptyDirVolumeSource{Medium: e.str("medium"), SizeLimit: e.quantity("size_limit")}
	})
	r.with("host_path", func(h *reader) { v.HostPath = &api.HostPathVolumeSource{Path: h.str("path"), Type: h.str("type")} })
	r.with("config_map", func(c *reader) { v.ConfigMap = &api.ConfigMapVolumeSource{Name: c.str("name")} })
	r.with("secret", func(s *reader) { v.Secret = &api.SecretVolumeSource{SecretName: s.str("secret_name")} })
	r.with("persistent", func(p *reader) { v.Persistent = &api.PersistentVolumeSource{Name: p.str("name")} })
	return v
}

func labelSelectorFrom(r *reader, name string) *api.LabelSelector {
	var sel *api.LabelSelector
	r.with(name, func(b *reader) {
		sel = &api.LabelSelector{MatchLabels: b.strMap("match_labels")}
		b.each("match_expression", func(e *reader) {
			sel.MatchExpressions = append(sel.MatchExpressions, api.LabelSelectorRequirement{Key: e.str("key"), Operator: e.str("operator"), Values: e.strList("values")})
		})
	})
	return sel
}

func nodeExpressionsFrom(r *reader) []api.NodeSelectorRequirement {
	var out []api.NodeSelectorRequirement
	r.each("match_expression", func(e *reader) {
		out = append(out, api.NodeSelectorRequirement{Key: e.str("key"), Operator: e.str("operator"), Values: e.strList("values")})
	})
	return out
}

func affinityFrom(r *reader) *api.Affinity {
	a := &api.Affinity{}
	r.with("node_affinity", func(n *reader) {
		a.NodeAffinity = &api.NodeAffinity{}
		for _, t := range n.blocks("required_term") {
			if a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
				a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &api.NodeSelector{}
			}
			req := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
			req.NodeSelectorTerms = append(req.NodeSelectorTerms, api.NodeSelectorTerm{MatchExpressions: nodeExpressionsFrom(t)})
			t.done()
		}
		n.each("preferred", func(p *reader) {
			a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
				api.PreferredSchedulingTerm{Weight: p.int32("weight"), Preference: api.NodeSelectorTerm{MatchExpressions: nodeExpressionsFrom(p)}})
		})
	})
	podTerms := func(b *reader) (req []api.PodAffinityTerm, pref []api.WeightedPodAffinityTerm) {
		term := func(t *reader) api.PodAffinityTerm {
			return api.PodAffinityTerm{TopologyKey: t.str("topology_key"), Namespaces: t.strList("namespaces"), LabelSelector: labelSelectorFrom(t, "label_selector")}
		}
		b.each("required", func(t *reader) { req = append(req, term(t)) })
		b.each("preferred", func(t *reader) {
			pref = append(pref, api.WeightedPodAffinityTerm{Weight: t.int32("weight"), PodAffinityTerm: term(t)})
		})
		return req, pref
	}
	r.with("pod_affinity", func(b *reader) {
		req, pref := podTerms(b)
		a.PodAffinity = &api.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: req, PreferredDuringSchedulingIgnoredDuringExecution: pref}
	})
	r.with("pod_anti_affinity", func(b *reader) {
		req, pref := podTerms(b)
		a.PodAntiAffinity = &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: req, PreferredDuringSchedulingIgnoredDuringExecution: pref}
	})
	return a
}

// --- API -> attributes ------------------------------------------------------

func podSpecTo(s *api.PodSpec, out map[string]any) {
	setStr(out, "restart_policy", string(s.RestartPolicy))
	setIntPtr(out, "termination_grace_period_seconds", s.TerminationGracePeriodSeconds)
	setMap(out, "node_selector", s.NodeSelector)
	var cs []any
	for i := range s.Containers {
		cs = append(cs, containerTo(&s.Containers[i]))
	}
	setBlocks(out, "container", cs)
	var vs []any
	for _, v := range s.Volumes {
		vs = append(vs, volumeSourceTo(v))
	}
	setBlocks(out, "volume", vs)
	if s.Affinity != nil {
		out["affinity"] = affinityTo(s.Affinity)
	}
	var ts []any
	for _, t := range s.Tolerations {
		tm := map[string]any{}
		setStr(tm, "key", t.Key)
		setStr(tm, "operator", t.Operator)
		setStr(tm, "value", t.Value)
		setStr(tm, "effect", string(t.Effect))
		setIntPtr(tm, "toleration_seconds", t.TolerationSeconds)
		ts = append(ts, tm)
	}
	setBlocks(out, "toleration", ts)
	var tsc []any
	for _, t := range s.TopologySpreadConstraints {
		tm := map[string]any{"max_skew": int64(t.MaxSkew)}
		setStr(tm, "topology_key", t.TopologyKey)
		setStr(tm, "when_unsatisfiable", t.WhenUnsatisfiable)
		setBlock(tm, "label_selector", labelSelectorTo(t.LabelSelector))
		tsc = append(tsc, tm)
	}
	setBlocks(out, "topology_spread_constraint", tsc)
	podSecurityTo(s, out)
}

func containerTo(c *api.Container) map[string]any {
	m := map[string]any{}
	setStr(m, "name", c.Name)
	setStr(m, "image", c.Image)
	setList(m, "args", c.Args)
	setList(m, "command", c.Command)
	var env []any
	for _, e := range c.Env {
		em := map[string]any{}
		setStr(em, "name", e.Name)
		setStr(em, "value", e.Value)
		if vf := e.ValueFrom; vf != nil {
			vm := map[string]any{}
			keyRef := func(k *api.KeySelector) map[string]any {
				if k == nil {
					return nil
				}
				return strBlock("name", k.Name, "key", k.Key)
			}
			setBlock(vm, "config_map_key_ref", keyRef(vf.ConfigMapKeyRef))
			setBlock(vm, "secret_key_ref", keyRef(vf.SecretKeyRef))
			if f := vf.FieldRef; f != nil {
				vm["field_ref"] = strBlock("field_path", f.FieldPath)
			}
			em["value_from"] = vm
		}
		env = append(env, em)
	}
	setBlocks(m, "env", env)
	var ports []any
	for _, p := range c.Ports {
		pm := map[string]any{"container_port": int64(p.ContainerPort)}
		setStr(pm, "name", p.Name)
		setStr(pm, "protocol", string(p.Protocol))
		ports = append(ports, pm)
	}
	setBlocks(m, "port", ports)
	if len(c.Resources.Requests)+len(c.Resources.Limits) > 0 {
		rm := map[string]any{}
		setBlock(rm, "requests", resourceListTo(c.Resources.Requests))
		setBlock(rm, "limits", resourceListTo(c.Resources.Limits))
		m["resources"] = rm
	}
	var mounts []any
	for _, vm := range c.VolumeMounts {
		mm := map[string]any{"read_only": vm.ReadOnly}
		setStr(mm, "name", vm.Name)
		setStr(mm, "mount_path", vm.MountPath)
		setStr(mm, "sub_path", vm.SubPath)
		mounts = append(mounts, mm)
	}
	setBlocks(m, "volume_mount", mounts)
	setBlock(m, "liveness_probe", probeTo(c.LivenessProbe))
	setBlock(m, "readiness_probe", probeTo(c.ReadinessProbe))
	setBlock(m, "startup_probe", probeTo(c.StartupProbe))
	containerExtrasTo(c, m)
	return m
}

func resourceListTo(l api.ResourceList) map[string]any {
	if len(l) == 0 {
		return nil
	}
	out := map[string]any{}
	for _, res := range []api.ResourceName{api.ResourceCPU, api.ResourceMemory} {
		if q, ok := l[res]; ok {
			out[string(res)] = q.String()
		}
	}
	return out
}

func probeTo(p *api.Probe) map[string]any {
	if p == nil {
		return nil
	}
	m := map[string]any{
		"initial_delay_seconds": int64(p.InitialDelaySeconds), "period_seconds": int64(p.PeriodSeconds), "timeout_seconds": int64(p.TimeoutSeconds),
		"success_threshold": int64(p.SuccessThreshold), "failure_threshold": int64(p.FailureThreshold),
	}
	if h := p.HTTPGet; h != nil {
		m["http_get"] = strBlock("path", h.Path, "port", h.Port.String(), "scheme", h.Scheme)
	}
	if t := p.TCPSocket; t != nil {
		m["tcp_socket"] = strBlock("port", t.Port.String())
	}
	if e := p.Exec; e != nil {
		em := map[string]any{}
		setList(em, "command", e.Command)
		m["exec"] = em
	}
	return m
}

func volumeSourceTo(v api.Volume) map[string]any {
	m := map[string]any{"name": v.Name}
	if e := v.EmptyDir; e != nil {
		em := map[string]any{}
		setStr(em, "medium", e.Medium)
		setQuantity(em, "size_limit", e.SizeLimit)
		m["empty_dir"] = em
	}
	if h := v.HostPath; h != nil {
		m["host_path"] = strBlock("path", h.Path, "type", h.Type)
	}
	if c := v.ConfigMap; c != nil {
		m["config_map"] = strBlock("name", c.Name)
	}
	if s := v.Secret; s != nil {
		m["secret"] = strBlock("secret_name", s.SecretName)
	}
	if p := v.Persistent; p != nil {
		m["persistent"] = strBlock("name", p.Name)
	}
	return m
}

func labelSelectorTo(s *api.LabelSelector) map[string]any {
	if s == nil {
		return nil
	}
	m := map[string]any{}
	setMap(m, "match_labels", s.MatchLabels)
	var exprs []any
	for _, e := range s.MatchExpressions {
		em := map[string]any{"key": e.Key, "operator": e.Operator}
		setList(em, "values", e.Values)
		exprs = append(exprs, em)
	}
	setBlocks(m, "match_expression", exprs)
	return m
}

func nodeExpressionsTo(exprs []api.NodeSelectorRequirement) []any {
	var out []any
	for _, e := range exprs {
		em := map[string]any{"key": e.Key, "operator": e.Operator}
		setList(em, "values", e.Values)
		out = append(out, em)
	}
	return out
}

func affinityTo(a *api.Affinity) map[string]any {
	m := map[string]any{}
	if n := a.NodeAffinity; n != nil {
		nm := map[string]any{}
		if r := n.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
			var terms []any
			for _, t := range r.NodeSelectorTerms {
				tm := map[string]any{}
				setBlocks(tm, "match_expression", nodeExpressionsTo(t.MatchExpressions))
				terms = append(terms, tm)
			}
			setBlocks(nm, "required_term", terms)
		}
		var prefs []any
		for _, p := range n.PreferredDuringSchedulingIgnoredDuringExecution {
			pm := map[string]any{"weight": int64(p.Weight)}
			setBlocks(pm, "match_expression", nodeExpressionsTo(p.Preference.MatchExpressions))
			prefs = append(prefs, pm)
		}
		setBlocks(nm, "preferred", prefs)
		m["node_affinity"] = nm
	}
	term := func(t api.PodAffinityTerm, out map[string]any) map[string]any {
		setStr(out, "topology_key", t.TopologyKey)
		setList(out, "namespaces", t.Namespaces)
		setBlock(out, "label_selector", labelSelectorTo(t.LabelSelector))
		return out
	}
	podTerms := func(req []api.PodAffinityTerm, pref []api.WeightedPodAffinityTerm) map[string]any {
		pm := map[string]any{}
		var rs, ps []any
		for _, t := range req {
			rs = append(rs, term(t, map[string]any{}))
		}
		for _, t := range pref {
			ps = append(ps, term(t.PodAffinityTerm, map[string]any{"weight": int64(t.Weight)}))
		}
		setBlocks(pm, "required", rs)
		setBlocks(pm, "preferred", ps)
		return pm
	}
	if p := a.PodAffinity; p != nil {
		m["pod_affinity"] = podTerms(p.RequiredDuringSchedulingIgnoredDuringExecution, p.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	if p := a.PodAntiAffinity; p != nil {
		m["pod_anti_affinity"] = podTerms(p.RequiredDuringSchedulingIgnoredDuringExecution, p.PreferredDuringSchedulingIgnoredDuringExecution)
	}
	return m
}
