package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// secretValue must never appear in any rendering.
const secretValue = "hunter2-not-for-your-eyes"

// golden compares got with testdata/name (rewriting it with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			g, w := line(gl, i), line(wl, i)
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %q\nwant: %q\n(run with -update if the change is meant; full output:)\n%s", path, i+1, g, w, got)
			}
		}
	}
}

func line(l []string, i int) string {
	if i < len(l) {
		return l[i]
	}
	return "<end>"
}

func deployment(name string, replicas int, image string, edit ...func(spec map[string]any)) map[string]any {
	spec := map[string]any{
		"replicas": replicas,
		"selector": map[string]any{"match_labels": map[string]any{"app": name}},
		"template": map[string]any{
			"labels": map[string]any{"app": name},
			"container": []any{map[string]any{
				"name": name, "image": image,
				"port":      []any{map[string]any{"name": "http", "container_port": 8080}},
				"resources": map[string]any{"requests": map[string]any{"cpu": "250m", "memory": "64Mi"}},
			}},
		},
	}
	for _, e := range edit {
		e(spec)
	}
	return map[string]any{"metadata": map[string]any{"name": name, "namespace": "default"}, "spec": spec}
}

func deploymentObject(name string, replicas int32, rv int64) *api.Deployment {
	d := &api.Deployment{}
	d.Name, d.Namespace, d.ResourceVersion = name, "default", rv
	d.Spec.Replicas = api.Ptr(replicas)
	return d
}

func resource(addr, kind string, attrs map[string]any, obj api.Object) plan.Resource {
	return plan.Resource{Address: addr, Kind: kind, Namespace: "default", Name: addr[strings.Index(addr, ".")+1:], Attrs: attrs, Object: obj}
}

// samplePlan has one of everything a reviewer sees: a create, an update
// with a rollout and a scale, a replacement, a destroy, a secret's
// change, an autoscaled deployment, a node pool rollout, a no-op and
// placement previews.
func samplePlan() *plan.Plan {
	strategy := func(spec map[string]any) {
		spec["strategy"] = map[string]any{"type": "RollingUpdate", "rolling_update": map[string]any{"max_surge": "1", "max_unavailable": "0"}}
	}
	webLive, webWant := deploymentObject("web", 3, 41), deploymentObject("web", 4, 0)
	webWant.Spec.Strategy = api.DeploymentStrategy{Type: api.RollingUpdateStrategy,
		RollingUpdate: &api.RollingUpdateDeployment{MaxSurge: api.Ptr(api.FromInt(1)), MaxUnavailable: api.Ptr(api.FromInt(0))}}
	pool := func(machineType string) map[string]any {
		return map[string]any{"name": "workers", "size": 3, "machine_type": machineType, "local": map[string]any{}}
	}
	poolObject := func(machineType string) *api.NodePool {
		p := &api.NodePool{Spec: api.NodePoolSpec{Provider: api.ProviderLocal, MinSize: 3, MaxSize: 3, Size: api.Ptr[int32](3), MachineType: machineType}}
		p.Name = "workers"
		return p
	}
	secret := func(password string) map[string]any {
		return map[string]any{"name": "db", "namespace": "default", "type": "Opaque", "data": map[string]any{"password": password, "user": "app"}}
	}
	service := map[string]any{"metadata": map[string]any{"name": "api", "namespace": "default"},
		"spec": map[string]any{"selector": map[string]any{"app": "api"}, "port": []any{map[string]any{"port": 80, "target_port": "http"}}}}
	desired := []plan.Resource{
		resource("deployment.api", "Deployment", deployment("api", 2, "registry.example/api:1.0", func(spec map[string]any) {
			spec["template"].(map[string]any)["container"].([]any)[0].(map[string]any)["env"] = []any{map[string]any{"name": "MODE", "value": "prod"}}
		}), deploymentObject("api", 2, 0)),
		resource("deployment.web", "Deployment", deployment("web", 4, "registry.example/web:2.0", strategy), webWant),
		resource("deployment.worker", "Deployment", deployment("worker", 2, "registry.example/worker:1", func(spec map[string]any) {
			spec["selector"] = map[string]any{"match_labels": map[string]any{"app": "worker", "tier": "batch"}}
			spec["template"].(map[string]any)["labels"] = map[string]any{"app": "worker", "tier": "batch"}
		}), deploymentObject("worker", 2, 0)),
		resource("deployment.cache", "Deployment", deployment("cache", 2, "registry.example/cache:7"), deploymentObject("cache", 2, 0)),
		resource("secret.db", "Secret", secret(secretValue), nil),
		resource("node_pool.workers", "NodePool", pool("large"), poolObject("large")),
		resource("service.api", "Service", service, nil),
	}
	actual := []plan.Resource{
		resource("deployment.web", "Deployment", deployment("web", 3, "registry.example/web:1.0", strategy), webLive),
		resource("deployment.worker", "Deployment", deployment("worker", 2, "registry.example/worker:1"), deploymentObject("worker", 2, 17)),
		resource("deployment.cache", "Deployment", deployment("cache", 5, "registry.example/cache:6"), deploymentObject("cache", 5, 23)),
		resource("secret.db", "Secret", secret("old-"+secretValue), nil),
		resource("node_pool.workers", "NodePool", pool("small"), poolObject("small")),
		resource("service.api", "Service", service, nil),
		resource("config_map.old", "ConfigMap", map[string]any{"name": "old", "namespace": "default", "data": map[string]any{"greeting": "hello"}}, nil),
	}
	p := plan.Compute(desired, actual, plan.Options{
		Prune:      true,
		ForceNew:   map[string][]string{"Deployment": {"metadata.name", "metadata.namespace", "spec.selector.match_labels"}},
		Sensitive:  map[string][]string{"Secret": {"data"}},
		Autoscaled: map[string]bool{"deployment.cache": true},
		Previews: map[string]api.PlacementPreview{
			"deployment.web": {Pods: 4, Placed: 3, Nodes: map[string]int{"node-a": 2, "node-b": 1},
				Reason: "0/3 nodes available: 3 node(s) didn't match pod anti-affinity rules."},
			"deployment.api": {Pods: 2, Placed: 2, Nodes: map[string]int{"node-c": 2}},
		},
	})
	p.Created = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	return p
}

func TestTextGolden(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, samplePlan(), false); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.text.golden", b.Bytes())
	noSecret(t, b.String())
}

func TestMarkdownGolden(t *testing.T) {
	var b bytes.Buffer
	if err := Markdown(&b, samplePlan()); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.markdown.golden", b.Bytes())
	noSecret(t, b.String())
}

func TestJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, samplePlan()); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.json.golden", b.Bytes())
	noSecret(t, b.String())
}

func TestNoChangesGolden(t *testing.T) {
	p := plan.Compute(nil, nil, plan.Options{})
	var text, md bytes.Buffer
	if err := Text(&text, p, false); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, p); err != nil {
		t.Fatal(err)
	}
	golden(t, "nochanges.text.golden", text.Bytes())
	golden(t, "nochanges.markdown.golden", md.Bytes())
}

// TestJSONValidatesWithTerraformJSON: policy tools read the JSON with
// terraform-json; it must unmarshal into tfjson.Plan and validate, with
// Terraform's actions and replace paths.
func TestJSONValidatesWithTerraformJSON(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, samplePlan()); err != nil {
		t.Fatal(err)
	}
	var tp tfjson.Plan
	if err := json.Unmarshal(b.Bytes(), &tp); err != nil {
		t.Fatalf("tfjson.Plan unmarshal: %v", err)
	}
	if err := tp.Validate(); err != nil {
		t.Fatalf("tfjson.Plan.Validate: %v", err)
	}
	want := map[string]func(tfjson.Actions) bool{
		"config_map.old": tfjson.Actions.Delete, "deployment.api": tfjson.Actions.Create,
		"deployment.cache": tfjson.Actions.Update, "deployment.web": tfjson.Actions.Update,
		"deployment.worker": tfjson.Actions.Replace, "node_pool.workers": tfjson.Actions.Update,
		"secret.db": tfjson.Actions.Update, "service.api": tfjson.Actions.NoOp,
	}
	if len(tp.ResourceChanges) != len(want) {
		t.Fatalf("%d resource changes, want %d", len(tp.ResourceChanges), len(want))
	}
	for _, rc := range tp.ResourceChanges {
		if is, ok := want[rc.Address]; !ok || !is(rc.Change.Actions) {
			t.Errorf("%s: actions %v", rc.Address, rc.Change.Actions)
		}
		if rc.Mode != tfjson.ManagedResourceMode || rc.Type+"."+rc.Name != rc.Address {
			t.Errorf("%s: mode %q type %q name %q", rc.Address, rc.Mode, rc.Type, rc.Name)
		}
		if rc.Address == "deployment.worker" {
			got, _ := json.Marshal(rc.Change.ReplacePaths)
			if string(got) != `[["spec","selector","match_labels"]]` {
				t.Errorf("deployment.worker: replace_paths %s", got)
			}
		}
		if rc.Address == "secret.db" {
			sens, _ := json.Marshal(rc.Change.AfterSensitive)
			if string(sens) != `{"data":true}` {
				t.Errorf("secret.db: after_sensitive %s, want {\"data\":true}", sens)
			}
		}
	}
}

// TestJSONReadsBack: FromTerraformJSON of JSON's output gives the same
// changes (what a policy tool sees is what the reviewer saw).
func TestJSONReadsBack(t *testing.T) {
	p := samplePlan()
	var b bytes.Buffer
	if err := JSON(&b, p); err != nil {
		t.Fatal(err)
	}
	back, err := FromTerraformJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Changes) != len(p.Changes) {
		t.Fatalf("%d changes back, want %d", len(back.Changes), len(p.Changes))
	}
	for i, c := range back.Changes {
		want := p.Changes[i]
		if c.Address != want.Address || c.Action != want.Action || !slices.Equal(c.ReplacePaths, want.ReplacePaths) {
			t.Errorf("change %d: %s %s %q, want %s %s %q", i, c.Address, c.Action, c.ReplacePaths, want.Address, want.Action, want.ReplacePaths)
		}
	}
}

func noSecret(t *testing.T, out string) {
	t.Helper()
	if strings.Contains(out, secretValue) {
		t.Errorf("the output shows a sensitive value:\n%s", out)
	}
}

// TestMarkdownEscapesFreeText: a scheduler's reason or a node name is
// text, not markup, in the comment.
func TestMarkdownEscapesFreeText(t *testing.T) {
	p := &plan.Plan{
		Changes: []plan.Change{{Address: "deployment.web", Action: plan.Create, After: map[string]any{"name": "web"}}},
		Impact:  []string{"1 of 2 pods of deployment.web would not fit: <b>node_1</b> *full*"},
	}
	var b bytes.Buffer
	if err := Markdown(&b, p); err != nil {
		t.Fatal(err)
	}
	if want := "- 1 of 2 pods of `deployment.web` would not fit: \\<b\\>node\\_1\\</b\\> \\*full\\*"; !strings.Contains(b.String(), want) {
		t.Errorf("markdown lacks %q:\n%s", want, b.String())
	}
}

// TestMarkdownStaysWithinCommentLimit: diffs past the limit are left out,
// saying how many; the summary and impact stay.
func TestMarkdownStaysWithinCommentLimit(t *testing.T) {
	defer func(n int) { MarkdownDiffLimit = n }(MarkdownDiffLimit)
	MarkdownDiffLimit = 2500
	var b bytes.Buffer
	if err := Markdown(&b, samplePlan()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, w := range []string{"### Plan: 2 to add", "#### Impact", "more diffs left out here", "Plan hash"} {
		if !strings.Contains(out, w) {
			t.Errorf("markdown lacks %q:\n%s", w, out)
		}
	}
	if len(out) > MarkdownDiffLimit+500 {
		t.Errorf("markdown of %d bytes, limit %d", len(out), MarkdownDiffLimit)
	}
}

// TestTextColor: colours only with color set, and only on the markers.
func TestTextColor(t *testing.T) {
	var plain, colored bytes.Buffer
	if err := Text(&plain, samplePlan(), false); err != nil {
		t.Fatal(err)
	}
	if err := Text(&colored, samplePlan(), true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("escape codes without color")
	}
	if !strings.Contains(colored.String(), "  \x1b[32m+\x1b[0m resource \"deployment\" \"api\" {") {
		t.Errorf("no green + on the created resource:\n%s", colored.String())
	}
	stripped := strings.NewReplacer("\x1b[32m", "", "\x1b[31m", "", "\x1b[33m", "", "\x1b[0m", "").Replace(colored.String())
	if stripped != plain.String() {
		t.Error("colour changes more than the markers")
	}
}
