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
