variable "data_dir" {
  description = "Data dir of the control plane (default: .maestro-cluster beside this file). Destroy removes it."
  type        = string
  default     = ""
}

variable "listen" {
  description = "Address of the API server; 0.0.0.0:0 with --local-machine-network in server_args."
  type        = string
  default     = "127.0.0.1:0"
}

variable "server_args" {
  description = <<-EOT
    More `maestro server` flags. As root, ["--local-machine-network=10.160.0.0/24"] (with listen = "0.0.0.0:0")
    makes every machine an emulated host with an address of its own, so the frontend answers on
    http://<node address>:<frontend_node_port>/; ["--service-cidr=10.200.0.0/24"] keeps clear of another
    cluster on this host.
  EOT
  type        = list(string)
  default     = []
}

variable "pool_size" {
  description = "Machines in each of the two pools."
  type        = number
  default     = 2
}

variable "image" {
  description = "Image of the three tiers (the demo app, maestro-demo:v1, which `make images` builds)."
  type        = string
  default     = "maestro-demo:v1"
}
