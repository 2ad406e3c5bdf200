# One cluster across AWS, Google Cloud and your own hosts, in one
# `terraform apply`:
#
#   maestro_cluster.cp         the control plane, on the machine running terraform,
#                              listening where every instance and host reaches it
#   maestro_node_pool.aws      EC2 instances (spot optional), over var.aws_zones
#   maestro_node_pool.gcp      Compute Engine instances, over var.gcp_zones
#   maestro_node_pool.onprem   existing hosts reached over SSH, in var.onprem_zone
#   app.tf                     the quickstart application, spread over the zones of all three
#
# The cloud instances boot with user data (EC2) or a startup-script (GCE) that
# fetches the cluster CA (checked against its hash) and the agent binary from
# the API server, then joins with a single-use token. Cloud credentials come
# from the API server's environment (AWS default credential chain, Google
# Application Default Credentials) unless given here: then they are write-only,
# kept in secrets of the cluster (maestro-system/nodepool-<pool>-aws|gcp), never
# in the plan or the state. See docs/guides/cluster-multicloud.md.
#
# aws_endpoint and gcp_endpoint (empty: the real clouds) point the pools at
# other endpoints: the repository's tests run this example against its EC2
# and Compute Engine fakes, whose instances boot as emulated hosts.

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
    data_dir          = var.data_dir != "" ? var.data_dir : "${abspath(path.root)}/.maestro-cluster"
    listen            = var.listen
    advertise_address = var.advertise_address # instances and hosts join at https://<this>:<port>
    server_args       = concat(var.pod_network != "" ? ["--pod-network=${var.pod_network}"] : [], var.server_args)
  }
}

provider "maestro" {
  endpoint       = maestro_cluster.cp.endpoint
  ca_certificate = maestro_cluster.cp.ca_certificate
  token          = maestro_cluster.cp.token
}

locals {
  # Optional settings: empty variables leave them out.
  aws_credentials = var.aws_access_key_id != "" # else the server's default chain
  # A service account key, given or read from a file; else Application
  # Default Credentials.
  gcp_credentials_json = var.gcp_credentials_json != "" ? var.gcp_credentials_json : (
    var.gcp_credentials_file != "" ? file(pathexpand(var.gcp_credentials_file)) : null
  )
}

resource "maestro_node_pool" "aws" {
  name   = "aws"
  size   = var.aws_size
  labels = { cloud = "aws" }

  aws {
    region             = var.aws_region
    ami                = var.aws_ami
    instance_type      = var.aws_instance_type
    zones              = var.aws_zones
    spot               = var.aws_spot
    subnet_ids         = length(var.aws_subnet_ids) > 0 ? var.aws_subnet_ids : null
    security_group_ids = length(var.aws_security_group_ids) > 0 ? var.aws_security_group_ids : null
    instance_profile   = var.aws_instance_profile != "" ? var.aws_instance_profile : null
    tags               = { cluster = var.cluster_name }
    endpoint           = var.aws_endpoint != "" ? var.aws_endpoint : null

    access_key_id       = local.aws_credentials ? var.aws_access_key_id : null
    secret_access_key   = local.aws_credentials ? var.aws_secret_access_key : null
    credentials_version = var.aws_credentials_version
  }

  # A spot machine the cloud reclaims is drained and replaced; one that
  # never joins is replaced after 5 minutes (default 10).
  remediation {
    startup_timeout = "5m"
  }
  drain_timeout = "2m"
}

resource "maestro_node_pool" "gcp" {
  name   = "gcp"
  size   = var.gcp_size
  labels = { cloud = "gcp" }

  gcp {
    project         = var.gcp_project
    image           = var.gcp_image
    machine_type    = var.gcp_machine_type
    zones           = var.gcp_zones
    spot            = var.gcp_spot
    network         = var.gcp_network
    subnetwork      = var.gcp_subnetwork != "" ? var.gcp_subnetwork : null
    service_account = var.gcp_service_account != "" ? var.gcp_service_account : null
    labels          = { cluster = var.cluster_name }
    endpoint        = var.gcp_endpoint != "" ? var.gcp_endpoint : null

    credentials_json    = local.gcp_credentials_json
    credentials_version = var.gcp_credentials_version
  }

  remediation {
    startup_timeout = "5m"
  }
  drain_timeout = "2m"
}

resource "maestro_node_pool" "onprem" {
  name   = "onprem"
  size   = length(var.onprem_hosts)
  zones  = [var.onprem_zone]
  labels = { cloud = "onprem" }

  ssh {
    hosts               = keys(var.onprem_hosts)
    host_keys           = [for host, key in var.onprem_hosts : "${host} ${key}"]
    user                = var.ssh_user
    private_key         = file(pathexpand(var.private_key_path))
    private_key_version = var.private_key_version
    install_dir         = var.onprem_install_dir
  }

  drain_timeout = "2m"
}
