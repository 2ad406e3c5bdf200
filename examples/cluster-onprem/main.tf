# A cluster on hosts you already have, in one `terraform apply`:
#
#   maestro_cluster.cp        the control plane, on the machine running terraform
#                             (listening where the hosts can reach it)
#   maestro_node_pool.edge    existing hosts reached over SSH: the agent is
#   maestro_node_pool.core    uploaded, installed and joined on each
#   app.tf                    the quickstart application, spread over both pools
#
# Host keys are pinned (ssh-keyscan -t ed25519 HOST prints them); a host whose
# key differs is refused. The private key is write-only: it goes into a
# secret in the cluster (maestro-system/nodepool-<pool>-ssh) and never into
# the plan or the state.
#
# (The control plane runs here, `local`; maestro_cluster's ssh block installs
# it on one of your hosts, or on three as an HA control plane, instead.)

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

resource "maestro_cluster" "cp" {
  provider = maestro.bootstrap

  local {
    data_dir          = "${abspath(path.root)}/.maestro-cluster"
    listen            = "0.0.0.0:6443"
    advertise_address = var.advertise_address # the hosts join at https://<this>:6443
  }
}

provider "maestro" {
  endpoint       = maestro_cluster.cp.endpoint
  ca_certificate = maestro_cluster.cp.ca_certificate
  token          = maestro_cluster.cp.token
}

resource "maestro_node_pool" "edge" {
  name  = "edge"
  size  = length(var.edge_hosts)
  zones = ["zone-a"]

  ssh {
    hosts               = keys(var.edge_hosts)
    host_keys           = [for host, key in var.edge_hosts : "${host} ${key}"]
    user                = var.ssh_user
    private_key         = file(pathexpand(var.private_key_path))
    private_key_version = var.private_key_version
  }

  # A host that never joins is replaced after 5 minutes (default 10).
  remediation {
    startup_timeout = "5m"
  }
}

resource "maestro_node_pool" "core" {
  name     = "core"
  min_size = 1
  max_size = length(var.core_hosts)
  size     = length(var.core_hosts)
  zones    = ["zone-b"]
  labels   = { tier = "core" }

  ssh {
    hosts               = keys(var.core_hosts)
    host_keys           = [for host, key in var.core_hosts : "${host} ${key}"]
    user                = var.ssh_user
    private_key         = file(pathexpand(var.private_key_path))
    private_key_version = var.private_key_version
  }

  drain_timeout = "2m"

  timeouts {
    create = "10m"
  }
}
