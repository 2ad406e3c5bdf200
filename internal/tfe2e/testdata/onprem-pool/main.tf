# TestMachineReplaced and TestSSHPoolBadInput: a local control plane and
# one ssh pool of hosts reached over real OpenSSH, with an application on
# the pool's nodes.

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
# Bumped to send a corrected private_key (write-only) again.
variable "ssh_private_key_version" {
  type    = number
  default = 1
}
variable "replicas" {
  type    = number
  default = 2
}
variable "not_ready_timeout" {
  type    = string
  default = "5m"
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

resource "maestro_node_pool" "onprem" {
  name          = "onprem"
  size          = var.ssh_size
  drain_timeout = "1m"
  ssh {
    hosts               = var.ssh_hosts
    private_key         = var.ssh_private_key
    private_key_version = var.ssh_private_key_version
    host_keys           = var.host_keys
    install_dir         = var.install_dir
  }
  remediation {
    not_ready_timeout = var.not_ready_timeout
  }
  timeouts {
    create = "3m"
    update = "3m"
  }
}

resource "maestro_namespace" "app" {
  name       = "app"
  depends_on = [maestro_node_pool.onprem]
}

resource "maestro_deployment" "web" {
  metadata {
    name      = "web"
    namespace = maestro_namespace.app.name
    labels    = { app = "web" }
  }
  spec {
    replicas = var.replicas
    selector {
      match_labels = { app = "web" }
    }
    template {
      labels = { app = "web" }
      topology_spread_constraint {
        max_skew           = 1
        topology_key       = "maestro.dev/hostname"
        when_unsatisfiable = "ScheduleAnyway"
        label_selector {
          match_labels = { app = "web" }
        }
      }
      container {
        name  = "web"
        image = var.image
        args  = ["--port", "8080"]
        readiness_probe {
          http_get {
            path = "/readyz"
            port = "8080"
          }
          period_seconds = 1
        }
      }
    }
  }
}

output "config" {
  value     = { server = maestro_cluster.c.endpoint, ca = maestro_cluster.c.ca_certificate, token = maestro_cluster.c.token }
  sensitive = true
}
