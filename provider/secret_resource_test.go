package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/maestro-dev/maestro/engine/api"
)

func TestAccSecretResource(t *testing.T) {
	c, provider := accCluster(t, 0)
	ctx := context.Background()
	secrets := c.Client.Secrets("default")
	const addr = "maestro_secret.test"
	config := func(data, wo string, version int) string {
		woBlock := ""
		if wo != "" {
			woBlock = "  data_wo = " + wo + "\n  data_wo_version = " + fmt.Sprint(version) + "\n"
		}
		return provider + `
resource "maestro_secret" "test" {
  metadata {
    namespace = "default"
    name      = "tf-secret"
    labels    = { app = "web" }
  }

  data = ` + data + `
` + woBlock + `}`
	}
	liveValue := func(key string) string {
		s, err := secrets.Get(ctx, "tf-secret")
		if err != nil {
			t.Fatal(err)
		}
		return string(s.Data[key])
	}
	noWriteOnlyInState := func(s *terraform.State) error {
		for k := range s.RootModule().Resources[addr].Primary.Attributes {
			if regexp.MustCompile(`^data_wo\.`).MatchString(k) {
				return errorf("state holds %s", k)
			}
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if _, err := secrets.Get(ctx, "tf-secret"); !api.IsNotFound(err) {
				return errorf("secret still exists (err %v)", err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: config(`{ user = "admin" }`, "", 0) + "\n" + `resource "maestro_secret" "bad" {
  metadata {
    namespace = "default"
    name      = "bad"
  }

  data_wo = { a = "b" }
}`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Missing data_wo_version`),
			},
			{
				Config: config(`{ user = "admin" }`, "", 0),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "id", "default/tf-secret"),
					resource.TestCheckResourceAttr(addr, "type", "Opaque"),
					resource.TestCheckResourceAttr(addr, "data.user", "admin"),
				),
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     "default/tf-secret",
				ImportStateVerify: true,
			},
			// Drift: a value changed through the API is a diff.
			{
				PreConfig: func() {
					s, err := secrets.Get(ctx, "tf-secret")
					if err != nil {
						t.Fatal(err)
					}
					s.Data["user"] = []byte("root")
					if _, err := secrets.Update(ctx, s); err != nil {
						t.Fatal(err)
					}
				},
				Config:             config(`{ user = "admin" }`, "", 0),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			// Write-only data: sent, never in state, and in place.
			{
				Config: config(`{ user = "admin" }`, `{ password = "s3cret-1" }`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "data.%", "1"),
					resource.TestCheckNoResourceAttr(addr, "data.password"),
					resource.TestCheckResourceAttr(addr, "data_wo_version", "1"),
					noWriteOnlyInState,
					func(*terraform.State) error {
						if v := liveValue("password"); v != "s3cret-1" {
							return errorf("password = %q", v)
						}
						if v := liveValue("user"); v != "admin" {
							return errorf("user = %q", v)
						}
						return nil
					},
				),
			},
			// A new write-only value alone is no diff; the version sends it.
			{
				Config:   config(`{ user = "admin" }`, `{ password = "s3cret-2" }`, 1),
				PlanOnly: true,
			},
			{
				Config: config(`{ user = "admin" }`, `{ password = "s3cret-2" }`, 2),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					noWriteOnlyInState,
					func(*terraform.State) error {
						if v := liveValue("password"); v != "s3cret-2" {
							return errorf("password = %q", v)
						}
						return nil
					},
				),
			},
		},
	})
}

// A server message that echoes a value never reaches the diagnostics.
func TestSecretErrorMasksValues(t *testing.T) {
	var diags diag.Diagnostics
	s := &api.Secret{Data: map[string][]byte{"password": []byte("hunter2")}}
	secretError(&diags, "Cannot create secret default/x", fmt.Errorf(`data.password: Invalid value: "hunter2": too weak`), s)
	for _, d := range diags {
		if regexp.MustCompile(`hunter2`).MatchString(d.Summary() + d.Detail()) {
			t.Fatalf("value leaked: %s", d.Detail())
		}
	}
	if len(diags) != 1 {
		t.Fatalf("got %d diagnostics", len(diags))
	}
}
