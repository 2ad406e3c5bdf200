package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/engine/client"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

// threeTier is the example the plan/apply tests run on.
const threeTier = "../../examples/manifests/three-tier"

var threeTierAddresses = []string{
	"namespace.shop", "config_map.settings", "secret.db",
	"deployment.db", "deployment.api", "deployment.web", "service.db", "service.api", "service.web",
}

// exitStatus is the process exit status an error from a command maps to.
func exitStatus(err error) int {
	var ec exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return int(ec)
	}
	return 1
}

// copyDir copies the *.hcl files of src into a new directory named name.
func copyDir(t *testing.T, src, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	if err := os.Mkdir(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(src, "*.hcl"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestPlanApplyManifests(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	c.AddNodes(t, "node-", 3)
	cfg := clientConfig(t, c)
	dir := copyDir(t, threeTier, "three-tier")

	// A first plan: everything is to be added.
	out, _, err := run(t, cfg, "plan", dir)
	if got := exitStatus(err); got != 2 {
		t.Fatalf("plan of a new application exited %d (%v), want 2 (changes):\n%s", got, err, out)
	}
	for _, a := range threeTierAddresses {
		if !strings.Contains(out, a) {
			t.Errorf("plan does not mention %s:\n%s", a, out)
		}
	}
	if !strings.Contains(out, "9 to add, 0 to change, 0 to destroy") {
		t.Errorf("plan summary is not 9 additions:\n%s", out)
	}
	if strings.Contains(out, "not-a-real-password") {
		t.Errorf("plan prints the secret's value:\n%s", out)
	}

	// Apply converges.
	out, _, err = run(t, cfg, "apply", dir)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if !strings.Contains(out, "9 added, 0 changed, 0 destroyed") {
		t.Errorf("apply summary:\n%s", out)
	}
	web, err := c.Client.Deployments("shop").Get(c.Ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if web.Labels[LabelManifestSet] != "three-tier" || web.Annotations[AnnotationManifestAddr] != "deployment.web" || web.Labels["tier"] != "web" {
		t.Errorf("applied deployment's labels and annotations: %v %v", web.Labels, web.Annotations)
	}
	cluster.Eventually(t, 60*time.Second, "web available", func() (bool, string) {
		d, err := c.Client.Deployments("shop").Get(c.Ctx, "web")
		if err != nil {
			return false, err.Error()
		}
		return d.Status.AvailableReplicas == 2, fmt.Sprintf("%d available", d.Status.AvailableReplicas)
	})

	// A second plan has nothing to do, and is saved.
	planFile := filepath.Join(t.TempDir(), "plan.json")
	out, _, err = run(t, cfg, "plan", dir, "-out", planFile)
	if got := exitStatus(err); got != 0 {
		t.Fatalf("plan after apply exited %d (%v), want 0 (no changes):\n%s", got, err, out)
	}

	// The saved plan renders for a pull request.
	if out, _, err := run(t, cfg, "plan", "render", "-format", "markdown", planFile); err != nil || strings.TrimSpace(out) == "" {
		t.Errorf("plan render of the saved plan: %v\n%s", err, out)
	}

	// Removing a manifest plans the deletion of what it applied, and only that.
	if _, err := c.Client.ConfigMaps("shop").Create(c.Ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "by-hand", Namespace: "shop"}}); err != nil {
		t.Fatal(err)
	}
	smaller := copyDir(t, dir, "three-tier")
	if err := os.Remove(filepath.Join(smaller, "web.hcl")); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, cfg, "plan", smaller)
	if got := exitStatus(err); got != 2 || !strings.Contains(out, "deployment.web") || !strings.Contains(out, "service.web") ||
		!strings.Contains(out, "0 to add, 0 to change, 2 to destroy") || strings.Contains(out, "by-hand") {
		t.Errorf("plan without web.hcl exited %d (%v), want 2 destroying deployment.web and service.web only:\n%s", got, err, out)
	}

	// Out of band, web is scaled: the saved plan is refused, naming it.
	if out, _, err := run(t, cfg, "scale", "deployment", "web", "--replicas", "5", "-n", "shop"); err != nil {
		t.Fatalf("scale: %v\n%s", err, out)
	}
	out, _, err = run(t, cfg, "apply", planFile)
	if err == nil || !strings.Contains(err.Error(), "deployment.web") || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("apply of the saved plan after an out-of-band scale: %v, want a refusal naming deployment.web\n%s", err, out)
	}
	for _, other := range []string{"deployment.api", "deployment.db", "service.web"} {
		if strings.Contains(err.Error(), other) {
			t.Errorf("refusal names %s, which did not change:\n%v", other, err)
		}
	}
	// A plan saved and applied as such: web to 3 replicas.
	planFile = filepath.Join(t.TempDir(), "plan3.json")
	out, _, err = run(t, cfg, "plan", dir, "-var", "web_replicas=3", "-out", planFile)
	if got := exitStatus(err); got != 2 {
		t.Fatalf("plan of 3 web replicas exited %d (%v), want 2:\n%s", got, err, out)
	}
	if out, _, err = run(t, cfg, "apply", planFile); err != nil || !strings.Contains(out, "0 added, 1 changed, 0 destroyed") {
		t.Fatalf("apply of the saved plan: %v\n%s", err, out)
	}
	if d, err := c.Client.Deployments("shop").Get(c.Ctx, "web"); err != nil || *d.Spec.Replicas != 3 {
		t.Fatalf("web after the saved plan: %v %v, want 3 replicas", d.Spec.Replicas, err)
	}
	if out, _, err = run(t, cfg, "plan", dir, "-var", "web_replicas=3"); exitStatus(err) != 0 {
		t.Errorf("plan after applying the saved plan exited %d (%v), want 0:\n%s", exitStatus(err), err, out)
	}

	// A new plan sees the drift: web goes back to 2 replicas.
	out, _, err = run(t, cfg, "plan", dir, "-target", "deployment.web")
	if got := exitStatus(err); got != 2 || !strings.Contains(out, "deployment.web") || strings.Contains(out, "deployment.api") {
		t.Errorf("targeted plan after the scale exited %d (%v), want 2 changing deployment.web only:\n%s", got, err, out)
	}
}

// TestPlanTargetBringsDependencies: as with Terraform, -target plans what
// the target refers to as well (here the namespace and the config map the
// web deployment names), says so, and nothing else.
func TestPlanTargetBringsDependencies(t *testing.T) {
	t.Parallel()
	_, cfg := liveCluster(t)
	out, errOut, err := run(t, cfg, "plan", copyDir(t, threeTier, "three-tier"), "-target", "deployment.web")
	if got := exitStatus(err); got != 2 {
		t.Fatalf("targeted plan exited %d (%v), want 2:\n%s%s", got, err, out, errOut)
	}
	for _, a := range []string{"namespace.shop", "config_map.settings", "deployment.web"} {
		if !strings.Contains(out, a) {
			t.Errorf("targeted plan does not cover %s:\n%s", a, out)
		}
	}
	if !strings.Contains(out, "3 to add, 0 to change, 0 to destroy") || strings.Contains(out, "deployment.api") {
		t.Errorf("targeted plan covers more than deployment.web and what it needs:\n%s", out)
	}
	if !strings.Contains(errOut, "config_map.settings, namespace.shop") {
		t.Errorf("no warning naming the dependencies brought along:\n%s", errOut)
	}
}

// TestRemovedLabelIsRemoved: a label (or annotation) taken out of a
// manifest is planned for removal and removed, though the CLI keeps no
// state; a label someone else set is never touched.
func TestRemovedLabelIsRemoved(t *testing.T) {
	t.Parallel()
	c, cfg := liveCluster(t)
	manifest := func(labels, annotations string) string {
		return `config_map "settings" {
  metadata {
    name        = "settings"
    namespace   = "default"
    labels      = ` + labels + `
    annotations = ` + annotations + `
  }
  data = { color = "blue" }
}
`
	}
	dir := t.TempDir()
	write := func(src string) {
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(manifest(`{ app = "web", tier = "front" }`, `{ note = "hello" }`))
	if out, _, err := run(t, cfg, "apply", dir); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	cluster.Update(t, c.Ctx, c.Client.ConfigMaps("default"), "settings", func(cm *api.ConfigMap) {
		cm.Labels["other-tool"] = "x"
	})

	write(manifest(`{ app = "web" }`, `{}`))
	out, _, err := run(t, cfg, "plan", dir)
	if got := exitStatus(err); got != 2 || !strings.Contains(out, `- "tier" = "front"`) || !strings.Contains(out, `- "note" = "hello"`) ||
		strings.Contains(out, "other-tool") {
		t.Fatalf("plan without tier and note exited %d (%v), want 2 removing both and nothing else:\n%s", got, err, out)
	}
	if out, _, err := run(t, cfg, "apply", dir); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	cm, err := c.Client.ConfigMaps("default").Get(c.Ctx, "settings")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cm.Labels["tier"]; ok || cm.Labels["app"] != "web" || cm.Labels["other-tool"] != "x" {
		t.Errorf("labels after the apply: %v, want app and other-tool only (and the set's own)", cm.Labels)
	}
	if _, ok := cm.Annotations["note"]; ok {
		t.Errorf("annotation note still there: %v", cm.Annotations)
	}
	if out, _, err := run(t, cfg, "plan", dir); exitStatus(err) != 0 {
		t.Errorf("plan after the apply exited %d (%v), want 0:\n%s", exitStatus(err), err, out)
	}
}

// TestPlanValidatesWithoutCluster: the API's rules are checked before the
// cluster is asked, and each problem names its file, line and attribute.
func TestPlanValidatesWithoutCluster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := `deployment "web" {
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    selector {
      match_labels = { app = "web" }
    }
    template {
      labels = { app = "other" }
      container {
        name  = "web"
        image = "demo"
        resources {
          requests {
            cpu = "2"
          }
          limits {
            cpu = "1"
          }
        }
      }
    }
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "web.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, filepath.Join(t.TempDir(), "no-config"), "plan", dir)
	if got := exitStatus(err); got != 1 {
		t.Fatalf("plan of an invalid manifest exited %d, want 1:\n%s", got, out)
	}
	t.Logf("%v", err)
	for _, want := range []string{"web.hcl:", "deployment.web", "spec.template.labels", "spec.template.container[0].resources"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestPlanPreviewsInNewNamespace: the placement preview answers for
// workloads whose namespace the same plan creates (the server cannot
// dry-run into a namespace that does not exist yet).
func TestPlanPreviewsInNewNamespace(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	c.AddNodes(t, "node-", 2)
	cfg := clientConfig(t, c)
	dir := copyDir(t, threeTier, "three-tier")
	web := filepath.Join(dir, "web.hcl")
	b, err := os.ReadFile(web)
	if err != nil {
		t.Fatal(err)
	}
	// web asks for more CPU than any node has; api fits. An apply fails at
	// the scheduler's first verdict (unschedulable_timeout = "0s").
	src := strings.Replace(string(b), `cpu    = "100m"`, `cpu    = "500"`, 1)
	src = strings.Replace(src, `deployment "web" {`, `deployment "web" {`+"\n  unschedulable_timeout = \"0s\"", 1)
	if err := os.WriteFile(web, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &globals{configPath: cfg, out: &strings.Builder{}, errOut: &strings.Builder{}}
	pl, err := makePlan(c.Ctx, g, dir, &planOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.Namespaces().Get(c.Ctx, "shop"); !api.IsNotFound(err) {
		t.Fatalf("the plan created the namespace (or failed to read it): %v", err)
	}
	if p, ok := pl.previews["deployment.api"]; !ok || p.Pods != 2 || p.Placed != 2 || len(p.Nodes) == 0 {
		t.Errorf("preview of deployment.api in the new namespace: %+v (present %v), want 2 of 2 placed", p, ok)
	}
	if p, ok := pl.previews["deployment.web"]; !ok || p.Pods != 2 || p.Placed != 0 || !strings.Contains(p.Reason, "cpu") {
		t.Errorf("preview of deployment.web: %+v (present %v), want none of 2 placed for lack of cpu", p, ok)
	}
	// Nothing was written: the previews were dry runs.
	if ds, _, err := c.Client.Deployments("").List(c.Ctx, client.ListOptions{}); err != nil || len(ds) != 0 {
		t.Errorf("deployments after a plan: %d (%v), want none", len(ds), err)
	}
	out, _, err := run(t, cfg, "apply", dir)
	if err == nil || !strings.Contains(err.Error(), "deployment.web") || !strings.Contains(err.Error(), "cpu") {
		t.Errorf("apply of a deployment that cannot be placed: %v, want a failure naming deployment.web and the missing cpu\n%s", err, out)
	}
	t.Logf("apply's failure: %v", err)
}

// TestApplyPodInPlaceOrReplaced: a pod takes a new image in place; any
// other change to its spec replaces it, with the manifest's spec.
func TestApplyPodInPlaceOrReplaced(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	c.AddNodes(t, "node-", 1)
	cfg := clientConfig(t, c)
	dir := filepath.Join(t.TempDir(), "debug")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(image, arg string) {
		t.Helper()
		src := fmt.Sprintf(`pod "debug" {
  metadata {
    name      = "debug"
    namespace = "default"
  }
  spec {
    container {
      name  = "debug"
      image = %q
      args  = [%q]
    }
  }
}
`, image, arg)
		if err := os.WriteFile(filepath.Join(dir, "pod.hcl"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pod := func() *api.Pod {
		t.Helper()
		p, err := c.Client.Pods("default").Get(c.Ctx, "debug")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("demo:1", "serve")
	if out, _, err := run(t, cfg, "apply", dir); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	first := pod()
	if out, _, err := run(t, cfg, "plan", dir); exitStatus(err) != 0 {
		t.Errorf("plan after applying the pod exited %d (%v), want 0:\n%s", exitStatus(err), err, out)
	}

	write("demo:2", "serve")
	if out, _, err := run(t, cfg, "apply", dir); err != nil || !strings.Contains(out, "1 changed, 0 destroyed") {
		t.Fatalf("apply of a new image: %v\n%s", err, out)
	}
	if p := pod(); p.UID != first.UID || p.Spec.Containers[0].Image != "demo:2" {
		t.Errorf("new image: pod %s with %s, want the same pod (%s) with demo:2", p.UID, p.Spec.Containers[0].Image, first.UID)
	}

	write("demo:2", "sleep")
	out, _, err := run(t, cfg, "apply", dir)
	if err != nil || !strings.Contains(out, "1 added, 0 changed, 1 destroyed") {
		t.Fatalf("apply of new args: %v\n%s", err, out)
	}
	if p := pod(); p.UID == first.UID || p.Spec.Containers[0].Args[0] != "sleep" || p.Spec.Containers[0].Image != "demo:2" {
		t.Errorf("new args: pod %s with %v %s, want a new pod with [sleep] demo:2", p.UID, p.Spec.Containers[0].Args, p.Spec.Containers[0].Image)
	}
}
