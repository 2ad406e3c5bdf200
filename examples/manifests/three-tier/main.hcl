# A three-tier application (web -> api -> db) for `maestro plan` and
# `maestro apply`: the provider's resources without the `resource` keyword
# and the maestro_ prefix.
#
#   maestro plan examples/manifests/three-tier -var web_replicas=3
#   maestro apply examples/manifests/three-tier

variable "namespace" {
  type    = string
  default = "shop"
}

variable "web_replicas" {
  type    = number
  default = 2
}

# maestro-demo:v1 is the image `make demo` builds on its nodes.
variable "image_tag" {
  type    = string
  default = "v1"
}

locals {
  app    = "shop"
  labels = { app = local.app, managed-by = "maestro" }
}

namespace "shop" {
  metadata {
    name   = var.namespace
    labels = local.labels
  }
}

config_map "settings" {
  metadata {
    namespace = namespace.shop.metadata.name
    name      = "settings"
  }

  data = {
    api_url  = "http://api.${namespace.shop.metadata.name}:8080"
    db_url   = "http://db.${namespace.shop.metadata.name}:5432"
    log_mode = "json"
  }
}

secret "db" {
  metadata {
    namespace = namespace.shop.metadata.name
    name      = "db-credentials"
  }

  data = {
    password = "not-a-real-password"
  }
}
