package registry

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/maestro-dev/maestro/engine/api"
)

// FieldRequirement is one term of a field selector: field = value or field != value.
type FieldRequirement struct {
	Field  string
	Value  string
	Negate bool
}

// FieldSelector selects objects by a few indexed fields, such as the pods of
// one node (spec.nodeName=node-1) or unscheduled pods (spec.nodeName=).
type FieldSelector []FieldRequirement

// ParseFieldSelector reads "a=b,c!=d" and checks every field is supported
// for the kind.
func ParseFieldSelector(kind *api.KindInfo, s string) (FieldSelector, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	supported := supportedFields(kind)
	var sel FieldSelector
	for _, term := range strings.Split(s, ",") {
		r, ok := splitFieldTerm(term)
		if !ok {
			return nil, fmt.Errorf("field selector %q: term %q must be field=value or field!=value", s, term)
		}
		if !supported[r.Field] {
			return nil, fmt.Errorf("field selector %q: field %q is not supported for %s (supported: %s)",
				s, r.Field, kind.Plural, strings.Join(sortedFieldNames(supported), ", "))
		}
		sel = append(sel, r)
	}
	return sel, nil
}

// splitFieldTerm splits "field=value", "field==value" or "field!=value"
// at the first operator, as Kubernetes does: a field name holds neither
// "=" nor "!", and the value is everything after the operator (so
// "f==a==" is f == "a==", which String prints back as "f=a==").
func splitFieldTerm(term string) (FieldRequirement, bool) {
	i := strings.IndexAny(term, "!=")
	if i < 0 || term[i] == '!' && !strings.HasPrefix(term[i:], "!=") {
		return FieldRequirement{}, false
	}
	r := FieldRequirement{Field: strings.TrimSpace(term[:i])}
	rest := term[i+1:]
	switch {
	case term[i] == '!':
		r.Negate, rest = true, term[i+2:]
	case strings.HasPrefix(rest, "="):
		rest = rest[1:]
	}
	r.Value = strings.TrimSpace(rest)
	return r, true
}

// Matches reports whether the object satisfies every requirement.
func (s FieldSelector) Matches(obj api.Object) bool {
	if len(s) == 0 {
		return true
	}
	fields := objectFields(obj)
	for _, r := range s {
		if (fields[r.Field] == r.Value) == r.Negate {
			return false
		}
	}
	return true
}

// Value returns the value the selector requires for field, if it pins one.
func (s FieldSelector) Value(field string) (string, bool) {
	for _, r := range s {
		if r.Field == field && !r.Negate {
			return r.Value, true
		}
	}
	return "", false
}

// String prints the selector as text ParseFieldSelector reads back as
// the same selector.
func (s FieldSelector) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		op := "="
		switch {
		case r.Negate:
			op = "!="
		case strings.HasPrefix(r.Value, "="):
			// "f==x" would read as f == "x": spell the operator out so
			// the value keeps its leading "=".
			op = "=="
		}
		parts[i] = r.Field + op + r.Value
	}
	return strings.Join(parts, ",")
}

func supportedFields(kind *api.KindInfo) map[string]bool {
	m := map[string]bool{}
	for f := range objectFields(kind.New()) {
		m[f] = true
	}
	return m
}

func sortedFieldNames(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// objectFields lists the selectable fields of an object.
func objectFields(obj api.Object) map[string]string {
	meta := obj.GetObjectMeta()
	f := map[string]string{"metadata.name": meta.Name, "metadata.namespace": meta.Namespace}
	switch o := obj.(type) {
	case *api.Pod:
		f["spec.nodeName"] = o.Spec.NodeName
		f["status.phase"] = string(o.Status.Phase)
		f["spec.schedulerName"] = o.Spec.SchedulerName
	case *api.Node:
		f["spec.unschedulable"] = strconv.FormatBool(o.Spec.Unschedulable)
	case *api.Event:
		f["involvedObject.kind"] = o.InvolvedObject.Kind
		f["involvedObject.name"] = o.InvolvedObject.Name
		f["involvedObject.namespace"] = o.InvolvedObject.Namespace
		f["involvedObject.uid"] = o.InvolvedObject.UID
		f["reason"] = o.Reason
		f["type"] = o.Type
	case *api.Secret:
		f["type"] = o.Type
	case *api.Machine:
		f["spec.pool"] = o.Spec.Pool
	case *api.PersistentVolume:
		f["status.nodeName"] = o.Status.NodeName
		f["status.phase"] = o.Status.Phase
	}
	return f
}

// NodeField is the field that pins a list or watch of a kind to one node
// (pods: spec.nodeName; volumes: status.nodeName), which is how a node
// may list what is its own; "" for other kinds.
func NodeField(kind *api.KindInfo) string {
	switch kind.Kind {
	case "Pod":
		return "spec.nodeName"
	case "Volume":
		return "status.nodeName"
	}
	return ""
}
