package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/maestro-dev/maestro/engine/api"
)

// The placement warning's advice matches the scheduler's reason: lowering
// requests cannot help an anti-affinity rule.
func TestWarnUnplacedAdviceMatchesTheReason(t *testing.T) {
	meta := &api.ObjectMeta{Namespace: "default", Name: "web"}
	for _, tc := range []struct {
		name, reason string
		want, never  []string
	}{
		{"anti-affinity", "0/3 nodes available: 3 node(s) didn't match pod anti-affinity rules",
			[]string{"1 of the 4 pods of deployment default/web could not be placed", "relax the anti-affinity", "unschedulable_timeout"},
			[]string{"requests"}},
		{"cpu", "0/2 nodes available: 2 insufficient cpu",
			[]string{"lower the pods' cpu requests"}, []string{"anti-affinity"}},
		{"taints", "0/3 nodes available: 3 node(s) had untolerated taint(s)",
			[]string{"add tolerations"}, []string{"requests"}},
		{"a reason without a table entry", "0/1 nodes available: 1 something new",
			[]string{"make room for the pods"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var diags diag.Diagnostics
			warnUnplaced(&diags, "deployment", meta, api.PlacementPreview{Pods: 4, Placed: 3, Reason: tc.reason, Nodes: map[string]int{"n1": 3}})
			if len(diags) != 1 {
				t.Fatalf("%d diagnostics, want 1 warning: %v", len(diags), diags)
			}
			detail := diags[0].Detail()
			for _, w := range tc.want {
				if !strings.Contains(detail, w) {
					t.Errorf("warning lacks %q:\n%s", w, detail)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(detail, n) {
					t.Errorf("warning says %q, which cannot help here:\n%s", n, detail)
				}
			}
		})
	}
	var diags diag.Diagnostics
	warnUnplaced(&diags, "deployment", meta, api.PlacementPreview{Pods: 2, Placed: 2})
	if len(diags) != 0 {
		t.Errorf("a warning when every pod fits: %v", diags)
	}
}
