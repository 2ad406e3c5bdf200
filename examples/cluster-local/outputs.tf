output "endpoint" {
  description = "API server of the cluster."
  value       = maestro_cluster.local.endpoint
}

output "client_config" {
  description = "Client config for the maestro CLI: terraform output -raw client_config > config && MAESTRO_CONFIG=config maestro get nodes"
  sensitive   = true
  value = yamlencode({
    server                   = maestro_cluster.local.endpoint
    certificateAuthorityData = maestro_cluster.local.ca_certificate
    token                    = maestro_cluster.local.token
  })
}

output "frontend_cluster_ip" {
  description = "Cluster IP of the frontend service: curl http://<ip>/"
  value       = maestro_service.frontend.spec.cluster_ip
}

output "frontend_node_port" {
  description = "Node port of the frontend service, open on every node."
  value       = maestro_service.frontend.spec.port[0].node_port
}
