package provider

import (
	"context"
	"maps"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// tfValue makes a value of type t from a JSON-like tree; every attribute
// the tree leaves out is null.
func tfValue(t tftypes.Type, v any) tftypes.Value {
	if v == nil {
		return tftypes.NewValue(t, nil)
	}
	switch tt := t.(type) {
	case tftypes.Object:
		m := v.(map[string]any)
		vals := make(map[string]tftypes.Value, len(tt.AttributeTypes))
		for k, at := range tt.AttributeTypes {
			vals[k] = tfValue(at, m[k])
		}
		return tftypes.NewValue(t, vals)
	case tftypes.List:
		return tftypes.NewValue(t, tfValues(tt.ElementType, v.([]any)))
	case tftypes.Set:
		return tftypes.NewValue(t, tfValues(tt.ElementType, v.([]any)))
	case tftypes.Map:
		vals := map[string]tftypes.Value{}
		for k, e := range v.(map[string]any) {
			vals[k] = tfValue(tt.ElementType, e)
		}
		return tftypes.NewValue(t, vals)
	}
	if n, ok := v.(int); ok {
		return tftypes.NewValue(t, big.NewFloat(float64(n)))
	}
	return tftypes.NewValue(t, v)
}

func tfValues(elem tftypes.Type, l []any) []tftypes.Value {
	vals := make([]tftypes.Value, len(l))
	for i, e := range l {
		vals[i] = tfValue(elem, e)
	}
	return vals
}

// modifyPlan runs a resource's ModifyPlan on prior and planned trees (nil:
// create, destroy), the configuration being the plan, and returns its
// impact warnings (impactWarnings) and the paths it says force
// replacement; an error diagnostic fails the test.
func modifyPlan(t *testing.T, r interface {
	resource.Resource
	resource.ResourceWithModifyPlan
}, prior, planned map[string]any) (warnings, replace []string) {
	t.Helper()
	ctx := context.Background()
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	typ := sr.Schema.Type().TerraformType(ctx)
	value := func(tree map[string]any) tftypes.Value {
		if tree == nil {
			return tftypes.NewValue(typ, nil)
		}
		return tfValue(typ, tree)
	}
	req := resource.ModifyPlanRequest{
		Config: tfsdk.Config{Schema: sr.Schema, Raw: value(planned)},
		Plan:   tfsdk.Plan{Schema: sr.Schema, Raw: value(planned)},
		State:  tfsdk.State{Schema: sr.Schema, Raw: value(prior)},
	}
	resp := resource.ModifyPlanResponse{Plan: req.Plan}
	r.ModifyPlan(ctx, req, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatalf("ModifyPlan: %v", resp.Diagnostics)
	}
	for _, p := range resp.RequiresReplace {
		replace = append(replace, p.String())
	}
	return impactWarnings(resp.Diagnostics), replace
}

// impactWarnings are the "Impact: ..." warnings, as "summary: detail".
func impactWarnings(diags diag.Diagnostics) []string {
	var out []string
	for _, d := range diags.Warnings() {
		if strings.HasPrefix(d.Summary(), "Impact: ") {
			out = append(out, d.Summary()+": "+d.Detail())
		}
	}
	return out
}

// deploymentTree is a maestro_deployment's attribute tree, changed by mut.
func deploymentTree(replicas int, image string, mut ...func(spec map[string]any)) map[string]any {
	spec := map[string]any{
		"replicas": replicas,
		"selector": map[string]any{"match_labels": map[string]any{"app": "web"}},
		"template": map[string]any{
			"labels":    map[string]any{"app": "web"},
			"container": []any{map[string]any{"name": "main", "image": image}},
		},
	}
	for _, f := range mut {
		f(spec)
	}
	return map[string]any{"id": "default/web", "wait_for_rollout": true,
		"metadata": map[string]any{"name": "web", "namespace": "default"}, "spec": spec}
}

func strategy(typ, surge, unavailable string) func(map[string]any) {
	return func(spec map[string]any) {
		s := map[string]any{"type": typ}
		if surge != "" {
			s["rolling_update"] = map[string]any{"max_surge": surge, "max_unavailable": unavailable}
		}
		spec["strategy"] = s
	}
}

func TestDeploymentImpactWarning(t *testing.T) {
	selector := func(app string) func(map[string]any) {
		return func(spec map[string]any) {
			spec["selector"] = map[string]any{"match_labels": map[string]any{"app": app}}
			spec["template"].(map[string]any)["labels"] = map[string]any{"app": app}
		}
	}
	const summary = "Impact: maestro_deployment default/web: "
	for _, tt := range []struct {
		name           string
		prior, planned map[string]any
		want           []string
	}{
		{"template change, the server's default strategy (25%: surge rounds up, unavailable down)",
			deploymentTree(4, "web:1"), deploymentTree(4, "web:2"),
			[]string{summary + "rolling update of 4 pods (max surge 1, max unavailable 1)"}},
		{"template change, the strategy's counts",
			deploymentTree(3, "web:1", strategy("RollingUpdate", "1", "0")), deploymentTree(3, "web:2", strategy("RollingUpdate", "1", "0")),
			[]string{summary + "rolling update of 3 pods (max surge 1, max unavailable 0)"}},
		{"template change, percentages",
			deploymentTree(10, "web:1", strategy("RollingUpdate", "50%", "10%")), deploymentTree(10, "web:2", strategy("RollingUpdate", "50%", "10%")),
			[]string{summary + "rolling update of 10 pods (max surge 5, max unavailable 1)"}},
		{"recreate", deploymentTree(3, "web:1", strategy("Recreate", "", "")), deploymentTree(3, "web:2", strategy("Recreate", "", "")),
			[]string{summary + "recreate 3 pods (all stop before the new ones start)"}},
		{"scale", deploymentTree(2, "web:1"), deploymentTree(5, "web:1"), []string{summary + "scale from 2 to 5"}},
		{"template and scale", deploymentTree(2, "web:1"), deploymentTree(4, "web:2"),
			[]string{summary + "rolling update of 4 pods (max surge 1, max unavailable 1)\nscale from 2 to 4"}},
		{"destroy", deploymentTree(3, "web:1"), nil, []string{summary + "stops 3 pods"}},
		{"selector change replaces", deploymentTree(3, "web:1", selector("a")), deploymentTree(2, "web:1", selector("b")),
			[]string{summary + "replaced: stops 3 pods, then starts 2 pods"}},
		{"strategy alone moves no pod", deploymentTree(3, "web:1"), deploymentTree(3, "web:1", strategy("Recreate", "", "")), nil},
		{"create: the placement preview's to say", nil, deploymentTree(3, "web:1"), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := modifyPlan(t, NewDeploymentResource().(*DeploymentResource), tt.prior, tt.planned); !slices.Equal(got, tt.want) {
				t.Errorf("warnings\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestPodImpactWarning(t *testing.T) {
	pod := func(image string, extra map[string]any, labels map[string]any) map[string]any {
		c := map[string]any{"name": "main", "image": image}
		maps.Copy(c, extra)
		return map[string]any{"id": "default/p", "wait_for_rollout": true,
			"metadata": map[string]any{"name": "p", "namespace": "default", "labels": labels},
			"spec":     map[string]any{"restart_policy": "Always", "container": []any{c}}}
	}
	const summary = "Impact: maestro_pod default/p: "
	for _, tt := range []struct {
		name           string
		prior, planned map[string]any
		want           []string
		replace        []string
	}{
		{"image: the container restarts in place", pod("a:1", nil, nil), pod("a:2", nil, nil),
			[]string{summary + "restart 1 container with the new image (main)"}, nil},
		{"command: the pod is replaced", pod("a:1", nil, nil), pod("a:1", map[string]any{"command": []any{"sleep", "1"}}, nil),
			[]string{summary + "replace pod (restart)"}, []string{"spec"}},
		{"labels: nothing restarts", pod("a:1", nil, nil), pod("a:1", nil, map[string]any{"x": "y"}), nil, nil},
		{"destroy", pod("a:1", nil, nil), nil, []string{summary + "stops 1 pod"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, replace := modifyPlan(t, NewPodResource().(*PodResource), tt.prior, tt.planned)
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings\n%q\nwant\n%q", got, tt.want)
			}
			if !slices.Equal(replace, tt.replace) {
				t.Errorf("requires replace %q, want %q", replace, tt.replace)
			}
		})
	}
}

func TestNodePoolImpactWarning(t *testing.T) {
	pool := func(size int, labels map[string]any) map[string]any {
		return map[string]any{"id": "pool-a", "name": "pool-a", "local": map[string]any{}, "size": size, "labels": labels,
			"spot": false, "autoscaling": false, "drain_timeout": "5m", "wait_for_ready": true}
	}
	const summary = "Impact: maestro_node_pool pool-a: "
	const more = "\n\nWhat the apply does to the pool's machines."
	for _, tt := range []struct {
		name           string
		prior, planned map[string]any
		want           string
	}{
		{"create", nil, pool(2, nil), summary + "create 2 machines" + more},
		{"template and size", pool(2, map[string]any{"tier": "a"}), pool(3, map[string]any{"tier": "b"}),
			summary + "replace 2 machines (drain first), one at a time (template changed: labels)\ncreate 1 machine" + more},
		{"shrink", pool(3, nil), pool(1, nil), summary + "drain and delete 2 machines" + more},
		{"destroy", pool(2, nil), nil, summary + "drain and delete 2 machines" + more},
		{"no change", pool(2, nil), pool(2, nil), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			warnings, _ := modifyPlan(t, NewNodePoolResource().(*NodePoolResource), tt.prior, tt.planned)
			got := strings.Join(warnings, "\n---\n")
			if tt.want == "" && got != "" || tt.want != "" && !strings.HasPrefix(got, tt.want) {
				t.Errorf("warnings\n%s\nwant (a prefix)\n%s", got, tt.want)
			}
		})
	}
}
