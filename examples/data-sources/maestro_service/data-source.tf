data "maestro_service" "web" {
  metadata {
    namespace = "shop"
    name      = "web"
  }
}

output "web_address" {
  value = "${data.maestro_service.web.spec.cluster_ip}:${data.maestro_service.web.spec.port[0].port}"
}

output "web_pods" {
  value = data.maestro_service.web.endpoint_addresses
}
