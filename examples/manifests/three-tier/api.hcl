deployment "api" {
  metadata {
    name      = "api"
    namespace = namespace.shop.metadata.name
    labels    = merge(local.labels, { tier = "api" })
  }
  spec {
    replicas = 2
    selector {
      match_labels = { app = local.app, tier = "api" }
    }
    template {
      labels = { app = local.app, tier = "api" }
      container {
        name  = "api"
        image = "maestro-demo:${var.image_tag}"
        args  = ["--port", "8080"]
        port {
          name           = "http"
          container_port = 8080
        }
        env {
          name = "UPSTREAM"
          value_from {
            config_map_key_ref {
              name = config_map.settings.metadata.name
              key  = "db_url"
            }
          }
        }
        resources {
          requests {
            cpu    = "100m"
            memory = "128Mi"
          }
        }
        readiness_probe {
          http_get {
            path = "/healthz"
            port = "http"
          }
        }
      }
    }
  }
}

service "api" {
  metadata {
    name      = "api"
    namespace = namespace.shop.metadata.name
  }
  spec {
    selector = deployment.api.spec.template.labels
    port {
      port        = 8080
      target_port = "http"
    }
  }
}
