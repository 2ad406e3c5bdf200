output "namespace" {
  description = "Namespace of the application."
  value       = maestro_namespace.quickstart.metadata.name
}

output "frontend_cluster_ip" {
  description = "Cluster IP of the frontend service (reachable from the host through maestro up's service proxy): curl http://<ip>/"
  value       = maestro_service.frontend.spec.cluster_ip
}

output "frontend_node_port" {
  description = "Node port of the frontend service, open on every node: curl http://<node address>:<port>/"
  value       = maestro_service.frontend.spec.port[0].node_port
}
