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

func TestAccNamespaceResource(t *testing.T) {
	c, provider := accCluster(t, 0)
	ctx := context.Background()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			_, err := c.Client.Namespaces().Get(ctx, "tf-ns")
			if !api.IsNotFound(err) {
				return err
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: provider + `
resource "maestro_namespace" "test" {
  metadata {
    name        = "tf-ns"
    labels      = { team = "a" }
    annotations = { note = "one" }
  }
}`,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("maestro_namespace.test", "id", "tf-ns"),
					resource.TestCheckResourceAttr("maestro_namespace.test", "metadata.labels.team", "a"),
					resource.TestCheckResourceAttr("maestro_namespace.test", "metadata.annotations.note", "one"),
					resource.TestCheckResourceAttrSet("maestro_namespace.test", "metadata.uid"),
					func(*terraform.State) error {
						// A label added by someone else must not become a diff
						// (the step's follow-up plan must stay empty).
						ns, err := c.Client.Namespaces().Get(ctx, "tf-ns")
						if err != nil {
							return err
						}
						ns.Labels["other-tool"] = "x"
						_, err = c.Client.Namespaces().Update(ctx, ns)
						return err
					},
				),
			},
			{
				ResourceName:      "maestro_namespace.test",
				ImportState:       true,
				ImportStateId:     "tf-ns",
				ImportStateVerify: true,
				// Import takes every label it finds, including the other tool's.
				ImportStateVerifyIgnore: []string{"metadata.labels"},
			},
			{
				Config: provider + `
resource "maestro_namespace" "test" {
  metadata {
    name   = "tf-ns"
    labels = { team = "b", tier = "gold" }
  }
}`,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("maestro_namespace.test", "metadata.labels.%", "2"),
					resource.TestCheckResourceAttr("maestro_namespace.test", "metadata.labels.team", "b"),
					resource.TestCheckNoResourceAttr("maestro_namespace.test", "metadata.annotations"),
					func(*terraform.State) error {
						ns, err := c.Client.Namespaces().Get(ctx, "tf-ns")
						if err != nil {
							return err
						}
						if ns.Labels["other-tool"] != "x" || ns.Annotations["note"] != "" {
							return errorf("labels %v annotations %v: the other tool's label must stay and the dropped annotation must go", ns.Labels, ns.Annotations)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccNamespaceResource_invalidName(t *testing.T) {
	_, provider := accCluster(t, 0)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: provider + `
resource "maestro_namespace" "test" {
  metadata {
    name = "Not_A_Label"
  }
}`,
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Invalid name.*DNS-1123 label`),
		}},
	})
}

func TestAccNamespaceResource_driftAndRecreate(t *testing.T) {
	c, provider := accCluster(t, 0)
	ctx := context.Background()
	config := provider + `
resource "maestro_namespace" "test" {
  metadata {
    name   = "tf-drift"
    labels = { team = "a" }
  }
}`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: config},
			// A tracked label changed through the API is a diff; apply restores it.
			{
				PreConfig: func() {
					ns, err := c.Client.Namespaces().Get(ctx, "tf-drift")
					if err != nil {
						t.Fatal(err)
					}
					ns.Labels["team"] = "changed"
					if _, err := c.Client.Namespaces().Update(ctx, ns); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("maestro_namespace.test", plancheck.ResourceActionUpdate)},
				},
				Check: resource.TestCheckResourceAttr("maestro_namespace.test", "metadata.labels.team", "a"),
			},
			// Deleted outside Terraform: recreated.
			{
				PreConfig: func() {
					if err := c.Client.Namespaces().Delete(ctx, "tf-drift"); err != nil {
						t.Fatal(err)
					}
					waitDeleted(t, func() error { _, err := c.Client.Namespaces().Get(ctx, "tf-drift"); return err })
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("maestro_namespace.test", plancheck.ResourceActionCreate)},
				},
			},
		},
	})
}
