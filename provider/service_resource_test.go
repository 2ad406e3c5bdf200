package provider

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/maestro-dev/maestro/engine/api"
)

func TestAccServiceResource(t *testing.T) {
	c, provider := accCluster(t, 0)
	ctx := context.Background()
	svcs := c.Client.Services("default")
	const addr = "maestro_service.test"
	config := func(typ, affinity, extra string) string {
		return provider + `
resource "maestro_service" "test" {
  metadata {
    namespace = "default"
    name      = "tf-svc"
    labels    = { app = "web" }
  }
  spec {
    type             = "` + typ + `"
    selector         = { app = "web" }
    session_affinity = "` + affinity + `"
    port {
      name        = "http"
      port        = 80
      target_port = "http"
    }
    port {
      name     = "dns"
      protocol = "UDP"
      port     = 53
    }
` + extra + `
  }
}`
	}
	var clusterIP, nodePort string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if _, err := svcs.Get(ctx, "tf-svc"); !api.IsNotFound(err) {
				return errorf("service still exists (err %v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config:      config("Bogus", "None", ""),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Invalid value`),
			},
			{
				Config: config("NodePort", "None", ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "id", "default/tf-svc"),
					resource.TestCheckResourceAttr(addr, "spec.type", "NodePort"),
					resource.TestCheckResourceAttr(addr, "spec.port.#", "2"),
					resource.TestCheckResourceAttr(addr, "spec.port.0.protocol", "TCP"),
					resource.TestCheckResourceAttr(addr, "spec.port.0.target_port", "http"),
					resource.TestCheckResourceAttr(addr, "spec.port.1.target_port", "53"),
					resource.TestCheckResourceAttrSet(addr, "spec.cluster_ip"),
					resource.TestCheckResourceAttrSet(addr, "spec.port.0.node_port"),
					resource.TestCheckResourceAttr(addr, "load_balancer_ingress.#", "0"),
					func(s *terraform.State) error {
						a := s.RootModule().Resources[addr].Primary.Attributes
						clusterIP, nodePort = a["spec.cluster_ip"], a["spec.port.0.node_port"]
						return nil
					},
				),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     "default/tf-svc",
				ImportStateVerify: true,
			},
			// In place: the allocated cluster IP and node ports are kept.
			{
				Config: config("NodePort", "ClientIP", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "spec.session_affinity", "ClientIP"),
					func(s *terraform.State) error {
						a := s.RootModule().Resources[addr].Primary.Attributes
						if a["spec.cluster_ip"] != clusterIP || a["spec.port.0.node_port"] != nodePort {
							return errorf("cluster IP %s node port %s changed (was %s, %s)", a["spec.cluster_ip"], a["spec.port.0.node_port"], clusterIP, nodePort)
						}
						return nil
					},
				),
			},
			// Back to ClusterIP: node ports are released.
			{
				Config: config("ClusterIP", "ClientIP", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckNoResourceAttr(addr, "spec.port.0.node_port"),
					resource.TestCheckResourceAttrPtr(addr, "spec.cluster_ip", &clusterIP),
				),
			},
			// Drift: a selector changed through the API is a diff.
			{
				PreConfig: func() {
					s, err := svcs.Get(ctx, "tf-svc")
					if err != nil {
						t.Fatal(err)
					}
					s.Spec.Selector = map[string]string{"app": "other"}
					if _, err := svcs.Update(ctx, s); err != nil {
						t.Fatal(err)
					}
				},
				Config:             config("ClusterIP", "ClientIP", ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config: config("ClusterIP", "ClientIP", ""),
				Check: func(*terraform.State) error {
					s, err := svcs.Get(ctx, "tf-svc")
					if err != nil {
						return err
					}
					if s.Spec.Selector["app"] != "web" {
						return errorf("selector = %v after apply", s.Spec.Selector)
					}
					return nil
				},
			},
			// Deleted outside Terraform: the plan recreates it.
			{
				PreConfig: func() {
					if err := svcs.Delete(ctx, "tf-svc"); err != nil {
						t.Fatal(err)
					}
				},
				Config: config("ClusterIP", "ClientIP", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)},
				},
				Check: resource.TestCheckResourceAttrSet(addr, "spec.cluster_ip"),
			},
			// A different cluster IP replaces the service.
			{
				Config: config("ClusterIP", "ClientIP", `    cluster_ip = "None"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionReplace)},
				},
				Check: resource.TestCheckResourceAttr(addr, "spec.cluster_ip", "None"),
			},
		},
	})
}
