package provider

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
)

// Fields the API cannot change in place (name, namespace, a deployment's
// selector) replace the object, and the plan says so; the replacement
// applies and leaves an empty plan.
func TestAccRequiresReplace(t *testing.T) {
	_, provider := accCluster(t, 1)
	for _, tc := range []struct {
		name, addr, config string
		before, after      string
	}{
		{
			name: "namespace name", addr: "maestro_namespace.r",
			config: `resource "maestro_namespace" "r" {
  metadata {
    name = "VALUE"
  }
}`,
			before: "replace-a", after: "replace-b",
		},
		{
			name: "config map name", addr: "maestro_config_map.r",
			config: `resource "maestro_config_map" "r" {
  metadata {
    namespace = "default"
    name      = "VALUE"
  }

  data = { k = "v" }
}`,
			before: "cm-a", after: "cm-b",
		},
		{
			name: "secret namespace", addr: "maestro_secret.r",
			config: `resource "maestro_namespace" "other" {
  metadata {
    name = "secret-other"
  }
}
resource "maestro_secret" "r" {
  metadata {
    namespace = "VALUE"
    name      = "s"
  }

  data       = { k = "v" }
  depends_on = [maestro_namespace.other]
}`,
			before: "default", after: "secret-other",
		},
		{
			name: "deployment selector", addr: "maestro_deployment.r",
			config: `resource "maestro_deployment" "r" {
  metadata {
    name      = "sel"
    namespace = "default"
  }
  spec {
    selector {
      match_labels = { app = "VALUE" }
    }
    template {
      labels = { app = "VALUE" }
      container {
        name  = "main"
        image = "demo:v1"
      }
    }
  }
}`,
			before: "one", after: "two",
		},
		{
			name: "service name", addr: "maestro_service.r",
			config: `resource "maestro_service" "r" {
  metadata {
    name      = "VALUE"
    namespace = "default"
  }
  spec {
    selector = { app = "x" }
    port { port = 80 }
  }
}`,
			before: "svc-a", after: "svc-b",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := func(v string) string { return provider + strings.ReplaceAll(tc.config, "VALUE", v) }
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{
					{Config: config(tc.before)},
					{
						Config: config(tc.after),
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(tc.addr, plancheck.ResourceActionReplace)},
						},
					},
				},
			})
		})
	}
}

// The four bad inputs are each refused by plan, before any
// request, naming the attribute (terraform shows the offending line).
func TestAccPlanTimeValidation(t *testing.T) {
	_, provider := accCluster(t, 0)
	base := map[string]string{"NAME": `"web"`, "REPLICAS": "2", "MEMORY": `"256Mi"`, "RESTART": `"Always"`}
	config := func(key, value string) string {
		vals := map[string]string{}
		for k, v := range base {
			vals[k] = v
		}
		vals[key] = value
		return provider + strings.NewReplacer("NAME", vals["NAME"], "REPLICAS", vals["REPLICAS"], "MEMORY", vals["MEMORY"], "RESTART", vals["RESTART"]).Replace(`
resource "maestro_deployment" "web" {
  metadata {
    name      = NAME
    namespace = "default"
  }
  spec {
    replicas = REPLICAS
    selector {
      match_labels = { app = "web" }
    }
    template {
      labels         = { app = "web" }
      restart_policy = RESTART
      container {
        name  = "web"
        image = "demo:v1"
        resources {
          requests { memory = MEMORY }
        }
      }
    }
  }
}`)
	}
	var steps []resource.TestStep
	for _, tc := range []struct{ key, value, want string }{
		{"MEMORY", `"12 gigs"`, `(?s)Invalid quantity.*requests \{ memory = "12 gigs" \}`},
		{"REPLICAS", "-1", `(?s)Value out of range.*replicas = -1.*-1 must be between 0 and`},
		{"NAME", `"Web_1"`, `(?s)Invalid name.*name\s+= "Web_1".*DNS-1123 label`},
		{"RESTART", `"Sometimes"`, `(?s)Invalid value.*restart_policy = "Sometimes".*"Sometimes" must be one of`},
	} {
		steps = append(steps, resource.TestStep{Config: config(tc.key, tc.value), PlanOnly: true, ExpectError: regexp.MustCompile(tc.want)})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProtoV6ProviderFactories, Steps: steps})
}
