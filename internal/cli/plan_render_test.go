package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/plan"
	"github.com/maestro-dev/maestro/internal/plan/render"
)

// renderTestPlan: one deployment rolled from web:1 to web:2.
func renderTestPlan() *plan.Plan {
	tree := func(image string) map[string]any {
		return map[string]any{"metadata": map[string]any{"name": "web", "namespace": "default"},
			"spec": map[string]any{"replicas": 3, "template": map[string]any{"container": []any{map[string]any{"name": "web", "image": image}}}}}
	}
	d := &api.Deployment{}
	d.Name, d.Namespace, d.Spec.Replicas = "web", "default", api.Ptr[int32](3)
	return plan.Compute(
		[]plan.Resource{{Address: "maestro_deployment.web", Kind: "Deployment", Namespace: "default", Name: "web", Attrs: tree("web:2"), Object: d}},
		[]plan.Resource{{Address: "maestro_deployment.web", Kind: "Deployment", Namespace: "default", Name: "web", Attrs: tree("web:1"), Object: d}},
		plan.Options{})
}

func runPlanRender(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newPlanRenderCmd(&globals{out: &out, errOut: &errOut})
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(append([]string{}, args...)) // never nil: cobra would read os.Args
	err := cmd.ExecuteContext(context.Background())
	return out.String() + errOut.String(), err
}

func TestPlanRender(t *testing.T) {
	p := renderTestPlan()
	dir := t.TempDir()
	saved := filepath.Join(dir, "plan.bin")
	var buf bytes.Buffer
	if err := plan.Save(&buf, &plan.Saved{Version: plan.SavedVersion, Plan: p, Seen: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(saved, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var tf bytes.Buffer // the shape of `terraform show -json`
	if err := render.JSON(&tf, p); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  []string
	}{
		{"terraform show -json on stdin, markdown by default", tf.String(), nil,
			[]string{"### Plan: 0 to add, 1 to change, 0 to destroy", "rolling update of 3 pods (max surge 1, max unavailable 0)", "Plan hash <code>" + p.Hash()[:12]}},
		{"stdin as -", tf.String(), []string{"-format", "text", "-"},
			[]string{`~ resource "maestro_deployment" "web" {`, `~ image = "web:1" -> "web:2"`, "Plan: 0 to add, 1 to change, 0 to destroy."}},
		{"a saved plan as JSON, double-dash flag", "", []string{"--format=json", saved},
			[]string{`"format_version": "1.2"`, `"address": "maestro_deployment.web"`}},
		{"a saved plan as markdown", "", []string{saved}, []string{"~ maestro_deployment.web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runPlanRender(t, tt.stdin, tt.args...)
			if err != nil {
				t.Fatalf("plan render %q: %v\n%s", tt.args, err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestPlanRenderRefuses(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"a binary terraform plan", "PK\x03\x04...", []string{"-"}, "terraform show -json"},
		{"other JSON", `{"values":{}}`, nil, "neither a plan saved by `maestro plan -out` nor `terraform show -json` output"},
		{"not JSON", "hello", nil, "not JSON"},
		{"an unknown format", `{"format_version":"1.2","resource_changes":[]}`, []string{"-format", "yaml"}, `-format "yaml": must be markdown, text or json`},
		{"a missing file", "", []string{"/nonexistent/plan.json"}, "no such file"},
		{"two files", "", []string{"a", "b"}, "one FILE at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runPlanRender(t, tt.stdin, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("plan render %q: %v (output %q), want an error naming %q", tt.args, err, out, tt.want)
			}
		})
	}
}
