package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// rolloutSettingsConfig is a deployment with the rollout settings given as
// HCL lines (spec-level and top-level).
func rolloutSettingsConfig(provider, spec, top string) string {
	return provider + fmt.Sprintf(`
resource "maestro_deployment" "roll" {
  metadata {
    name      = "roll"
    namespace = "default"
  }
  spec {
    replicas = 2
%s
    selector {
      match_labels = { app = "roll" }
    }
    template {
      labels = { app = "roll" }
      container {
        name  = "app"
        image = "demo:v1"
      }
    }
  }
%s
}`, spec, top)
}

// TestAccDeploymentResource_rolloutSettings: min_ready_seconds and
// progress_deadline_seconds reach the API and come back on import; left
// out, the server's defaults are no diff; the wait's own settings are
// kept in state only.
func TestAccDeploymentResource_rolloutSettings(t *testing.T) {
	c, provider := accCluster(t, 2)
	ctx := context.Background()
	const addr = "maestro_deployment.roll"
	apiValues := func(minReady, deadline int32) resource.TestCheckFunc {
		return func(*terraform.State) error {
			d, err := c.Client.Deployments("default").Get(ctx, "roll")
			if err != nil {
				return err
			}
			if d.Spec.MinReadySeconds != minReady || d.Spec.ProgressDeadlineSeconds == nil || *d.Spec.ProgressDeadlineSeconds != deadline {
				return errorf("API: minReadySeconds %d, progressDeadlineSeconds %v; want %d and %d",
					d.Spec.MinReadySeconds, d.Spec.ProgressDeadlineSeconds, minReady, deadline)
			}
			return nil
		}
	}
	set := rolloutSettingsConfig(provider, "    min_ready_seconds = 1\n    progress_deadline_seconds = 120",
		"  unschedulable_timeout = \"45s\"\n  crash_loop_restarts = 5")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			// A deadline no rollout could meet is refused at plan time.
			{
				Config:      rolloutSettingsConfig(provider, "    min_ready_seconds = 30\n    progress_deadline_seconds = 30", ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)progress_deadline_seconds.*must\s+be\s+greater\s+than\s+minReadySeconds`),
			},
			{
				Config: set,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "spec.min_ready_seconds", "1"),
					resource.TestCheckResourceAttr(addr, "spec.progress_deadline_seconds", "120"),
					resource.TestCheckResourceAttr(addr, "unschedulable_timeout", "45s"),
					resource.TestCheckResourceAttr(addr, "crash_loop_restarts", "5"),
					apiValues(1, 120),
				),
			},
			{
				ResourceName:            addr,
				ImportState:             true,
				ImportStateId:           "default/roll",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts", "wait_for_rollout", "unschedulable_timeout", "crash_loop_restarts"},
			},
			// Left out: back to the server's defaults, and no diff after.
			{
				Config: rolloutSettingsConfig(provider, "", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckNoResourceAttr(addr, "spec.min_ready_seconds"),
					resource.TestCheckNoResourceAttr(addr, "spec.progress_deadline_seconds"),
					apiValues(0, 600),
				),
			},
		},
	})
}

// TestAccDeploymentResource_impossibleRolloutFailsFast: 4 replicas that
// each need a node of their own on 3 nodes fail the apply after
// unschedulable_timeout, not the create timeout, with the scheduler's
// reason and advice that fits anti-affinity.
func TestAccDeploymentResource_impossibleRolloutFailsFast(t *testing.T) {
	_, provider := accCluster(t, 3)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: provider + `
resource "maestro_deployment" "spread" {
  metadata {
    name      = "spread"
    namespace = "default"
  }
  spec {
    replicas = 4
    selector {
      match_labels = { app = "spread" }
    }
    template {
      labels = { app = "spread" }
      container {
        name  = "app"
        image = "demo:v1"
      }
      affinity {
        pod_anti_affinity {
          required {
            topology_key = "maestro.dev/hostname"
            label_selector {
              match_labels = { app = "spread" }
            }
          }
        }
      }
    }
  }
  unschedulable_timeout = "2s"
  timeouts {
    create = "5m"
  }
}`,
			ExpectError: regexp.MustCompile(`(?s)Deployment default/spread did not roll out.*unschedulable for \S+ with no\s+node\s+pool\s+adding\s+room:\s+0/3\s+nodes\s+available:\s+3\s+node\(s\)\s+didn't\s+match\s+pod\s+anti-affinity\s+rules.*relax\s+the\s+anti-affinity.*unschedulable_timeout`),
		}},
	})
}
