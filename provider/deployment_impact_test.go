package provider

import (
	"regexp"
	"strings"
	"testing"
)

// A plan of a deployment's template change says, as a warning, what the
// apply does to the running pods: a rolling update with the strategy's
// bounds; a destroy plan says the pods stop; while an autoscaler targets
// the deployment, a new replicas count is said to be left to it.
func TestAccPlanShowsRolloutImpact(t *testing.T) {
	_, provider := accCluster(t, 2)
	tf := terraformCLI(t, provider+`
variable "image" { type = string }
variable "replicas" { default = 3 }
variable "autoscaled" { default = false }

resource "maestro_autoscaler" "web" {
  count = var.autoscaled ? 1 : 0

  metadata {
    namespace = "default"
    name      = "web"
  }
  spec {
    target { name = "web" }
    max_replicas = 6
    metric {
      resource            = "cpu"
      average_utilization = 50
    }
  }
}

resource "maestro_deployment" "web" {
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    replicas = var.replicas
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
		name      string
		args      []string
		want, not string // not: what the warning must not say
	}{
		{"template change", []string{"-var", "image=demo:v2"}, "rolling update of 3 pods (max surge 1, max unavailable 0)", ""},
		{"destroy", []string{"-destroy", "-var", "image=demo:v1"}, "stops 3 pods", ""},
		{"scale", []string{"-var", "image=demo:v1", "-var", "replicas=5"}, "scale from 3 to 5", ""},
		{"autoscaled", []string{"-var", "image=demo:v1", "-var", "replicas=5", "-var", "autoscaled=true"},
			"replicas (5) left to the autoscaler: the live count is not changed", "scale from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "autoscaled" {
				if out, err := tf("apply", "-input=false", "-no-color", "-auto-approve", "-var", "image=demo:v1", "-var", "autoscaled=true"); err != nil {
					t.Fatalf("terraform apply: %v\n%s", err, out)
				}
			}
			out, err := tf(append([]string{"plan", "-input=false", "-no-color"}, tc.args...)...)
			if err != nil {
				t.Fatalf("terraform plan: %v\n%s", err, out)
			}
			want := regexp.MustCompile(`(?s)Warning: Impact: maestro_deployment default/web.*with maestro_deployment\.web.*` + wrapped(tc.want))
			if !want.MatchString(out) {
				t.Fatalf("plan output lacks the impact warning %q:\n%s", tc.want, out)
			}
			if tc.not != "" && strings.Contains(out, tc.not) {
				t.Fatalf("plan output says %q:\n%s", tc.not, out)
			}
		})
	}
}
