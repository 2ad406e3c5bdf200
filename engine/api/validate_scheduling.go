package api

import (
	"math"
	"strconv"

	"github.com/maestro-dev/maestro/engine/api/labels"
)

func validateAffinity(a *Affinity, p Path) ErrorList {
	if a == nil {
		return nil
	}
	var errs ErrorList
	if na := a.NodeAffinity; na != nil {
		np := p.Child("nodeAffinity")
		if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
			rp := np.Child("requiredDuringSchedulingIgnoredDuringExecution")
			if len(req.NodeSelectorTerms) == 0 {
				errs = append(errs, Required(rp.Child("nodeSelectorTerms"), "at least one term"))
			}
			for i := range req.NodeSelectorTerms {
				errs = append(errs, validateNodeSelectorTerm(&req.NodeSelectorTerms[i], rp.Child("nodeSelectorTerms").Index(i))...)
			}
		}
		for i, pref := range na.PreferredDuringSchedulingIgnoredDuringExecution {
			pp := np.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(pref.Weight, pp.Child("weight"))...)
			errs = append(errs, validateNodeSelectorTerm(&pref.Preference, pp.Child("preference"))...)
		}
	}
	if pa := a.PodAffinity; pa != nil {
		errs = append(errs, validatePodAffinityTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("podAffinity"))...)
	}
	if pa := a.PodAntiAffinity; pa != nil {
		errs = append(errs, validatePodAffinityTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("podAntiAffinity"))...)
	}
	return errs
}

func validateWeight(w int32, p Path) ErrorList {
	if w < 1 || w > 100 {
		return ErrorList{Invalid(p, w, "must be between 1 and 100, inclusive")}
	}
	return nil
}

func validateNodeSelectorTerm(t *NodeSelectorTerm, p Path) ErrorList {
	var errs ErrorList
	if len(t.MatchExpressions)+len(t.MatchFields) == 0 {
		errs = append(errs, Required(p.Child("matchExpressions"), "a term needs at least one requirement"))
	}
	for i, r := range t.MatchExpressions {
		errs = append(errs, validateNodeSelectorRequirement(r, p.Child("matchExpressions").Index(i))...)
	}
	for i, r := range t.MatchFields {
		rp := p.Child("matchFields").Index(i)
		if r.Key != "metadata.name" {
			errs = append(errs, NotSupported(rp.Child("key"), r.Key, "metadata.name"))
		}
		if r.Operator != SelectorOpIn && r.Operator != SelectorOpNotIn {
			errs = append(errs, NotSupported(rp.Child("operator"), r.Operator, SelectorOpIn, SelectorOpNotIn))
		} else if len(r.Values) != 1 {
			errs = append(errs, Invalid(rp.Child("values"), len(r.Values), "must have exactly one value for a field requirement"))
		}
	}
	return errs
}

func validateNodeSelectorRequirement(r NodeSelectorRequirement, p Path) ErrorList {
	var errs ErrorList
	if err := labels.ValidateKey(r.Key); err != nil {
		errs = append(errs, Invalid(p.Child("key"), r.Key, err.Error()))
	}
	switch r.Operator {
	case SelectorOpIn, SelectorOpNotIn:
		if len(r.Values) == 0 {
			errs = append(errs, Required(p.Child("values"), "operator "+r.Operator+" needs at least one value"))
		}
	case SelectorOpExists, SelectorOpDoesNotExist:
		if len(r.Values) != 0 {
			errs = append(errs, Forbidden(p.Child("values"), "operator "+r.Operator+" takes no values"))
		}
	case NodeSelectorOpGt, NodeSelectorOpLt:
		if len(r.Values) != 1 {
			errs = append(errs, Invalid(p.Child("values"), len(r.Values), "operator "+r.Operator+" needs exactly one integer value"))
		} else if _, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil {
			errs = append(errs, Invalid(p.Child("values").Index(0), r.Values[0], "must be an integer"))
		}
	default:
		errs = append(errs, NotSupported(p.Child("operator"), r.Operator,
			SelectorOpIn, SelectorOpNotIn, SelectorOpExists, SelectorOpDoesNotExist, NodeSelectorOpGt, NodeSelectorOpLt))
	}
	return errs
}

func validatePodAffinityTerms(req []PodAffinityTerm, pref []WeightedPodAffinityTerm, p Path) ErrorList {
	var errs ErrorList
	for i := range req {
		errs = append(errs, validatePodAffinityTerm(&req[i], p.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i))...)
	}
	for i := range pref {
		pp := p.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
		errs = append(errs, validateWeight(pref[i].Weight, pp.Child("weight"))...)
		errs = append(errs, validatePodAffinityTerm(&pref[i].PodAffinityTerm, pp.Child("podAffinityTerm"))...)
	}
	return errs
}

func validatePodAffinityTerm(t *PodAffinityTerm, p Path) ErrorList {
	var errs ErrorList
	if t.TopologyKey == "" {
		errs = append(errs, Required(p.Child("topologyKey"), ""))
	} else if err := labels.ValidateKey(t.TopologyKey); err != nil {
		errs = append(errs, Invalid(p.Child("topologyKey"), t.TopologyKey, err.Error()))
	}
	errs = append(errs, ValidateLabelSelector(t.LabelSelector, p.Child("labelSelector"))...)
	for i, ns := range t.Namespaces {
		if msg := IsDNS1123Label(ns); msg != "" {
			errs = append(errs, Invalid(p.Child("namespaces").Index(i), ns, msg))
		}
	}
	return errs
}

func validateTolerations(ts []Toleration, p Path) ErrorList {
	var errs ErrorList
	for i, t := range ts {
		tp := p.Index(i)
		if t.Key != "" {
			if err := labels.ValidateKey(t.Key); err != nil {
				errs = append(errs, Invalid(tp.Child("key"), t.Key, err.Error()))
			}
		}
		switch t.Operator {
		case TolerationOpEqual:
			if t.Key == "" {
				errs = append(errs, Invalid(tp.Child("operator"), t.Operator, "an empty key needs operator Exists"))
			}
		case TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, Invalid(tp.Child("value"), t.Value, "must be empty when operator is Exists"))
			}
		default:
			errs = append(errs, NotSupported(tp.Child("operator"), t.Operator, TolerationOpEqual, TolerationOpExists))
		}
		switch t.Effect {
		case "", TaintNoSchedule, TaintPreferNoSchedule, TaintNoExecute:
		default:
			errs = append(errs, NotSupported(tp.Child("effect"), t.Effect, "", TaintNoSchedule, TaintPreferNoSchedule, TaintNoExecute))
		}
		errs = append(errs, validateOptionalSeconds(t.TolerationSeconds, math.MinInt64, tp.Child("tolerationSeconds"))...)
		if t.TolerationSeconds != nil && t.Effect != TaintNoExecute {
			errs = append(errs, Invalid(tp.Child("effect"), string(t.Effect), "must be NoExecute when tolerationSeconds is set"))
		}
	}
	return errs
}

// ValidateTaints checks a list of taints (a node's, a pool's, a join
// token's).
func ValidateTaints(ts []Taint, p Path) ErrorList { return validateTaints(ts, p) }

func validateTaints(ts []Taint, p Path) ErrorList {
	var errs ErrorList
	seen := map[string]bool{}
	for i, t := range ts {
		tp := p.Index(i)
		if err := labels.ValidateKey(t.Key); err != nil {
			errs = append(errs, Invalid(tp.Child("key"), t.Key, err.Error()))
		}
		if err := labels.ValidateValue(t.Value); err != nil {
			errs = append(errs, Invalid(tp.Child("value"), t.Value, err.Error()))
		}
		switch t.Effect {
		case TaintNoSchedule, TaintPreferNoSchedule, TaintNoExecute:
		default:
			errs = append(errs, NotSupported(tp.Child("effect"), t.Effect, TaintNoSchedule, TaintPreferNoSchedule, TaintNoExecute))
		}
		if id := t.Key + ":" + string(t.Effect); seen[id] {
			errs = append(errs, Duplicate(tp, id))
		} else {
			seen[id] = true
		}
	}
	return errs
}

func validateTopologySpread(cs []TopologySpreadConstraint, p Path) ErrorList {
	var errs ErrorList
	for i, c := range cs {
		cp := p.Index(i)
		errs = append(errs, validateAtLeast(c.MaxSkew, 1, cp.Child("maxSkew"))...)
		if c.TopologyKey == "" {
			errs = append(errs, Required(cp.Child("topologyKey"), ""))
		} else if err := labels.ValidateKey(c.TopologyKey); err != nil {
			errs = append(errs, Invalid(cp.Child("topologyKey"), c.TopologyKey, err.Error()))
		}
		if c.WhenUnsatisfiable != DoNotSchedule && c.WhenUnsatisfiable != ScheduleAnyway {
			errs = append(errs, NotSupported(cp.Child("whenUnsatisfiable"), c.WhenUnsatisfiable, DoNotSchedule, ScheduleAnyway))
		}
		errs = append(errs, ValidateLabelSelector(c.LabelSelector, cp.Child("labelSelector"))...)
	}
	return errs
}
