package schema

import (
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
)

func TestEveryKindHasASchema(t *testing.T) {
	for _, k := range Kinds() {
		if Block(k) == nil {
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
