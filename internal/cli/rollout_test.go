package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/engine/api"
	"github.com/maestro-dev/maestro/internal/testenv/cluster"
)

func TestScaleAndRollout(t *testing.T) {
	t.Parallel()
	c := cluster.Start(t)
	c.AddNodes(t, "node-", 2, "zone-a", "zone-b")
	cfg := clientConfig(t, c)
	d := &api.Deployment{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"}, Spec: api.DeploymentSpec{
		Replicas: api.Ptr[int32](2), Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: api.PodSpec{Containers: []api.Container{{Name: "web", Image: "demo:1"}}}}}}
	if _, err := c.Client.Deployments("default").Create(c.Ctx, d); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, cfg, "rollout", "status", "web", "--timeout", "30s")
	if err != nil || !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Fatalf("rollout status: %v\n%s", err, out)
	}
	if out, _, err = run(t, cfg, "scale", "deployment", "web", "--replicas", "4"); err != nil || !strings.Contains(out, "scaled to 4") {
		t.Fatalf("scale: %v %s", err, out)
	}
	cluster.Eventually(t, 20*time.Second, "4 pods", func() (bool, string) {
		return len(c.Pods(t, "default", "app=web")) == 4, ""
	})
	// A new template, then undo back to it.
	if err := updateWithRetry(c.Ctx, c.Client.Deployments("default"), "web", func(d *api.Deployment) error {
		d.Spec.Template.Spec.Containers[0].Image = "demo:2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if out, _, err = run(t, cfg, "rollout", "status", "web", "--timeout", "30s"); err != nil {
		t.Fatalf("rollout status after update: %v\n%s", err, out)
	}
	if out, _, err = run(t, cfg, "rollout", "undo", "web"); err != nil || !strings.Contains(out, "rolled back") {
		t.Fatalf("undo: %v %s", err, out)
	}
	cluster.Eventually(t, 30*time.Second, "back on demo:1", func() (bool, string) {
		d, _ := c.Client.Deployments("default").Get(c.Ctx, "web")
		return d.Spec.Template.Spec.Containers[0].Image == "demo:1" && d.Annotations[api.AnnotationRevision] == "3", d.Annotations[api.AnnotationRevision]
	})
	out, _, err = run(t, cfg, "rollout", "history", "web")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "2 ") || !strings.Contains(lines[1], "demo:2") ||
		!strings.HasPrefix(lines[2], "3 ") || !strings.Contains(lines[2], "demo:1") {
		t.Fatalf("history:\n%s", out)
	}
	if _, _, err = run(t, cfg, "scale", "deployment", "web", "--replicas", "-1"); err == nil {
		t.Fatal("negative replicas accepted")
	}
}
