package convert

import (
	"strconv"

	"github.com/maestro-dev/maestro/engine/api"
)

// Conversions of deployment and pod (their pod spec is in podspec.go).

func init() {
	converters["deployment"] = converter{from: deploymentFrom, to: deploymentTo}
	converters["pod"] = converter{from: podFrom, to: podTo}
}

// intOrString reads "3" as a count and "25%" or "http" as a string.
func intOrString(s string) api.IntOrString {
	if n, err := strconv.Atoi(s); err == nil {
		return api.FromInt(int32(n))
	}
	return api.FromString(s)
}

func deploymentFrom(r *reader) api.Object {
	d := &api.Deployment{}
	readMetaBlock(r, &d.ObjectMeta)
	r.ignore("wait_for_rollout", "unschedulable_timeout", "crash_loop_restarts") // the provider's rollout wait
	if !r.with("spec", func(s *reader) {
		d.Spec.Replicas = s.int32Ptr("replicas")
		d.Spec.MinReadySeconds = s.int32("min_ready_seconds")
		d.Spec.ProgressDeadlineSeconds = s.int32Ptr("progress_deadline_seconds")
		if !s.with("selector", func(sel *reader) {
			d.Spec.Selector = &api.LabelSelector{MatchLabels: sel.strMap("match_labels")}
		}) {
			s.fail("selector", "required block is missing (match_labels that the template's labels include)")
		}
		s.with("strategy", func(st *reader) {
			d.Spec.Strategy = api.DeploymentStrategy{Type: st.str("type")}
			st.with("rolling_update", func(ru *reader) {
				d.Spec.Strategy.RollingUpdate = &api.RollingUpdateDeployment{MaxSurge: optIntOrString(ru, "max_surge"), MaxUnavailable: optIntOrString(ru, "max_unavailable")}
			})
		})
		if !s.with("template", func(t *reader) {
			d.Spec.Template.Labels = t.strMap("labels")
			podSpecFrom(t, &d.Spec.Template.Spec)
		}) {
			s.fail("template", "required block is missing (labels and at least one container)")
		}
	}) {
		r.fail("spec", "required block is missing (selector and template)")
	}
	return d
}

func optIntOrString(r *reader, name string) *api.IntOrString {
	s := r.optStr(name)
	if s == nil {
		return nil
	}
	return api.Ptr(intOrString(*s))
}

func deploymentTo(obj api.Object, out map[string]any) {
	d := obj.(*api.Deployment)
	writeMetaBlock(out, &d.ObjectMeta)
	spec := map[string]any{}
	setIntPtr(spec, "replicas", d.Spec.Replicas)
	if d.Spec.MinReadySeconds != 0 {
		setInt(spec, "min_ready_seconds", int64(d.Spec.MinReadySeconds))
	}
	setIntPtr(spec, "progress_deadline_seconds", d.Spec.ProgressDeadlineSeconds)
	if sel := d.Spec.Selector; sel != nil {
		sm := map[string]any{}
		setMap(sm, "match_labels", sel.MatchLabels)
		spec["selector"] = sm
	}
	if st := d.Spec.Strategy; st.Type != "" || st.RollingUpdate != nil {
		sm := map[string]any{}
		setStr(sm, "type", st.Type)
		if ru := st.RollingUpdate; ru != nil {
			rm := map[string]any{}
			if ru.MaxSurge != nil {
				rm["max_surge"] = ru.MaxSurge.String()
			}
			if ru.MaxUnavailable != nil {
				rm["max_unavailable"] = ru.MaxUnavailable.String()
			}
			sm["rolling_update"] = rm
		}
		spec["strategy"] = sm
	}
	t := map[string]any{}
	setMap(t, "labels", d.Spec.Template.Labels)
	podSpecTo(&d.Spec.Template.Spec, t)
	spec["template"] = t
	out["spec"] = spec
}

func podFrom(r *reader) api.Object {
	p := &api.Pod{}
	readMetaBlock(r, &p.ObjectMeta)
	r.ignore("wait_for_rollout", "unschedulable_timeout", "crash_loop_restarts") // the provider's wait
	if !r.with("spec", func(s *reader) { podSpecFrom(s, &p.Spec) }) {
		r.fail("spec", "required block is missing (at least one container)")
	}
	return p
}

func podTo(obj api.Object, out map[string]any) {
	p := obj.(*api.Pod)
	writeMetaBlock(out, &p.ObjectMeta)
	spec := map[string]any{}
	podSpecTo(&p.Spec, spec)
	out["spec"] = spec
}
