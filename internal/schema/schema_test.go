package schema

import (
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
)

func TestEveryKindHasASchema(t *testing.T) {
	for _, k := range Kinds() {
		if JSONBlock(k) == nil {
			t.Errorf("%s: no block", k)
		}
		spec, ok := Spec(k).(hcldec.ObjectSpec)
		if !ok || len(spec) == 0 {
			t.Errorf("%s: no hcldec spec", k)
		}
		if _, ok := spec["id"]; ok {
			t.Errorf("%s: the server-owned id is settable in a manifest", k)
		}
		if APIKind(k) == "" || KindOfAPI(APIKind(k)) != k {
			t.Errorf("%s: API kind %q does not map back", k, APIKind(k))
		}
		if got, ok := KindOfType(TypePrefix + k); !ok || got != k {
			t.Errorf("KindOfType(%s%s) = %q %v", TypePrefix, k, got, ok)
		}
	}
}

// TestRules: the side table carries what the provider's plan modifiers
// and attribute flags say.
func TestRules(t *testing.T) {
	tests := []struct {
		kind string
		list func(string) []string
		has  []string
		not  []string
	}{
		{"deployment", ForceNew, []string{"metadata.name", "metadata.namespace", "spec.selector.match_labels"}, []string{"spec.replicas"}},
		{"pod", ForceNew, []string{"metadata.name", "spec.container.args", "spec.volume.name"}, []string{"spec.container.image"}},
		{"service", ForceNew, []string{"spec.cluster_ip"}, nil},
		{"secret", ForceNew, []string{"type"}, nil},
		{"secret", Sensitive, []string{"data", "data_wo"}, []string{"name"}},
		{"deployment", KeepUnset, []string{"spec.replicas"}, []string{"spec.template.restart_policy"}},
		{"service", KeepUnset, []string{"spec.cluster_ip", "spec.port.node_port"}, nil},
		{"pod", ServerOwned, []string{"node_name", "pod_ip", "metadata.uid"}, nil},
	}
	for _, tt := range tests {
		got := tt.list(tt.kind)
		for _, p := range tt.has {
			if !slices.Contains(got, p) {
				t.Errorf("%s: %s missing from %v", tt.kind, p, got)
			}
		}
		for _, p := range tt.not {
			if slices.Contains(got, p) {
				t.Errorf("%s: %s should not be in %v", tt.kind, p, got)
			}
		}
	}
}

// TestDescriptionsAreConsistent: every attribute of every kind says
// something the provider can emit and the CLI can decode: a default of
// the attribute's type on an optional attribute, value rules that fit
// the type, planning rules on the attributes they were written for.
func TestDescriptionsAreConsistent(t *testing.T) {
	for _, kind := range Kinds() {
		k, _ := Describe(kind)
		walk("", k.Block, func(p string, a Attribute) {
			fail := func(format string, args ...any) { t.Errorf("%s.%s: "+format, append([]any{kind, p}, args...)...) }
			if !a.Required && !a.Optional && !a.Computed {
				fail("neither required, optional nor computed")
			}
			if a.Required && (a.Optional || a.Computed || a.Default != nil) {
				fail("required, but also optional, computed or defaulted")
			}
			if a.Default != nil {
				ok := false
				switch a.Default.(type) {
				case string:
					ok = a.Type == String
				case int64:
					ok = a.Type == Int64
				case bool:
					ok = a.Type == Bool
				}
				if !ok {
					fail("default %#v (%T) does not fit type %d", a.Default, a.Default, a.Type)
				}
			}
			if (a.OneOf != nil || a.Format != AnyString) && a.Type != String {
				fail("string rules on a non-string")
			}
			if a.Default != nil && a.OneOf != nil && !slices.Contains(a.OneOf, a.Default.(string)) {
				fail("default %q is not one of %v", a.Default, a.OneOf)
			}
			if a.Range != nil && (a.Type != Int64 || a.Range.Min > a.Range.Max) {
				fail("range %+v on type %d", *a.Range, a.Type)
			}
			if d, ok := a.Default.(int64); ok && a.Range != nil && (d < a.Range.Min || d > a.Range.Max) {
				fail("default %d out of range %+v", d, *a.Range)
			}
			switch a.Plan {
			case NodePortKeep:
				if a.Type != Int64 {
					fail("NodePortKeep on a non-number")
				}
			case TargetPortDefault, ClusterIPReplace, VolumePinReplace:
				if a.Type != String {
					fail("a string planning rule on a non-string")
				}
			}
			if a.WriteOnly && !a.Sensitive {
				fail("write-only but not sensitive")
			}
		})
	}
}
