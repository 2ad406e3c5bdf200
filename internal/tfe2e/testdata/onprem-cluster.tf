# The control plane of the ssh pool tests (newOneApply writes it beside
# each test's main.tf): a local maestro_cluster, a provider configured from
# its outputs, and the variables every such test sets.

terraform {
  required_providers {
    maestro = { source = "maestro-dev/maestro" }
  }
}

variable "data_dir" { type = string }
variable "advertise" { type = string }
variable "server_args" { type = list(string) }
variable "ssh_hosts" { type = list(string) }
variable "ssh_size" { type = number }
variable "host_keys" { type = list(string) }
variable "install_dir" { type = string }
variable "image" { type = string }
variable "ssh_private_key" {
  type      = string
  sensitive = true
}

provider "maestro" {
  alias = "bootstrap"
}

resource "maestro_cluster" "c" {
  provider = maestro.bootstrap
  local {
    data_dir          = var.data_dir
    listen            = "0.0.0.0:0"
    advertise_address = var.advertise
    server_args       = var.server_args
  }
}

provider "maestro" {
  endpoint       = maestro_cluster.c.endpoint
  ca_certificate = maestro_cluster.c.ca_certificate
  token          = maestro_cluster.c.token
}

output "config" {
  value     = { server = maestro_cluster.c.endpoint, ca = maestro_cluster.c.ca_certificate, token = maestro_cluster.c.token }
  sensitive = true
}
