package api

import "testing"

func withAffinity(a *Affinity) func(*Pod) { return func(p *Pod) { p.Spec.Affinity = a } }

func requiredNodeTerms(terms ...NodeSelectorTerm) *Affinity {
	return &Affinity{NodeAffinity: &NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &NodeSelector{NodeSelectorTerms: terms}}}
}

func nodeExpr(key, op string, values ...string) NodeSelectorTerm {
	return NodeSelectorTerm{MatchExpressions: []NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func nodeField(key, op string, values ...string) NodeSelectorTerm {
	return NodeSelectorTerm{MatchFields: []NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func withTolerations(ts ...Toleration) func(*Pod) { return func(p *Pod) { p.Spec.Tolerations = ts } }

func withSpread(cs ...TopologySpreadConstraint) func(*Pod) {
	return func(p *Pod) { p.Spec.TopologySpreadConstraints = cs }
}

func TestValidateSchedulingInvalid(t *testing.T) {
	const (
		req   = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
		term0 = req + ".nodeSelectorTerms[0]"
		pref  = "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"
		paReq = "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution"
		aaReq = "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"
		aaPre = "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"
		tsc0  = "spec.topologySpreadConstraints[0]"
	)
	appSel := &LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	spread := func(mut func(*TopologySpreadConstraint)) TopologySpreadConstraint {
		c := TopologySpreadConstraint{MaxSkew: 1, TopologyKey: LabelZone, WhenUnsatisfiable: DoNotSchedule, LabelSelector: appSel}
		mut(&c)
		return c
	}
	runInvalidCases(t, []invalidCase{
		// node affinity
		{"required node affinity without terms", pod(withAffinity(requiredNodeTerms())), []string{"required " + req + ".nodeSelectorTerms"}},
		{"node selector term without requirements", pod(withAffinity(requiredNodeTerms(NodeSelectorTerm{}))),
			[]string{"required " + term0 + ".matchExpressions"}},
		{"node selector operator unknown", pod(withAffinity(requiredNodeTerms(nodeExpr(LabelZone, "Near", "a")))),
			[]string{"unsupported " + term0 + ".matchExpressions[0].operator"}},
		{"node selector operator in lowercase", pod(withAffinity(requiredNodeTerms(nodeExpr(LabelZone, "in", "a")))),
			[]string{"unsupported " + term0 + ".matchExpressions[0].operator"}},
		{"Gt with two values", pod(withAffinity(requiredNodeTerms(nodeExpr("cpu-count", NodeSelectorOpGt, "2", "4")))),
			[]string{"invalid " + term0 + ".matchExpressions[0].values"}},
		{"Lt with no value", pod(withAffinity(requiredNodeTerms(nodeExpr("cpu-count", NodeSelectorOpLt)))),
			[]string{"invalid " + term0 + ".matchExpressions[0].values"}},
		{"Gt with a non-integer", pod(withAffinity(requiredNodeTerms(nodeExpr("cpu-count", NodeSelectorOpGt, "ten")))),
			[]string{"invalid " + term0 + ".matchExpressions[0].values[0]"}},
		{"Lt with a decimal", pod(withAffinity(requiredNodeTerms(nodeExpr("cpu-count", NodeSelectorOpLt, "1.5")))),
			[]string{"invalid " + term0 + ".matchExpressions[0].values[0]"}},
		{"In without values", pod(withAffinity(requiredNodeTerms(nodeExpr(LabelZone, SelectorOpIn)))),
			[]string{"required " + term0 + ".matchExpressions[0].values"}},
		{"NotIn without values", pod(withAffinity(requiredNodeTerms(nodeExpr(LabelZone, SelectorOpNotIn)))),
			[]string{"required " + term0 + ".matchExpressions[0].values"}},
		{"Exists with values", pod(withAffinity(requiredNodeTerms(nodeExpr(LabelZone, SelectorOpExists, "a")))),
			[]string{"forbidden " + term0 + ".matchExpressions[0].values"}},
		{"DoesNotExist with values", pod(withAffinity(requiredNodeTerms(nodeExpr(LabelZone, SelectorOpDoesNotExist, "a")))),
			[]string{"forbidden " + term0 + ".matchExpressions[0].values"}},
		{"node selector key invalid", pod(withAffinity(requiredNodeTerms(nodeExpr("bad key", SelectorOpExists)))),
			[]string{"invalid " + term0 + ".matchExpressions[0].key"}},
		{"second term broken", pod(withAffinity(requiredNodeTerms(nodeExpr(LabelZone, SelectorOpExists), nodeExpr(LabelZone, "Near")))),
			[]string{"unsupported " + req + ".nodeSelectorTerms[1].matchExpressions[0].operator"}},
		{"match field on a label", pod(withAffinity(requiredNodeTerms(nodeField("metadata.labels", SelectorOpIn, "x")))),
			[]string{"unsupported " + term0 + ".matchFields[0].key"}},
		{"match field with two names", pod(withAffinity(requiredNodeTerms(nodeField("metadata.name", SelectorOpIn, "a", "b")))),
			[]string{"invalid " + term0 + ".matchFields[0].values"}},
		{"match field with Exists", pod(withAffinity(requiredNodeTerms(nodeField("metadata.name", SelectorOpExists)))),
			[]string{"unsupported " + term0 + ".matchFields[0].operator"}},
		{"preferred node weight 0", pod(withAffinity(&Affinity{NodeAffinity: &NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []PreferredSchedulingTerm{{Weight: 0, Preference: nodeExpr(LabelZone, SelectorOpIn, "a")}},
		}})), []string{"invalid " + pref + "[0].weight"}},
		{"preferred node weight 101", pod(withAffinity(&Affinity{NodeAffinity: &NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []PreferredSchedulingTerm{{Weight: 101, Preference: nodeExpr(LabelZone, SelectorOpIn, "a")}},
		}})), []string{"invalid " + pref + "[0].weight"}},
		{"preferred node term without requirements", pod(withAffinity(&Affinity{NodeAffinity: &NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []PreferredSchedulingTerm{{Weight: 10}},
		}})), []string{"required " + pref + "[0].preference.matchExpressions"}},

		// pod (anti-)affinity
		{"pod affinity without topology key", pod(withAffinity(&Affinity{PodAffinity: &PodAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []PodAffinityTerm{{LabelSelector: appSel}},
		}})), []string{"required " + paReq + "[0].topologyKey"}},
		{"pod affinity topology key invalid", pod(withAffinity(&Affinity{PodAffinity: &PodAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []PodAffinityTerm{{LabelSelector: appSel, TopologyKey: "bad key"}},
		}})), []string{"invalid " + paReq + "[0].topologyKey"}},
		{"pod affinity namespace invalid", pod(withAffinity(&Affinity{PodAffinity: &PodAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []PodAffinityTerm{{LabelSelector: appSel, TopologyKey: LabelZone, Namespaces: []string{"default", "Team_A"}}},
		}})), []string{"invalid " + paReq + "[0].namespaces[1]"}},
		{"pod anti-affinity weight 0", pod(withAffinity(&Affinity{PodAntiAffinity: &PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []WeightedPodAffinityTerm{{PodAffinityTerm: PodAffinityTerm{LabelSelector: appSel, TopologyKey: LabelHostname}}},
		}})), []string{"invalid " + aaPre + "[0].weight"}},
		{"pod anti-affinity preferred term without topology key", pod(withAffinity(&Affinity{PodAntiAffinity: &PodAntiAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []WeightedPodAffinityTerm{{Weight: 50, PodAffinityTerm: PodAffinityTerm{LabelSelector: appSel}}},
		}})), []string{"required " + aaPre + "[0].podAffinityTerm.topologyKey"}},
		{"pod anti-affinity selector operator unknown", pod(withAffinity(&Affinity{PodAntiAffinity: &PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []PodAffinityTerm{{TopologyKey: LabelHostname,
				LabelSelector: &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: "Has"}}}}},
		}})), []string{"unsupported " + aaReq + "[0].labelSelector.matchExpressions[0].operator"}},
		{"pod anti-affinity selector In without values", pod(withAffinity(&Affinity{PodAntiAffinity: &PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []PodAffinityTerm{{TopologyKey: LabelHostname,
				LabelSelector: &LabelSelector{MatchExpressions: []LabelSelectorRequirement{{Key: "app", Operator: SelectorOpIn}}}}},
		}})), []string{"invalid " + aaReq + "[0].labelSelector.matchExpressions[0]"}},
		{"pod anti-affinity selector label value invalid", pod(withAffinity(&Affinity{PodAntiAffinity: &PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []PodAffinityTerm{{TopologyKey: LabelHostname,
				LabelSelector: &LabelSelector{MatchLabels: map[string]string{"app": "web!"}}}},
		}})), []string{"invalid " + aaReq + `[0].labelSelector.matchLabels["app"]`}},

		// tolerations
		{"toleration operator unknown", pod(withTolerations(Toleration{Key: "dedicated", Operator: "Like", Value: "gpu"})),
			[]string{"unsupported spec.tolerations[0].operator"}},
		{"toleration operator empty when not defaulted", pod(withTolerations(Toleration{Key: "dedicated", Value: "gpu"})),
			[]string{"unsupported spec.tolerations[0].operator"}},
		{"toleration effect unknown", pod(withTolerations(Toleration{Key: "dedicated", Operator: TolerationOpEqual, Value: "gpu", Effect: "NoRun"})),
			[]string{"unsupported spec.tolerations[0].effect"}},
		{"Exists toleration with a value", pod(withTolerations(Toleration{Key: "dedicated", Operator: TolerationOpExists, Value: "gpu"})),
			[]string{"invalid spec.tolerations[0].value"}},
		{"Equal toleration without a key", pod(withTolerations(Toleration{Operator: TolerationOpEqual, Value: "gpu"})),
			[]string{"invalid spec.tolerations[0].operator"}},
		{"toleration seconds on NoSchedule", pod(withTolerations(Toleration{Key: TaintNodeNotReady, Operator: TolerationOpExists,
			Effect: TaintNoSchedule, TolerationSeconds: Ptr[int64](300)})), []string{"invalid spec.tolerations[0].effect"}},
		{"toleration seconds without an effect", pod(withTolerations(Toleration{Key: TaintNodeNotReady, Operator: TolerationOpExists,
			TolerationSeconds: Ptr[int64](300)})), []string{"invalid spec.tolerations[0].effect"}},
		{"toleration key invalid", pod(withTolerations(Toleration{Key: "bad key", Operator: TolerationOpExists})),
			[]string{"invalid spec.tolerations[0].key"}},

		// topology spread
		{"max skew 0", pod(withSpread(spread(func(c *TopologySpreadConstraint) { c.MaxSkew = 0 }))), []string{"invalid " + tsc0 + ".maxSkew"}},
		{"spread without topology key", pod(withSpread(spread(func(c *TopologySpreadConstraint) { c.TopologyKey = "" }))),
			[]string{"required " + tsc0 + ".topologyKey"}},
		{"spread topology key invalid", pod(withSpread(spread(func(c *TopologySpreadConstraint) { c.TopologyKey = "/zone" }))),
			[]string{"invalid " + tsc0 + ".topologyKey"}},
		{"whenUnsatisfiable unknown", pod(withSpread(spread(func(c *TopologySpreadConstraint) { c.WhenUnsatisfiable = "Maybe" }))),
			[]string{"unsupported " + tsc0 + ".whenUnsatisfiable"}},
		{"whenUnsatisfiable missing", pod(withSpread(spread(func(c *TopologySpreadConstraint) { c.WhenUnsatisfiable = "" }))),
			[]string{"unsupported " + tsc0 + ".whenUnsatisfiable"}},
		{"spread selector key invalid", pod(withSpread(spread(func(c *TopologySpreadConstraint) {
			c.LabelSelector = &LabelSelector{MatchLabels: map[string]string{"bad key": "x"}}
		}))), []string{"invalid " + tsc0 + `.labelSelector.matchLabels["bad key"]`}},
		{"second spread constraint broken", pod(withSpread(
			spread(func(*TopologySpreadConstraint) {}),
			spread(func(c *TopologySpreadConstraint) { c.MaxSkew = -1; c.TopologyKey = "" }))),
			[]string{"invalid spec.topologySpreadConstraints[1].maxSkew", "required spec.topologySpreadConstraints[1].topologyKey"}},
	})
}
