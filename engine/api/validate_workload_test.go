package api

import "testing"

func deployment(mut func(*Deployment)) *Deployment { return defaulted(baseDeployment(), mut) }

func replicaSet(mut func(*ReplicaSet)) *ReplicaSet { return defaulted(baseReplicaSet(), mut) }

func rollingUpdate(surge, unavailable *IntOrString) func(*Deployment) {
	return func(d *Deployment) {
		d.Spec.Strategy.RollingUpdate = &RollingUpdateDeployment{MaxSurge: surge, MaxUnavailable: unavailable}
	}
}

func TestValidateDeploymentInvalid(t *testing.T) {
	const ts = "spec.template.spec"
	runInvalidCases(t, []invalidCase{
		{"name with a dot", deployment(func(d *Deployment) { d.Name = "web.v2" }), []string{"invalid metadata.name"}},
		{"negative replicas", deployment(func(d *Deployment) { d.Spec.Replicas = Ptr[int32](-1) }), []string{"invalid spec.replicas"}},
		{"negative minReadySeconds", deployment(func(d *Deployment) { d.Spec.MinReadySeconds = -5 }), []string{"invalid spec.minReadySeconds"}},
		{"negative revisionHistoryLimit", deployment(func(d *Deployment) { d.Spec.RevisionHistoryLimit = Ptr[int32](-1) }),
			[]string{"invalid spec.revisionHistoryLimit"}},
		{"progress deadline not above minReadySeconds", deployment(func(d *Deployment) {
			d.Spec.MinReadySeconds = 60
			d.Spec.ProgressDeadlineSeconds = Ptr[int32](60)
		}), []string{"invalid spec.progressDeadlineSeconds"}},
		{"selector missing", deployment(func(d *Deployment) { d.Spec.Selector = nil }), []string{"required spec.selector"}},
		{"selector empty", deployment(func(d *Deployment) { d.Spec.Selector = &LabelSelector{} }), []string{"required spec.selector"}},
		{"selector not matching template labels", deployment(func(d *Deployment) {
			d.Spec.Selector = &LabelSelector{MatchLabels: map[string]string{"app": "api"}}
		}), []string{"invalid spec.template.metadata.labels"}},
		{"selector needing a label the template lacks", deployment(func(d *Deployment) {
			d.Spec.Selector.MatchLabels["tier"] = "frontend"
		}), []string{"invalid spec.template.metadata.labels"}},
		{"selector expression excluding the template", deployment(func(d *Deployment) {
			d.Spec.Selector = &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: SelectorOpNotIn, Values: []string{"web"}}}}
		}), []string{"invalid spec.template.metadata.labels"}},
		{"template without labels", deployment(func(d *Deployment) { d.Spec.Template.Labels = nil }),
			[]string{"invalid spec.template.metadata.labels"}},
		{"selector operator unknown", deployment(func(d *Deployment) {
			d.Spec.Selector = &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: "Equals", Values: []string{"web"}}}}
		}), []string{"unsupported spec.selector.matchExpressions[0].operator"}},
		{"selector label key invalid", deployment(func(d *Deployment) {
			d.Spec.Selector = &LabelSelector{MatchLabels: map[string]string{"bad key": "web"}}
		}), []string{`invalid spec.selector.matchLabels["bad key"]`}},
		{"template label value invalid", deployment(func(d *Deployment) {
			d.Spec.Selector.MatchLabels["tier"] = "front"
			d.Spec.Template.Labels["tier"] = "front end"
		}), []string{`invalid spec.template.metadata.labels["tier"]`}},
		{"template annotation key invalid", deployment(func(d *Deployment) {
			d.Spec.Template.Annotations = map[string]string{"a/b/c": "x"}
		}), []string{`invalid spec.template.metadata.annotations["a/b/c"]`}},
		{"template restart policy Never", deployment(func(d *Deployment) { d.Spec.Template.Spec.RestartPolicy = RestartNever }),
			[]string{"unsupported " + ts + ".restartPolicy"}},
		{"template restart policy OnFailure", deployment(func(d *Deployment) { d.Spec.Template.Spec.RestartPolicy = RestartOnFailure }),
			[]string{"unsupported " + ts + ".restartPolicy"}},
		{"template container without image", deployment(func(d *Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" }),
			[]string{"required " + ts + ".containers[0].image"}},
		{"template container port out of range", deployment(func(d *Deployment) {
			d.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort = 65536
		}), []string{"invalid " + ts + ".containers[0].ports[0].containerPort"}},
		{"template toleration operator unknown", deployment(func(d *Deployment) {
			d.Spec.Template.Spec.Tolerations = []Toleration{{Key: "k", Operator: "In"}}
		}), []string{"unsupported " + ts + ".tolerations[0].operator"}},
		{"template requests above limits", deployment(func(d *Deployment) {
			d.Spec.Template.Spec.Containers[0].Resources = ResourceRequirements{
				Requests: ResourceList{ResourceCPU: qty("1")}, Limits: ResourceList{ResourceCPU: qty("999m")}}
		}), []string{"invalid " + ts + ".containers[0].resources.requests[\"cpu\"]"}},

		// strategy
		{"strategy type unknown", deployment(func(d *Deployment) { d.Spec.Strategy.Type = "BlueGreen" }), []string{"unsupported spec.strategy.type"}},
		{"strategy type empty when not defaulted", deployment(func(d *Deployment) { d.Spec.Strategy.Type = "" }), []string{"unsupported spec.strategy.type"}},
		{"Recreate with rollingUpdate", deployment(func(d *Deployment) { d.Spec.Strategy.Type = RecreateStrategy }),
			[]string{"forbidden spec.strategy.rollingUpdate"}},
		{"maxSurge and maxUnavailable both 0", deployment(rollingUpdate(Ptr(FromInt(0)), Ptr(FromInt(0)))),
			[]string{"invalid spec.strategy.rollingUpdate.maxUnavailable"}},
		{"maxSurge 0% and maxUnavailable 0", deployment(rollingUpdate(Ptr(FromString("0%")), Ptr(FromInt(0)))),
			[]string{"invalid spec.strategy.rollingUpdate.maxUnavailable"}},
		{"maxUnavailable over 100%", deployment(rollingUpdate(Ptr(FromString("25%")), Ptr(FromString("150%")))),
			[]string{"invalid spec.strategy.rollingUpdate.maxUnavailable"}},
		{"maxSurge not a number or percentage", deployment(rollingUpdate(Ptr(FromString("lots")), Ptr(FromString("25%")))),
			[]string{"invalid spec.strategy.rollingUpdate.maxSurge"}},
		{"maxSurge number as a string", deployment(rollingUpdate(Ptr(FromString("2")), Ptr(FromString("25%")))),
			[]string{"invalid spec.strategy.rollingUpdate.maxSurge"}},
		{"negative maxSurge", deployment(rollingUpdate(Ptr(FromInt(-1)), Ptr(FromInt(1)))),
			[]string{"invalid spec.strategy.rollingUpdate.maxSurge"}},
		{"negative maxUnavailable percentage", deployment(rollingUpdate(Ptr(FromInt(1)), Ptr(FromString("-10%")))),
			[]string{"invalid spec.strategy.rollingUpdate.maxUnavailable"}},
		{"several errors at once", deployment(func(d *Deployment) {
			d.Spec.Replicas = Ptr[int32](-2)
			d.Spec.Strategy.Type = "Canary"
			d.Spec.Template.Spec.Containers[0].Name = ""
		}), []string{"invalid spec.replicas", "unsupported spec.strategy.type", "required " + ts + ".containers[0].name"}},
	})
}

// TestValidateRollingUpdateNotDefaulted: a rolling update with neither bound
// set, as a client may send it before defaulting, is reported, not a crash.
func TestValidateRollingUpdateNotDefaulted(t *testing.T) {
	d := deployment(rollingUpdate(nil, nil))
	assertErrors(t, Validate(d), []string{"invalid spec.strategy.rollingUpdate.maxUnavailable"})
	d = deployment(rollingUpdate(Ptr(FromInt(0)), nil))
	assertErrors(t, Validate(d), []string{"invalid spec.strategy.rollingUpdate.maxUnavailable"})
}

func TestValidateReplicaSetInvalid(t *testing.T) {
	runInvalidCases(t, []invalidCase{
		{"negative replicas", replicaSet(func(r *ReplicaSet) { r.Spec.Replicas = Ptr[int32](-3) }), []string{"invalid spec.replicas"}},
		{"negative minReadySeconds", replicaSet(func(r *ReplicaSet) { r.Spec.MinReadySeconds = -1 }), []string{"invalid spec.minReadySeconds"}},
		{"selector missing", replicaSet(func(r *ReplicaSet) { r.Spec.Selector = nil }), []string{"required spec.selector"}},
		{"selector not matching template", replicaSet(func(r *ReplicaSet) {
			r.Spec.Template.Labels = map[string]string{"app": "api"}
		}), []string{"invalid spec.template.metadata.labels"}},
		{"template restart policy OnFailure", replicaSet(func(r *ReplicaSet) { r.Spec.Template.Spec.RestartPolicy = RestartOnFailure }),
			[]string{"unsupported spec.template.spec.restartPolicy"}},
		{"template volume without source", replicaSet(func(r *ReplicaSet) {
			r.Spec.Template.Spec.Volumes = []Volume{{Name: "data"}}
		}), []string{"invalid spec.template.spec.volumes[0]"}},
		{"template duplicate container", replicaSet(func(r *ReplicaSet) {
			r.Spec.Template.Spec.Containers = append(r.Spec.Template.Spec.Containers, sidecar("app"))
		}), []string{"duplicate spec.template.spec.containers[1].name"}},
		{"namespace missing", replicaSet(func(r *ReplicaSet) { r.Namespace = "" }), []string{"required metadata.namespace"}},
	})
}
