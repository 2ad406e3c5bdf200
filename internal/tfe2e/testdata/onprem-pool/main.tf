# TestMachineReplaced and TestSSHPoolBadInput: a local control plane and
# one ssh pool of hosts reached over real OpenSSH, with an application on
# the pool's nodes. The control plane is in ../onprem-cluster.tf.

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
  metadata {
    name = "app"
  }

  depends_on = [maestro_node_pool.onprem]
}

resource "maestro_deployment" "web" {
  metadata {
    name      = "web"
    namespace = maestro_namespace.app.metadata.name
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
