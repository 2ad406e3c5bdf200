package scheduler

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/maestro-dev/maestro/engine/api"
)

// requiredNodeAffinity is a pod's nodeSelector and required node affinity,
// compiled once per pod: both must match.
type requiredNodeAffinity struct {
	selector map[string]string
	// terms are ORed; hasTerms distinguishes "no required affinity" from
	// "required affinity whose terms cannot match".
	terms    []nodeSelectorTerm
	hasTerms bool
}

// nodeSelectorTerm ANDs its label requirements and metadata.name fields.
type nodeSelectorTerm struct {
	exprs  []nodeRequirement
	fields []nodeRequirement
}

type nodeRequirement struct {
	key    string
	op     string
	values []string
	num    int64 // Gt and Lt
	bad    bool  // a requirement that can never match (unparseable Gt/Lt value)
}

type weightedNodeTerm struct {
	weight int64
	term   nodeSelectorTerm
}

// Matches reports whether node n satisfies the nodeSelector and one of the
// required terms.
func (a *requiredNodeAffinity) Matches(n *NodeInfo) bool {
	for k, v := range a.selector {
		if got, ok := n.labels[k]; !ok || got != v {
			return false
		}
	}
	if !a.hasTerms {
		return true
	}
	for i := range a.terms {
		if a.terms[i].matches(n) {
			return true
		}
	}
	return false
}

// matches reports whether every requirement of the term holds. A term
// without requirements matches nothing, as in Kubernetes.
func (t *nodeSelectorTerm) matches(n *NodeInfo) bool {
	if len(t.exprs)+len(t.fields) == 0 {
		return false
	}
	for i := range t.exprs {
		r := &t.exprs[i]
		v, ok := n.labels[r.key]
		if !r.matches(v, ok) {
			return false
		}
	}
	for i := range t.fields {
		// metadata.name is the only supported field (validation enforces it).
		if !t.fields[i].matches(n.Name, true) {
			return false
		}
	}
	return true
}

func (r *nodeRequirement) matches(v string, present bool) bool {
	if r.bad {
		return false
	}
	switch r.op {
	case api.SelectorOpIn:
		return present && slices.Contains(r.values, v)
	case api.SelectorOpNotIn:
		return !present || !slices.Contains(r.values, v)
	case api.SelectorOpExists:
		return present
	case api.SelectorOpDoesNotExist:
		return !present
	case api.NodeSelectorOpGt, api.NodeSelectorOpLt:
		if !present {
			return false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		if r.op == api.NodeSelectorOpGt {
			return n > r.num
		}
		return n < r.num
	}
	return false
}

// compileNodeAffinity compiles the required and preferred node affinity of
// a pod. The required part is nil when the pod constrains nothing.
func compileNodeAffinity(spec *api.PodSpec) (*requiredNodeAffinity, []weightedNodeTerm, error) {
	var errs []error
	var req *requiredNodeAffinity
	if len(spec.NodeSelector) > 0 {
		req = &requiredNodeAffinity{selector: spec.NodeSelector}
	}
	var preferred []weightedNodeTerm
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil {
		if r := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
			if req == nil {
				req = &requiredNodeAffinity{}
			}
			req.hasTerms = true
			for i := range r.NodeSelectorTerms {
				t, err := compileNodeTerm(&r.NodeSelectorTerms[i])
				errs = append(errs, err)
				req.terms = append(req.terms, t)
			}
		}
		for i, p := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			t, err := compileNodeTerm(&p.Preference)
			if err != nil {
				errs = append(errs, fmt.Errorf("preferred node affinity %d: %w", i, err))
			}
			preferred = append(preferred, weightedNodeTerm{weight: int64(p.Weight), term: t})
		}
	}
	return req, preferred, errors.Join(errs...)
}

func compileNodeTerm(t *api.NodeSelectorTerm) (nodeSelectorTerm, error) {
	var out nodeSelectorTerm
	var errs []error
	compile := func(r api.NodeSelectorRequirement) nodeRequirement {
		nr := nodeRequirement{key: r.Key, op: r.Operator, values: r.Values}
		switch r.Operator {
		case api.NodeSelectorOpGt, api.NodeSelectorOpLt:
			if len(r.Values) != 1 {
				nr.bad = true
				errs = append(errs, fmt.Errorf("node affinity %s %s needs one value", r.Key, r.Operator))
				break
			}
			n, err := strconv.ParseInt(r.Values[0], 10, 64)
			if err != nil {
				nr.bad = true
				errs = append(errs, fmt.Errorf("node affinity %s %s: %w", r.Key, r.Operator, err))
			}
			nr.num = n
		case api.SelectorOpIn, api.SelectorOpNotIn, api.SelectorOpExists, api.SelectorOpDoesNotExist:
		default:
			nr.bad = true
			errs = append(errs, fmt.Errorf("node affinity %s: unknown operator %q", r.Key, r.Operator))
		}
		return nr
	}
	for _, r := range t.MatchExpressions {
		out.exprs = append(out.exprs, compile(r))
	}
	for _, r := range t.MatchFields {
		nr := compile(r)
		if r.Key != "metadata.name" {
			nr.bad = true
			errs = append(errs, fmt.Errorf("node affinity field %q is not supported", r.Key))
		}
		out.fields = append(out.fields, nr)
	}
	return out, errors.Join(errs...)
}

// tolerates reports whether any toleration lets the pod ignore the taint.
func tolerates(tols []api.Toleration, t *api.Taint) bool {
	for i := range tols {
		if toleratesOne(&tols[i], t) {
			return true
		}
	}
	return false
}

func toleratesOne(tol *api.Toleration, t *api.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	// An empty key (only valid with Exists) matches every key.
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case api.TolerationOpExists:
		return true
	case api.TolerationOpEqual, "":
		return tol.Value == t.Value
	}
	return false
}
