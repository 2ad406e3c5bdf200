# A whole cluster in one `terraform apply`, on this machine:
#
#   maestro_cluster.local      a control plane (maestro server, supervised, in ./.maestro-cluster)
#   maestro_node_pool.a / .b   two pools of local machines, in zones zone-a and zone-b
#   app.tf                     the quickstart application, spread over both pools
#
# The cluster lives on a provider alias of its own ("bootstrap"), which needs
# no connection; the default provider is configured from the cluster's
# outputs. They are unknown until the apply creates the cluster, so the plan
# works offline: everything in the cluster is "known after apply", and no
# other endpoint ($MAESTRO_ENDPOINT, ~/.maestro/config) is ever used.

terraform {
  required_version = ">= 1.11" # write-only attributes
  required_providers {
    maestro = {
      source = "maestro-dev/maestro"
    }
  }
}

provider "maestro" {
  alias = "bootstrap"
}

resource "maestro_cluster" "local" {
  provider = maestro.bootstrap

  local {
    data_dir    = var.data_dir != "" ? var.data_dir : "${abspath(path.root)}/.maestro-cluster"
    listen      = var.listen # port 0: a free port, kept across restarts
    server_args = var.server_args
  }
}

provider "maestro" {
  endpoint       = maestro_cluster.local.endpoint
  ca_certificate = maestro_cluster.local.ca_certificate
  token          = maestro_cluster.local.token
}

# Two pools of machines on this host. The plan says what each apply does to
# them ("create 2 machines"); the apply waits until their nodes are Ready.
resource "maestro_node_pool" "a" {
  name  = "pool-a"
  size  = var.pool_size
  zones = ["zone-a"]
  local {}
}

resource "maestro_node_pool" "b" {
  name   = "pool-b"
  size   = var.pool_size
  zones  = ["zone-b"]
  labels = { tier = "second" }
  local {}

  # Replace one machine at a time when the template (labels, taints, ...)
  # changes, draining each first.
  rollout {
    max_surge       = "1"
    max_unavailable = "0"
  }
  drain_timeout = "2m"
}
