package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/maestro-dev/maestro/engine/api"
)

func TestAccConfigMapResource(t *testing.T) {
	c, provider := accCluster(t, 0)
	ctx := context.Background()
	cms := c.Client.ConfigMaps("default")
	config := func(data string) string {
		return provider + `
resource "maestro_config_map" "test" {
  metadata {
    namespace = "default"
    name      = "tf-cm"
    labels    = { app = "web" }
  }

  data      = ` + data + `
}`
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if _, err := cms.Get(ctx, "tf-cm"); !api.IsNotFound(err) {
				return errorf("config map still exists (err %v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: config(`{ color = "red", size = "9" }`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("maestro_config_map.test", "id", "default/tf-cm"),
					resource.TestCheckResourceAttr("maestro_config_map.test", "data.%", "2"),
					resource.TestCheckResourceAttr("maestro_config_map.test", "data.color", "red"),
					resource.TestCheckResourceAttr("maestro_config_map.test", "metadata.labels.app", "web"),
				),
			},
			{
				ResourceName:      "maestro_config_map.test",
				ImportState:       true,
				ImportStateId:     "default/tf-cm",
				ImportStateVerify: true,
			},
			{
				Config: config(`{ color = "blue" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("maestro_config_map.test", plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("maestro_config_map.test", "data.%", "1"),
					resource.TestCheckResourceAttr("maestro_config_map.test", "data.color", "blue"),
				),
			},
			// Drift: a key changed through the API is a diff, and apply converges it.
			{
				PreConfig: func() {
					cm, err := cms.Get(ctx, "tf-cm")
					if err != nil {
						t.Fatal(err)
					}
					cm.Data["color"] = "green"
					if _, err := cms.Update(ctx, cm); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(`{ color = "blue" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("maestro_config_map.test", plancheck.ResourceActionUpdate)},
				},
				Check: func(*terraform.State) error {
					cm, err := cms.Get(ctx, "tf-cm")
					if err != nil {
						return err
					}
					if cm.Data["color"] != "blue" {
						return errorf("color = %q after apply, want blue", cm.Data["color"])
					}
					return nil
				},
			},
			// Deleted outside Terraform: the plan recreates it.
			{
				PreConfig: func() {
					if err := cms.Delete(ctx, "tf-cm"); err != nil {
						t.Fatal(err)
					}
				},
				Config: config(`{ color = "blue" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("maestro_config_map.test", plancheck.ResourceActionCreate)},
				},
				Check: resource.TestCheckResourceAttr("maestro_config_map.test", "data.color", "blue"),
			},
		},
	})
}
