output "endpoint" {
  description = "API server of the cluster."
  value       = maestro_cluster.cp.endpoint
}

output "client_config" {
  description = "Client config for the maestro CLI: terraform output -raw client_config > config && MAESTRO_CONFIG=config maestro get nodes"
  sensitive   = true
  value = yamlencode({
    server                   = maestro_cluster.cp.endpoint
    certificateAuthorityData = maestro_cluster.cp.ca_certificate
    token                    = maestro_cluster.cp.token
  })
}

output "frontend_node_port" {
  description = "Node port of the frontend service, open on every node of the three pools: curl http://<node>:<port>/"
  value       = maestro_service.frontend.spec.port[0].node_port
}

output "zones" {
  description = "Zones the application is spread over, by pool."
  value = {
    aws    = var.aws_zones
    gcp    = var.gcp_zones
    onprem = [var.onprem_zone]
  }
}
