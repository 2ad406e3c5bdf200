data "maestro_service" "web" {
  namespace = "shop"
  name      = "web"
}

output "web_address" {
  value = "${data.maestro_service.web.cluster_ip}:${data.maestro_service.web.ports[0].port}"
}

output "web_pods" {
  value = data.maestro_service.web.endpoint_addresses
}
