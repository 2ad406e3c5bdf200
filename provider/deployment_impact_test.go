package provider

import (
	"regexp"
	"testing"
)

// A plan of a deployment's template change says, as a warning, what the
// apply does to the running pods: a rolling update with the strategy's
// bounds; a destroy plan says the pods stop.
func TestAccPlanShowsRolloutImpact(t *testing.T) {
	_, provider := accCluster(t, 2)
	tf := terraformCLI(t, provider+`
variable "image" { type = string }

resource "maestro_deployment" "web" {
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    replicas = 3
    selector {
      match_labels = { app = "web" }
    }
    strategy {
      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }
    template {
      labels = { app = "web" }
      container {
        name  = "main"
        image = var.image
      }
    }
  }
}
`)
	if out, err := tf("apply", "-input=false", "-no-color", "-auto-approve", "-var", "image=demo:v1"); err != nil {
		t.Fatalf("terraform apply: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"template change", []string{"-var", "image=demo:v2"}, "rolling update of 3 pods (max surge 1, max unavailable 0)"},
		{"destroy", []string{"-destroy", "-var", "image=demo:v1"}, "stops 3 pods"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tf(append([]string{"plan", "-input=false", "-no-color"}, tc.args...)...)
			if err != nil {
				t.Fatalf("terraform plan: %v\n%s", err, out)
			}
			want := regexp.MustCompile(`(?s)Warning: Impact: maestro_deployment default/web.*with maestro_deployment\.web.*` + wrapped(tc.want))
			if !want.MatchString(out) {
				t.Fatalf("plan output lacks the impact warning %q:\n%s", tc.want, out)
			}
		})
	}
}
