// Package fieldpath maps the API's field paths
// (spec.template.spec.containers[0].resources.requests["cpu"]) to the
// attribute paths of the provider's resources and of manifests
// (spec.template.container[0].resources.requests.cpu): a per-kind table
// of where an object's parts sit in the resource, then renames shared by
// every kind (list fields are singular blocks, Kubernetes' long affinity
// names are short, camelCase is snake_case). The provider's plan-time
// validation and `maestro plan` report the API's errors at these paths.
package fieldpath

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Step is one step of a field path: a field name, a list index, or a
// map key. In patterns, index -1 matches any index.
type Step struct {
	Name  string
	Index int
	Key   string
	Kind  StepKind
}

// StepKind says what a Step is.
type StepKind int

// Kinds of steps.
const (
	StepName StepKind = iota
	StepIndex
	StepKey
)

// parseFieldPath splits an API field path (`a.b[0].c["k"]`, `c[k]`, and
// with `[*]` for patterns) into steps.
func parseFieldPath(s string) []Step {
	var out []Step
	for s != "" {
		switch s[0] {
		case '.':
			s = s[1:]
		case '[':
			end := closingBracket(s)
			inner := s[1:end]
			s = s[min(end+1, len(s)):]
			if inner == "*" {
				out = append(out, Step{Kind: StepIndex, Index: -1})
			} else if n, err := strconv.Atoi(inner); err == nil {
				out = append(out, Step{Kind: StepIndex, Index: n})
			} else if k, err := strconv.Unquote(inner); err == nil {
				out = append(out, Step{Kind: StepKey, Key: k})
			} else {
				out = append(out, Step{Kind: StepKey, Key: inner})
			}
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			out = append(out, Step{Kind: StepName, Name: s[:end]})
			s = s[end:]
		}
	}
	return out
}

// closingBracket is the index of the "]" closing the "[" at s[0], past
// any quoted key (which may hold "]"); len(s) when there is none.
func closingBracket(s string) int {
	inQuote := false
	for i := 1; i < len(s); i++ {
		switch {
		case inQuote && s[i] == '\\':
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case !inQuote && s[i] == ']':
			return i
		}
	}
	return len(s)
}

// fieldRule rewrites the API field path prefix from into the attribute
// path prefix to; a `[*]` in from matches any index, which fills the
// `[*]` at the same place among to's wildcards.
type fieldRule struct{ from, to string }

// nestedMeta are the rules of kinds with metadata and spec blocks: every
// kind has the metadata block; namespace, config map and secret keep their
// payload beside it, with no spec, as the API does.
var nestedMeta = []fieldRule{{"metadata", "metadata"}, {"spec", "spec"}}

// fieldPrefixes are, per API kind, where the object's fields sit in the
// resource, most specific first. A kind not listed maps field names only.
var fieldPrefixes = map[string][]fieldRule{
	"Deployment": append([]fieldRule{
		{"spec.template.metadata", "spec.template"},
		{"spec.template.spec", "spec.template"},
	}, nestedMeta...),
	"Pod":              nestedMeta,
	"Service":          nestedMeta,
	"PersistentVolume": nestedMeta,
	"Namespace":        nestedMeta,
	"ConfigMap":        nestedMeta,
	"Secret":           nestedMeta,
	"Autoscaler": append([]fieldRule{
		{"spec.scaleTargetRef", "spec.target"},
		{"spec.metrics[*].resource.name", "spec.metric[*].resource"},
		{"spec.metrics[*].resource.target.averageUtilization", "spec.metric[*].average_utilization"},
		{"spec.metrics[*].resource.target.averageValue", "spec.metric[*].average_value"},
		{"spec.metrics[*]", "spec.metric[*]"},
	}, nestedMeta...),
}

// sequenceRenames rename runs of API field names that the resources spell
// differently (Kubernetes' affinity names), longest first; an empty to
// drops the run (a level the resources flatten away).
var sequenceRenames = []struct {
	from []string
	to   string
}{
	{[]string{"requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"}, "required_term"},
	{[]string{"requiredDuringSchedulingIgnoredDuringExecution"}, "required"},
	{[]string{"preferredDuringSchedulingIgnoredDuringExecution"}, "preferred"},
	{[]string{"preference"}, ""},
	{[]string{"podAffinityTerm"}, ""},
}

// fieldRenames are API field names whose attribute is not their snake
// case: list fields are repeated blocks named in the singular.
var fieldRenames = map[string]string{
	"containers":                "container",
	"initContainers":            "init_container",
	"volumes":                   "volume",
	"ports":                     "port",
	"volumeMounts":              "volume_mount",
	"tolerations":               "toleration",
	"topologySpreadConstraints": "topology_spread_constraint",
	"matchExpressions":          "match_expression",
	"policies":                  "policy",
	"taints":                    "taint",
	"metrics":                   "metric",
}

// keyedAttributes are maps in the API that are blocks of named attributes
// in the resources (requests { cpu = ... }): their keys are attribute names.
var keyedAttributes = map[string]bool{"requests": true, "limits": true}

// AttrPath maps an API field path of an object of kind to the steps of
// the attribute path of its resource. It is pure; a caller trims what the
// configuration does not have.
func AttrPath(kind, field string) []Step {
	steps := parseFieldPath(field)
	var out []Step
	for _, rule := range fieldPrefixes[kind] {
		if rest, mapped, ok := applyRule(rule, steps); ok {
			steps, out = rest, mapped
			break
		}
	}
	for len(steps) > 0 {
		s := steps[0]
		if s.Kind != StepName {
			if s.Kind == StepKey && len(out) > 0 && keyedAttributes[out[len(out)-1].Name] {
				s = Step{Kind: StepName, Name: s.Key}
			}
			out = append(out, s)
			steps = steps[1:]
			continue
		}
		if n, to, ok := renameSequence(steps); ok {
			if to != "" {
				out = append(out, Step{Kind: StepName, Name: to})
			}
			steps = steps[n:]
			continue
		}
		name, ok := fieldRenames[s.Name]
		if !ok {
			name = snakeCase(s.Name)
		}
		out = append(out, Step{Kind: StepName, Name: name})
		steps = steps[1:]
	}
	return out
}

// applyRule matches rule.from at the start of steps and returns the rest
// and the mapped prefix.
func applyRule(rule fieldRule, steps []Step) (rest, mapped []Step, ok bool) {
	from := parseFieldPath(rule.from)
	if len(from) > len(steps) {
		return nil, nil, false
	}
	var indexes []int
	for i, f := range from {
		s := steps[i]
		switch {
		case f.Kind == StepIndex && f.Index == -1 && s.Kind == StepIndex:
			indexes = append(indexes, s.Index)
		case f != s:
			return nil, nil, false
		}
	}
	for _, t := range parseFieldPath(rule.to) {
		if t.Kind == StepIndex && t.Index == -1 {
			t.Index, indexes = indexes[0], indexes[1:]
		}
		mapped = append(mapped, t)
	}
	return steps[len(from):], mapped, true
}

// renameSequence matches a sequenceRenames entry at the start of steps:
// how many steps it covers and their new name.
func renameSequence(steps []Step) (int, string, bool) {
	for _, r := range sequenceRenames {
		if len(r.from) > len(steps) {
			continue
		}
		match := true
		for i, name := range r.from {
			if steps[i].Kind != StepName || steps[i].Name != name {
				match = false
				break
			}
		}
		if match {
			return len(r.from), r.to, true
		}
	}
	return 0, "", false
}

// snakeCase is an API field name in the resources' spelling: camelCase
// words joined by "_", a run of capitals one word (hostIP: host_ip).
func snakeCase(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && !unicode.IsUpper(rs[i-1])
			// The last capital of a run starts the next word (HTTPGet:
			// http_get), unless only a plural s follows (subnetIDs).
			nextLower := i > 0 && i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]) &&
				(rs[i+1] != 's' || i+2 < len(rs))
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// String is steps in the provider's notation:
// spec.template.container[0].resources.requests.cpu, map keys as ["k"].
func String(steps []Step) string {
	var b strings.Builder
	for _, s := range steps {
		switch s.Kind {
		case StepName:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Name)
		case StepIndex:
			fmt.Fprintf(&b, "[%d]", s.Index)
		case StepKey:
			fmt.Fprintf(&b, "[%s]", strconv.Quote(s.Key))
		}
	}
	return b.String()
}
