package render

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/maestro-dev/maestro/internal/plan"
)

// testdata/terraform-show.json is `terraform show -json tf.plan` of a real
// Terraform 1.11.4 plan with the provider built from this repository,
// against a `maestro server`: testdata/terraform-show.md says how it was
// made. The plan creates a deployment, rolls and scales another, rolls an
// autoscaled one, replaces one for its selector, grows a node pool with a
// new machine type, changes a secret's data and destroys a config map.
func readTerraformFixture(t *testing.T) *plan.Plan {
	t.Helper()
	f, err := os.Open("testdata/terraform-show.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := FromTerraformJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromTerraformJSON(t *testing.T) {
	p := readTerraformFixture(t)
	want := map[string]plan.Action{
		"maestro_config_map.old": plan.Delete, "maestro_deployment.api": plan.Create,
		"maestro_deployment.cache": plan.Update, "maestro_deployment.web": plan.Update,
		"maestro_deployment.worker": plan.Replace, "maestro_node_pool.workers": plan.Update,
		"maestro_secret.db": plan.Update, "maestro_service.web": plan.NoOp, "maestro_autoscaler.cache": plan.NoOp,
	}
	got := map[string]plan.Action{}
	for _, c := range p.Changes {
		got[c.Address] = c.Action
	}
	for addr, a := range want {
		if got[addr] != a {
			t.Errorf("%s: %q, want %q", addr, got[addr], a)
		}
	}
	if len(got) != len(want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	byAddr := func(addr string) plan.Change {
		i := slices.IndexFunc(p.Changes, func(c plan.Change) bool { return c.Address == addr })
		if i < 0 {
			t.Fatalf("no change for %s", addr)
		}
		return p.Changes[i]
	}
	if w := byAddr("maestro_deployment.worker"); !slices.Equal(w.ReplacePaths, []string{"spec.selector.match_labels"}) {
		t.Errorf("worker: replace paths %q", w.ReplacePaths)
	}
	if s := byAddr("maestro_secret.db"); !slices.Contains(s.Sensitive, "data") {
		t.Errorf("secret: sensitive paths %q, want data", s.Sensitive)
	}
	if d := byAddr("maestro_deployment.web"); d.Kind != "Deployment" || d.Namespace != "default" || d.Name != "web" {
		t.Errorf("web: kind %q namespace %q name %q", d.Kind, d.Namespace, d.Name)
	}
	impact := map[string][]string{
		"maestro_deployment.api":    {"starts 2 pods"},
		"maestro_deployment.web":    {"rolling update of 4 pods (max surge 1, max unavailable 0)", "scale from 3 to 4"},
		"maestro_deployment.cache":  {"rolling update of 2 pods (max surge 1, max unavailable 0)"},
		"maestro_deployment.worker": {"replaced: stops 2 pods, then starts 2 pods"},
		"maestro_node_pool.workers": {"replace 2 machines (drain first), one at a time (template changed: machine_type)", "create 1 machine"},
	}
	for addr, w := range impact {
		if got := byAddr(addr).Impact; !slices.Equal(got, w) {
			t.Errorf("%s: impact %q, want %q", addr, got, w)
		}
	}
}

// TestTerraformPlanRenders: a Terraform plan gives the same layout as a
// maestro plan, and shows no sensitive value.
func TestTerraformPlanRenders(t *testing.T) {
	p := readTerraformFixture(t)
	var md, text bytes.Buffer
	if err := Markdown(&md, p); err != nil {
		t.Fatal(err)
	}
	if err := Text(&text, p, false); err != nil {
		t.Fatal(err)
	}
	golden(t, "terraform.markdown.golden", md.Bytes())
	golden(t, "terraform.text.golden", text.Bytes())
	for _, out := range []string{md.String(), text.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("a sensitive value is shown:\n%s", out)
		}
	}
	for _, w := range []string{"### Plan: 2 to add, 4 to change, 2 to destroy", "> [!CAUTION]", "`maestro_deployment.worker` (replaced)",
		"(forced by `spec.selector.match_labels`)", "#### Impact", "<details><summary><code>-/+ maestro_deployment.worker</code>"} {
		if !strings.Contains(md.String(), w) {
			t.Errorf("markdown lacks %q", w)
		}
	}
	if w := "Plan: 2 to add, 4 to change, 2 to destroy."; !strings.Contains(text.String(), w) {
		t.Errorf("text lacks %q (terraform's own summary of this plan)", w)
	}
}
