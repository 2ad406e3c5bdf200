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
