# Two machines on the control plane's host.
resource "maestro_node_pool" "local" {
  name  = "local"
  size  = 2
  zones = ["zone-a"]
  local {}
}

# Existing hosts over SSH, with pinned host keys; the key is write-only.
resource "maestro_node_pool" "onprem" {
  name     = "onprem"
  min_size = 1
  max_size = 3
  size     = 3
  labels   = { tier = "core" }

  ssh {
    hosts = ["10.0.0.5", "10.0.0.6", "10.0.0.7"]
    host_keys = [
      "10.0.0.5 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
      "10.0.0.6 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3wZ1Ha7l2sNqRyUMPpT5CX6f9Ut1Tm3BJH1ylkLzQf",
      "10.0.0.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGmJbkL8RKZy2bD3WvK2EJ7Hn1d2rtQn8V2c5nI0R6Lp",
    ]
    private_key         = file(pathexpand("~/.ssh/id_ed25519"))
    private_key_version = 1
  }

  rollout {
    max_surge       = "1"
    max_unavailable = "0"
  }
  drain_timeout = "5m"

  timeouts {
    create = "15m"
  }
}

# EC2 instances on spot capacity over two zones, with the server's default
# AWS credentials (environment, shared files, instance role).
resource "maestro_node_pool" "aws" {
  name = "aws"
  size = 3

  aws {
    region             = "us-east-1"
    ami                = "ami-0123456789abcdef0" # a Linux with systemd and curl (Ubuntu 24.04, Debian 12) of the region
    instance_type      = "t3.medium"
    zones              = ["us-east-1a", "us-east-1b"]
    spot               = true
    subnet_ids         = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
    security_group_ids = ["sg-0123456789abcdef0"]
    tags               = { team = "platform" }
  }
}

# Compute Engine instances, with a service account key (write-only: it
# goes into a secret of the cluster, never into the plan or state).
resource "maestro_node_pool" "gcp" {
  name = "gcp"
  size = 2

  gcp {
    project             = "acme-prod"
    image               = "projects/debian-cloud/global/images/family/debian-12"
    machine_type        = "e2-medium"
    zones               = ["us-central1-a", "us-central1-b"]
    network             = "default"
    credentials_json    = file(pathexpand("~/keys/maestro-nodes.json"))
    credentials_version = 1
  }
}
