package convert

import "github.com/maestro-dev/maestro/engine/api"

// Conversions of namespace, config_map, secret, autoscaler, volume and
// service.

func init() {
	converters["namespace"] = converter{from: namespaceFrom, to: namespaceTo}
	converters["config_map"] = converter{from: configMapFrom, to: configMapTo}
	converters["secret"] = converter{from: secretFrom, to: secretTo}
	converters["volume"] = converter{from: volumeFrom, to: volumeTo}
	converters["service"] = converter{from: serviceFrom, to: serviceTo}
	converters["autoscaler"] = converter{from: autoscalerFrom, to: autoscalerTo}
}

// Every kind has the metadata block (issue 15's one shape for every
// resource): namespace, config map and secret keep their payload beside
// it, as the API does, the autoscaler in its spec block.

func namespaceFrom(r *reader) api.Object {
	ns := &api.Namespace{}
	readMetaBlockOf(r, &ns.ObjectMeta, false)
	return ns
}

func namespaceTo(obj api.Object, out map[string]any) {
	writeMetaBlockOf(out, obj.GetObjectMeta(), false)
}

func configMapFrom(r *reader) api.Object {
	cm := &api.ConfigMap{}
	readMetaBlock(r, &cm.ObjectMeta)
	cm.Data = r.strMap("data")
	return cm
}

func configMapTo(obj api.Object, out map[string]any) {
	cm := obj.(*api.ConfigMap)
	writeMetaBlock(out, &cm.ObjectMeta)
	setMap(out, "data", cm.Data)
}

// secretFrom reads data and data_wo into the secret's data (the CLI keeps
// no state, so write-only values are simply sent; data_wo_version has
// nothing to say to it).
func secretFrom(r *reader) api.Object {
	s := &api.Secret{}
	readMetaBlock(r, &s.ObjectMeta)
	s.Type = r.str("type")
	data := r.strMap("data")
	for k, v := range r.strMap("data_wo") {
		if data == nil {
			data = map[string]string{}
		}
		data[k] = v
	}
	r.ignore("data_wo_version")
	if data != nil {
		s.Data = make(map[string][]byte, len(data))
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
	}
	return s
}

func secretTo(obj api.Object, out map[string]any) {
	s := obj.(*api.Secret)
	writeMetaBlock(out, &s.ObjectMeta)
	setStr(out, "type", s.Type)
	if len(s.Data) > 0 {
		data := make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = string(v)
		}
		setMap(out, "data", data)
	}
}

func volumeFrom(r *reader) api.Object {
	v := &api.PersistentVolume{}
	readMetaBlock(r, &v.ObjectMeta)
	r.with("spec", func(s *reader) {
		v.Spec.ReclaimPolicy = s.str("reclaim_policy")
		v.Spec.NodeName = s.str("node_name")
	})
	return v
}

func volumeTo(obj api.Object, out map[string]any) {
	v := obj.(*api.PersistentVolume)
	writeMetaBlock(out, &v.ObjectMeta)
	spec := map[string]any{}
	setStr(spec, "reclaim_policy", v.Spec.ReclaimPolicy)
	setStr(spec, "node_name", v.Spec.NodeName)
	if len(spec) > 0 {
		out["spec"] = spec
	}
}

func serviceFrom(r *reader) api.Object {
	svc := &api.Service{}
	readMetaBlock(r, &svc.ObjectMeta)
	if !r.with("spec", func(s *reader) {
		sp := &svc.Spec
		sp.Type = s.str("type")
		sp.Selector = s.strMap("selector")
		sp.SessionAffinity = s.str("session_affinity")
		sp.ClusterIP = s.str("cluster_ip")
		sp.Ports = []api.ServicePort{}
		s.each("port", func(p *reader) {
			port := api.ServicePort{Name: p.str("name"), Protocol: api.Protocol(p.str("protocol")), Port: p.int32("port"), NodePort: p.int32("node_port")}
			if tp := p.optStr("target_port"); tp != nil {
				port.TargetPort = intOrString(*tp)
			}
			sp.Ports = append(sp.Ports, port)
		})
	}) {
		r.fail("spec", "required block is missing (ports and selector)")
	}
	return svc
}

func serviceTo(obj api.Object, out map[string]any) {
	svc := obj.(*api.Service)
	writeMetaBlock(out, &svc.ObjectMeta)
	sp := &svc.Spec
	spec := map[string]any{}
	setStr(spec, "type", sp.Type)
	setMap(spec, "selector", sp.Selector)
	setStr(spec, "session_affinity", sp.SessionAffinity)
	setStr(spec, "cluster_ip", sp.ClusterIP)
	var ports []any
	for _, p := range sp.Ports {
		pm := map[string]any{}
		setStr(pm, "name", p.Name)
		setStr(pm, "protocol", string(p.Protocol))
		setInt(pm, "port", int64(p.Port))
		if !p.TargetPort.IsZero() {
			pm["target_port"] = p.TargetPort.String()
		}
		if p.NodePort != 0 {
			setInt(pm, "node_port", int64(p.NodePort))
		}
		ports = append(ports, pm)
	}
	setBlocks(spec, "port", ports)
	out["spec"] = spec
}

func autoscalerFrom(r *reader) api.Object {
	a := &api.Autoscaler{}
	readMetaBlock(r, &a.ObjectMeta)
	if !r.with("spec", func(s *reader) { autoscalerSpecFrom(s, &a.Spec) }) {
		r.fail("spec", "required block is missing (max_replicas and the target)")
	}
	return a
}

func autoscalerSpecFrom(r *reader, s *api.AutoscalerSpec) {
	s.MaxReplicas = r.int32("max_replicas")
	s.MinReplicas = r.int32Ptr("min_replicas")
	if !r.with("target", func(t *reader) {
		s.ScaleTargetRef = api.ScaleTargetRef{Kind: "Deployment", Name: t.str("name")}
		if k := t.str("kind"); k != "" {
			s.ScaleTargetRef.Kind = k
		}
	}) {
		r.fail("target", "required block is missing (the name of the deployment to scale)")
	}
	r.each("metric", func(m *reader) {
		ms := api.MetricSpec{Resource: api.ResourceMetricSource{Name: api.ResourceName(m.str("resource"))}}
		if q := m.quantity("average_value"); q != nil {
			ms.Resource.Target = api.MetricTarget{Type: api.AverageValueMetric, AverageValue: q}
			m.ignore("average_utilization")
		} else {
			ms.Resource.Target = api.MetricTarget{Type: api.UtilizationMetric, AverageUtilization: m.int32Ptr("average_utilization")}
		}
		s.Metrics = append(s.Metrics, ms)
	})
	r.with("behavior", func(b *reader) {
		s.Behavior = &api.AutoscalerBehavior{ScaleUp: rulesFrom(b, "scale_up"), ScaleDown: rulesFrom(b, "scale_down")}
	})
}

func rulesFrom(r *reader, name string) *api.ScalingRules {
	var out *api.ScalingRules
	r.with(name, func(b *reader) {
		out = &api.ScalingRules{StabilizationWindowSeconds: b.int32Ptr("stabilization_window_seconds")}
		if sp := b.optStr("select_policy"); sp != nil {
			out.SelectPolicy = api.Ptr(api.ScalingPolicySelect(*sp))
		}
		b.each("policy", func(p *reader) {
			out.Policies = append(out.Policies, api.ScalingPolicy{Type: api.ScalingPolicyType(p.str("type")),
				Value: p.int32("value"), PeriodSeconds: p.int32("period_seconds")})
		})
	})
	return out
}

func autoscalerTo(obj api.Object, out map[string]any) {
	a := obj.(*api.Autoscaler)
	writeMetaBlock(out, &a.ObjectMeta)
	spec := map[string]any{}
	autoscalerSpecTo(&a.Spec, spec)
	out["spec"] = spec
}

func autoscalerSpecTo(s *api.AutoscalerSpec, out map[string]any) {
	target := map[string]any{}
	setStr(target, "kind", s.ScaleTargetRef.Kind)
	setStr(target, "name", s.ScaleTargetRef.Name)
	out["target"] = target
	setIntPtr(out, "min_replicas", s.MinReplicas)
	setInt(out, "max_replicas", int64(s.MaxReplicas))
	var metrics []any
	for _, m := range s.Metrics {
		mm := map[string]any{}
		setStr(mm, "resource", string(m.Resource.Name))
		setIntPtr(mm, "average_utilization", m.Resource.Target.AverageUtilization)
		setQuantity(mm, "average_value", m.Resource.Target.AverageValue)
		metrics = append(metrics, mm)
	}
	setBlocks(out, "metric", metrics)
	if b := s.Behavior; b != nil {
		bm := map[string]any{}
		setBlock(bm, "scale_up", rulesTo(b.ScaleUp))
		setBlock(bm, "scale_down", rulesTo(b.ScaleDown))
		out["behavior"] = bm
	}
}

func rulesTo(r *api.ScalingRules) map[string]any {
	if r == nil {
		return nil
	}
	out := map[string]any{}
	setIntPtr(out, "stabilization_window_seconds", r.StabilizationWindowSeconds)
	if r.SelectPolicy != nil {
		setStr(out, "select_policy", string(*r.SelectPolicy))
	}
	var ps []any
	for _, p := range r.Policies {
		ps = append(ps, map[string]any{"type": string(p.Type), "value": int64(p.Value), "period_seconds": int64(p.PeriodSeconds)})
	}
	setBlocks(out, "policy", ps)
	return out
}
