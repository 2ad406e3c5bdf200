# The control plane on this machine, on a provider alias that needs no
# connection; the default provider reaches the cluster through its outputs.
provider "maestro" {
  alias = "bootstrap"
}

resource "maestro_cluster" "local" {
  provider = maestro.bootstrap

  local {
    data_dir = "${abspath(path.root)}/.maestro-cluster"
  }
}

provider "maestro" {
  endpoint       = maestro_cluster.local.endpoint
  ca_certificate = maestro_cluster.local.ca_certificate
  token          = maestro_cluster.local.token
}

# Or on your own hosts over SSH: one host, or three for an HA control plane
# (etcd must be installed on each of the three).
resource "maestro_cluster" "onprem" {
  provider = maestro.bootstrap

  ssh {
    hosts            = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    host_keys        = ["10.0.0.1 ssh-ed25519 AAAA...", "10.0.0.2 ssh-ed25519 AAAA...", "10.0.0.3 ssh-ed25519 AAAA..."]
    private_key_file = pathexpand("~/.ssh/id_ed25519")
  }
}
