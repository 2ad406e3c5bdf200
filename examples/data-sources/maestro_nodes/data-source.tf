data "maestro_nodes" "gpu" {
  label_selector = "pool=gpu"
}

output "ready_gpu_nodes" {
  value = [for n in data.maestro_nodes.gpu.nodes : n.name if n.ready]
}
