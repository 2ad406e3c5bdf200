package provider

import (
	"testing"
)

// attrPathOf is internal/fieldpath's mapping as the framework's paths,
// which print as the mapping does (TestAttrPath there has the table).
func TestAttrPathOf(t *testing.T) {
	for _, tc := range []struct{ kind, field, want string }{
		{"Deployment", `spec.template.spec.containers[0].resources.requests["cpu"]`, "spec.template.container[0].resources.requests.cpu"},
		{"Deployment", `spec.template.metadata.labels["app/x"]`, `spec.template.labels["app/x"]`},
		{"ConfigMap", "metadata.name", "name"},
		{"Autoscaler", "spec.metrics[1].resource.name", "metric[1].resource"},
	} {
		if got := attrPathOf(tc.kind, tc.field).String(); got != tc.want {
			t.Errorf("attrPathOf(%s, %s) = %s, want %s", tc.kind, tc.field, got, tc.want)
		}
	}
}
