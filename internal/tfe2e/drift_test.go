package tfe2e_test

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/maestro-dev/maestro/internal/testenv"
)

// driftConfig is one deployment of 2 replicas behind a service.
const driftConfig = providerBlock + `
resource "maestro_namespace" "drift" {
  metadata {
    name = "drift"
  }
}

resource "maestro_deployment" "web" {
  metadata {
    name      = "web"
    namespace = maestro_namespace.drift.metadata.name
  }
  spec {
    replicas = 2
    selector {
      match_labels = { app = "web" }
    }
    template {
      labels = { app = "web" }
      container {
        name  = "web"
        image = "maestro-demo:v1"
        port {
          name           = "http"
          container_port = 8080
        }
        resources {
          requests {
            cpu    = "10m"
            memory = "16Mi"
          }
        }
      }
    }
  }
}

resource "maestro_service" "web" {
  metadata {
    name      = "web"
    namespace = maestro_namespace.drift.metadata.name
  }
  spec {
    selector = { app = "web" }
    port {
      port        = 80
      target_port = "http"
    }
  }
}
`

// TestDriftFromCLIAndAPI changes what terraform manages behind its back,
// once with the maestro CLI and once with the API, and checks that the
// plan shows exactly that drift, with the configuration winning, and that
// an apply converges back to an empty plan.
func TestDriftFromCLIAndAPI(t *testing.T) {
	t.Parallel()
	c := startLocalCluster(t, 1)
	ctx := context.Background()
	w := newWorkspace(t, map[string]string{"main.tf": driftConfig})
	w.setVar("config_path", c.ConfigPath)
	w.mustApply()
	w.wantPlan(0)

	maestro(t, c.ConfigPath, "scale", "deployment", "web", "--replicas", "4", "-n", "drift")
	// The state says 4 now (refresh), the configuration 2: terraform
	// scales back, and says so in that direction.
	plan := w.wantPlan(2)
	wantOutput(t, plan, `# maestro_deployment\.web will be updated in-place`, `~ replicas\s+= 4 -> 2`,
		`Plan: 0 to add, 1 to change, 0 to destroy\.`)

	if err := c.Client.Services("drift").Delete(ctx, "web"); err != nil {
		t.Fatalf("deleting the service through the API: %v", err)
	}
	plan = w.wantPlan(2)
	wantOutput(t, plan, `# maestro_service\.web will be created`, `\+ resource "maestro_service" "web"`,
		`Plan: 1 to add, 1 to change, 0 to destroy\.`)

	w.mustApply()
	w.wantPlan(0)
	d, err := c.Client.Deployments("drift").Get(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("after apply the deployment has %v replicas, want 2", d.Spec.Replicas)
	}
	if _, err := c.Client.Services("drift").Get(ctx, "web"); err != nil {
		t.Errorf("after apply the service is not back: %v", err)
	}
}

// maestro runs the maestro CLI of this checkout against the cluster.
func maestro(t testing.TB, configPath string, args ...string) string {
	t.Helper()
	bin := testenv.BuildBinary(t, "./cmd/maestro")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--config", configPath}, args...)...)
	cmd.Env = baseEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("maestro %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// wantOutput fails the test unless terraform's output matches every
// pattern (regular expressions, matched against the output with its
// diagnostic boxes and line wrapping undone, see flatten).
func wantOutput(t testing.TB, r tfResult, patterns ...string) {
	t.Helper()
	flat := flatten(r.output())
	var missing []string
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(flat) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("no match in the output for %q\n%s", missing, r)
	}
}

// flatten undoes terraform's formatting of diagnostics (the │ box and the
// word wrapping at 78 columns): box characters go, and every run of white
// space becomes one space, so a sentence matches wherever it was wrapped.
func flatten(s string) string {
	s = strings.NewReplacer("│", " ", "╷", " ", "╵", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}
