resource "maestro_deployment" "web" {
  metadata {
    name      = "web"
    namespace = "shop"
    labels = {
      app = "web"
    }
  }

  spec {
    replicas = 3

    selector {
      match_labels = {
        app = "web"
      }
    }

    strategy {
      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }

    template {
      labels = {
        app = "web"
      }

      container {
        name  = "web"
        image = "maestro-demo:latest"
        args  = ["--listen", ":8080"]

        env {
          name  = "MODE"
          value = "production"
        }

        port {
          name           = "http"
          container_port = 8080
          protocol       = "TCP"
        }

        resources {
          requests {
            cpu    = "250m"
            memory = "256Mi"
          }
          limits {
            cpu    = "1"
            memory = "1Gi"
          }
        }
      }
    }
  }

  # Wait until every replica runs the new template (the default).
  wait_for_rollout = true

  timeouts {
    create = "5m"
    update = "5m"
  }
}
