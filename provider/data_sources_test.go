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
  name = "default"
}

data "maestro_service" "web" {
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
					resource.TestCheckResourceAttr("data.maestro_service.web", "type", "ClusterIP"),
					resource.TestCheckResourceAttrPair("data.maestro_service.web", "cluster_ip", "maestro_service.web", "spec.cluster_ip"),
					resource.TestCheckResourceAttr("data.maestro_service.web", "ports.#", "1"),
					resource.TestCheckResourceAttr("data.maestro_service.web", "ports.0.target_port", "http"),
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
					resource.TestMatchResourceAttr("data.maestro_service.web", "endpoint_addresses.0", regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)),
				),
			},
		},
	})
}
