package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/maestro-dev/maestro/engine/api"
)

func podConfig(provider, image, label, arg string) string {
	return provider + fmt.Sprintf(`
resource "maestro_pod" "debug" {
  metadata {
    name      = "debug"
    namespace = "default"
    labels    = { role = %q }
  }
  spec {
    restart_policy = "OnFailure"
    container {
      name  = "main"
      image = %q
      args  = [%q]
      resources {
        requests { cpu = "100m" }
      }
      readiness_probe {
        http_get { port = "8080" }
      }
    }
    volume {
      name = "scratch"
      empty_dir {}
    }
  }
  timeouts {
    create = "1m"
  }
}
`, label, image, arg)
}

// A pod: create and wait, import, labels and images in place, any other
// spec change replaces it (and the plan says so), destroy.
func TestAccPodResource(t *testing.T) {
	c, provider := accCluster(t, 2)
	ctx := context.Background()
	pods := c.Client.Pods("default")
	const addr = "maestro_pod.debug"
	var firstUID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if _, err := pods.Get(ctx, "debug"); !api.IsNotFound(err) {
				return errorf("pod still exists (err %v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: podConfig(provider, "demo:v1", "a", "--one"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "id", "default/debug"),
					resource.TestCheckResourceAttr(addr, "spec.restart_policy", "OnFailure"),
					resource.TestCheckResourceAttr(addr, "spec.termination_grace_period_seconds", "30"),
					resource.TestCheckResourceAttr(addr, "spec.container.0.readiness_probe.http_get.path", "/"),
					resource.TestMatchResourceAttr(addr, "node_name", regexp.MustCompile(`^node-\d$`)),
					resource.TestCheckResourceAttrWith(addr, "metadata.uid", func(v string) error { firstUID = v; return nil }),
					func(*terraform.State) error {
						p, err := pods.Get(ctx, "debug")
						if err != nil {
							return err
						}
						if !api.IsPodReady(p) {
							return errorf("pod not ready after apply: %+v", p.Status)
						}
						return nil
					},
				),
			},
			{
				ResourceName:            addr,
				ImportState:             true,
				ImportStateId:           "default/debug",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			// Labels and the image change in place: same pod.
			{
				Config: podConfig(provider, "demo:v2", "b", "--one"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "spec.container.0.image", "demo:v2"),
					resource.TestCheckResourceAttrWith(addr, "metadata.uid", func(v string) error {
						if v != firstUID {
							return errorf("uid %s, want the same pod %s", v, firstUID)
						}
						return nil
					}),
					func(*terraform.State) error {
						p, err := pods.Get(ctx, "debug")
						if err != nil {
							return err
						}
						if p.Labels["role"] != "b" || p.Spec.Containers[0].Image != "demo:v2" {
							return errorf("live pod: labels %v image %s", p.Labels, p.Spec.Containers[0].Image)
						}
						return nil
					},
				),
			},
			// Arguments cannot change in a running pod: the plan replaces it.
			{
				Config: podConfig(provider, "demo:v2", "b", "--two"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)},
				},
				Check: resource.TestCheckResourceAttrWith(addr, "metadata.uid", func(v string) error {
					if v == firstUID {
						return errorf("uid unchanged: the pod was not replaced")
					}
					return nil
				}),
			},
		},
	})
}

// A pod that fits nowhere fails the apply with the scheduler's count of
// reasons: after unschedulable_timeout (with the advice for the reason)
// when that comes first, else at its create timeout.
func TestAccPodResource_unschedulable(t *testing.T) {
	_, provider := accCluster(t, 1)
	for _, tc := range []struct {
		name, settings string
		want           *regexp.Regexp
	}{
		{"create timeout", `timeouts { create = "5s" }`,
			regexp.MustCompile(`(?s)Pod default/big-create-timeout did not become ready.*PodScheduled=False\s+\(Unschedulable\):\s+0/1\s+nodes\s+available:\s+1\s+insufficient\s+memory`)},
		{"fails fast", `unschedulable_timeout = "1s"
  timeouts { create = "5m" }`,
			regexp.MustCompile(`(?s)Pod default/big-fails-fast did not become ready.*` + wrapped("pod default/big-fails-fast cannot start: unschedulable for") + `\s+\S+\s+` +
				wrapped("with no node pool adding room: 0/1 nodes available: 1 insufficient memory") + `.*` + wrapped("lower the pods' memory requests") + `.*unschedulable_timeout`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: provider + strings.NewReplacer("NAME", "big-"+strings.ReplaceAll(tc.name, " ", "-"), "SETTINGS", tc.settings).Replace(`
resource "maestro_pod" "big" {
  metadata {
    name      = "NAME"
    namespace = "default"
  }
  spec {
    container {
      name  = "main"
      image = "demo:v1"
      resources {
        requests { memory = "4Ti" }
      }
    }
  }
  SETTINGS
}`),
					ExpectError: tc.want,
				}},
			})
		})
	}
}
