package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccDataSources(t *testing.T) {
	_, provider := accCluster(t, 2)
	config := deploymentConfig(provider, 2, "demo:v1", "100m", "64Mi") + `
resource "maestro_service" "web" {
  metadata {
    namespace = "default"
    name      = "web"
  }
  spec {
    selector = { app = "web" }
    port {
      name        = "http"
      port        = 80
      target_port = "http"
    }
  }
}

data "maestro_namespace" "default" {
  metadata {
    name = "default"
  }
}

data "maestro_service" "web" {
  metadata {
    namespace = maestro_service.web.metadata.namespace
    name      = maestro_service.web.metadata.name
  }
  depends_on = [maestro_deployment.web]
}

# The first, flat shape still reads (deprecated).
data "maestro_namespace" "flat" {
  name = "default"
}

data "maestro_service" "flat" {
  namespace  = maestro_service.web.metadata.namespace
  name       = maestro_service.web.metadata.name
  depends_on = [maestro_deployment.web]
}

data "maestro_nodes" "all" {}

data "maestro_nodes" "none" {
  label_selector = "pool=does-not-exist"
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.maestro_namespace.default", "phase", "Active"),
					resource.TestCheckResourceAttrSet("data.maestro_namespace.default", "metadata.uid"),
					resource.TestCheckResourceAttr("data.maestro_namespace.flat", "phase", "Active"),
					resource.TestCheckResourceAttrPair("data.maestro_service.web", "metadata.uid", "maestro_service.web", "metadata.uid"),
					resource.TestCheckResourceAttr("data.maestro_service.web", "spec.type", "ClusterIP"),
					resource.TestCheckResourceAttrPair("data.maestro_service.web", "spec.cluster_ip", "maestro_service.web", "spec.cluster_ip"),
					resource.TestCheckResourceAttr("data.maestro_service.web", "spec.selector.app", "web"),
					resource.TestCheckResourceAttr("data.maestro_service.web", "spec.port.#", "1"),
					resource.TestCheckResourceAttr("data.maestro_service.web", "spec.port.0.target_port", "http"),
					resource.TestCheckResourceAttr("data.maestro_service.flat", "type", "ClusterIP"),
					resource.TestCheckResourceAttrPair("data.maestro_service.flat", "cluster_ip", "maestro_service.web", "spec.cluster_ip"),
					resource.TestCheckResourceAttr("data.maestro_service.flat", "ports.#", "1"),
					resource.TestCheckResourceAttr("data.maestro_service.flat", "ports.0.target_port", "http"),
					resource.TestCheckResourceAttr("data.maestro_nodes.all", "nodes.#", "2"),
					resource.TestCheckResourceAttr("data.maestro_nodes.all", "nodes.0.name", "node-0"),
					resource.TestCheckResourceAttr("data.maestro_nodes.all", "nodes.0.ready", "true"),
					resource.TestCheckResourceAttrSet("data.maestro_nodes.all", "nodes.0.capacity.cpu"),
					resource.TestCheckResourceAttr("data.maestro_nodes.none", "nodes.#", "0"),
				),
			},
			// Read again once the endpoints controller has caught up.
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.maestro_service.web", "endpoint_addresses.#", "2"),
					resource.TestCheckResourceAttr("data.maestro_service.flat", "endpoint_addresses.#", "2"),
					resource.TestMatchResourceAttr("data.maestro_service.web", "endpoint_addresses.0", regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)),
				),
			},
		},
	})
}

// TestAccDataSourcesNameTheObject: a data source without a name, or with
// both spellings of it, is refused at plan time naming the attribute.
func TestAccDataSourcesNameTheObject(t *testing.T) {
	_, provider := accCluster(t, 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: provider + `
data "maestro_namespace" "x" {
  metadata {}
}`, PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)Missing name.*Add a metadata block with the name to read`)},
			{Config: provider + `
data "maestro_service" "x" {
  metadata {
    name = "web"
  }
}`, PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)Missing namespace.*metadata block with the namespace`)},
			{Config: provider + `
data "maestro_namespace" "x" {
  name = "default"
  metadata {
    name = "default"
  }
}`, PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)Conflicting name.*Set metadata.name only`)},
		},
	})
}
