# TestClusterInOneApply: from empty state, one apply makes a local control
# plane, a local pool of 2 (emulated hosts on this machine) and an ssh pool
# of hosts reached over real OpenSSH, and an application spread over all
# their nodes.

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
# Changing it changes the ssh pool's template: every machine is replaced.
variable "generation" {
  type    = string
  default = "one"
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

resource "maestro_node_pool" "local" {
  name          = "local"
  size          = 2
  zones         = ["zone-a"]
  drain_timeout = "1m"
  local {}
}

resource "maestro_node_pool" "onprem" {
  name          = "onprem"
  size          = var.ssh_size
  zones         = ["zone-b"]
  labels        = { generation = var.generation }
  drain_timeout = "1m"
  ssh {
    hosts       = var.ssh_hosts
    private_key = var.ssh_private_key
    host_keys   = var.host_keys
    install_dir = var.install_dir
  }
}

resource "maestro_namespace" "app" {
  name       = "app"
  depends_on = [maestro_node_pool.local, maestro_node_pool.onprem]
}

# The quickstart's frontend: answers say which pod served them. One pod
# per node (hostname spread), so every node, local or on-prem, serves.
resource "maestro_deployment" "web" {
  metadata {
    name      = "web"
    namespace = maestro_namespace.app.name
    labels    = { app = "web" }
  }
  spec {
    replicas = 4
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
        args  = ["--port", "8080", "--shutdown-delay", "3s"]
        port {
          name           = "http"
          container_port = 8080
        }
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

resource "maestro_service" "web" {
  metadata {
    name      = "web"
    namespace = maestro_namespace.app.name
  }
  spec {
    type     = "NodePort"
    selector = { app = "web" }
    port {
      name        = "http"
      port        = 80
      target_port = "8080"
    }
  }
}

output "config" {
  value     = { server = maestro_cluster.c.endpoint, ca = maestro_cluster.c.ca_certificate, token = maestro_cluster.c.token }
  sensitive = true
}
