# TestMultiCloudInOneApply, TestSpotInterruption and TestCloudPoolBadInput:
# pools on AWS and GCP (the repository's EC2 and Compute Engine fakes, whose
# instances boot as emulated hosts) and on-prem hosts over real OpenSSH, and
# the quickstart's frontend spread over their zones. The control plane is
# in ../onprem-cluster.tf.

variable "aws_endpoint" { type = string }
variable "aws_ami" { type = string }
variable "gcp_endpoint" { type = string }
variable "aws_size" {
  type    = number
  default = 1
}
variable "gcp_size" {
  type    = number
  default = 1
}
variable "aws_spot" {
  type    = bool
  default = false
}
variable "aws_instance_type" {
  type    = string
  default = "t3.small"
}
variable "replicas" {
  type    = number
  default = 3
}
variable "spread_key" {
  type    = string
  default = "topology.maestro.dev/zone"
}
variable "aws_access_key_id" {
  type    = string
  default = null
}
variable "aws_secret_access_key" {
  type      = string
  default   = null
  sensitive = true
}
variable "aws_credentials_version" {
  type    = number
  default = 1
}
variable "gcp_credentials_json" {
  type      = string
  default   = null
  sensitive = true
}

resource "maestro_node_pool" "aws" {
  name          = "aws"
  size          = var.aws_size
  max_size      = 4
  drain_timeout = "1m"
  aws {
    region              = "us-east-1"
    ami                 = var.aws_ami
    instance_type       = var.aws_instance_type
    zones               = ["us-east-1a", "us-east-1b"]
    spot                = var.aws_spot
    endpoint            = var.aws_endpoint
    access_key_id       = var.aws_access_key_id
    secret_access_key   = var.aws_secret_access_key
    credentials_version = var.aws_credentials_version
  }
}

resource "maestro_node_pool" "gcp" {
  name          = "gcp"
  size          = var.gcp_size
  max_size      = 4
  drain_timeout = "1m"
  gcp {
    project          = "maestro-test"
    image            = "projects/debian-cloud/global/images/family/debian-12"
    machine_type     = "e2-small"
    zones            = ["us-central1-a"]
    endpoint         = var.gcp_endpoint
    credentials_json = var.gcp_credentials_json
  }
}

resource "maestro_node_pool" "onprem" {
  name          = "onprem"
  size          = var.ssh_size
  zones         = ["dc1"]
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

  depends_on = [maestro_node_pool.aws, maestro_node_pool.gcp, maestro_node_pool.onprem]
}

# The quickstart's frontend: answers say which pod served them; spread
# over the zones of the three clouds (or the nodes: spread_key).
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
        topology_key       = var.spread_key
        when_unsatisfiable = "DoNotSchedule"
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
