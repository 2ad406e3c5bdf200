package tfe2e_test

import (
	"strings"
	"testing"
)

// dynamicConfig has a deployment and a pod whose env blocks a dynamic
// block makes from terraform_data's output: known only after apply
// whenever var.level changes.
const dynamicConfig = `
variable "level" {
  type = string
}

resource "terraform_data" "env" {
  input = { LEVEL = var.level }
}

resource "maestro_deployment" "web" {
  wait_for_rollout = false
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    selector {
      match_labels = { app = "web" }
    }
    template {
      labels = { app = "web" }
      container {
        name  = "web"
        image = "maestro-demo:v1"
        dynamic "env" {
          for_each = terraform_data.env.output
          content {
            name  = env.key
            value = env.value
          }
        }
      }
    }
  }
}

resource "maestro_pod" "job" {
  wait_for_rollout = false
  metadata {
    name      = "job"
    namespace = "default"
  }
  spec {
    container {
      name  = "job"
      image = "maestro-demo:v1"
      dynamic "env" {
        for_each = terraform_data.env.output
        content {
          name  = env.key
          value = env.value
        }
      }
    }
  }
}
`

// TestDynamicBlocksOverValuesNotKnownYet: blocks that a dynamic block
// makes from values known only after apply (a variable while validating,
// another resource's output while planning) are planned, not refused as a
// "Value Conversion Error": `terraform validate` passes, the first plan
// creates both objects, a change of the values plans the deployment
// updated in place and the pod replaced (whether its new spec could be
// updated in place cannot be told yet), and each apply converges, after
// which a plan is empty.
func TestDynamicBlocksOverValuesNotKnownYet(t *testing.T) {
	t.Parallel()
	c := startAPIOnly(t)
	w := newWorkspace(t, map[string]string{"main.tf": providerBlock + dynamicConfig})
	if r := w.run(nil, "validate", "-no-color"); r.code != 0 || !strings.Contains(r.stdout, "The configuration is valid") {
		t.Fatalf("terraform validate:\n%s", r)
	}
	w.setVar("config_path", c.ConfigPath)
	level := func(v string) { w.vars = append(w.vars, "-var", "level="+v) }

	level("debug")
	if r := w.wantPlan(2); !strings.Contains(r.stdout, "3 to add, 0 to change, 0 to destroy") {
		t.Fatalf("first plan:\n%s", r)
	}
	w.mustApply()
	w.wantPlan(0)

	level("info") // the later -var wins
	r := w.wantPlan(2)
	for _, want := range []string{"maestro_deployment.web will be updated in-place", "maestro_pod.job must be replaced", "1 to add, 2 to change, 1 to destroy"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan after the change has no %q:\n%s", want, r)
		}
	}
	w.mustApply()
	w.wantPlan(0)
	d, err := c.Client.Deployments("default").Get(t.Context(), "web")
	if err != nil {
		t.Fatal(err)
	}
	if env := d.Spec.Template.Spec.Containers[0].Env; len(env) != 1 || env[0].Name != "LEVEL" || env[0].Value != "info" {
		t.Errorf("deployment env after the apply: %+v, want LEVEL=info", env)
	}
}
