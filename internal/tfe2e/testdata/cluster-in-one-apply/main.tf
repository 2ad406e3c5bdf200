# TestClusterInOneApply: from empty state, one apply makes a local control
# plane, a local pool of 2 (emulated hosts on this machine) and an ssh pool
# of hosts reached over real OpenSSH, and an application spread over all
# their nodes. The control plane is in ../onprem-cluster.tf.

# Changing it changes the ssh pool's template: every machine is replaced.
variable "generation" {
  type    = string
  default = "one"
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
  metadata {
    name = "app"
  }

  depends_on = [maestro_node_pool.local, maestro_node_pool.onprem]
}

# The quickstart's frontend: answers say which pod served them. One pod
# per node (hostname spread), so every node, local or on-prem, serves.
resource "maestro_deployment" "web" {
  metadata {
    name      = "web"
    namespace = maestro_namespace.app.metadata.name
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
    namespace = maestro_namespace.app.metadata.name
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
