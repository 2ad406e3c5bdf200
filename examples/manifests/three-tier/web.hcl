deployment "web" {
  metadata {
    name      = "web"
    namespace = namespace.shop.metadata.name
    labels    = merge(local.labels, { tier = "web" })
  }
  spec {
    replicas = var.web_replicas
    selector {
      match_labels = { app = local.app, tier = "web" }
    }
    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }
    template {
      labels = { app = local.app, tier = "web" }
      container {
        name  = "web"
        image = "maestro-demo:${var.image_tag}"
        args  = ["--port", "80"]
        port {
          name           = "http"
          container_port = 80
        }
        # GET / answers with this pod, then the api's answer under it.
        env {
          name = "UPSTREAM"
          value_from {
            config_map_key_ref {
              name = config_map.settings.metadata.name
              key  = "api_url"
            }
          }
        }
        resources {
          requests {
            cpu    = "100m"
            memory = "64Mi"
          }
        }
      }
    }
  }
}

service "web" {
  metadata {
    name      = "web"
    namespace = namespace.shop.metadata.name
  }
  spec {
    type     = "NodePort"
    selector = deployment.web.spec.template.labels
    port {
      port        = 80
      target_port = "http"
    }
  }
}
