# Scale the web deployment between 2 and 10 pods to keep its pods' CPU at
# 60 % of their requests and their memory at 256Mi each. While this
# autoscaler targets it, maestro_deployment.web leaves its replicas alone.
resource "maestro_autoscaler" "web" {
  metadata {
    namespace = "shop"
    name      = "web"
  }

  spec {
    min_replicas = 2
    max_replicas = 10

    target {
      name = "web"
    }

    metric {
      resource            = "cpu"
      average_utilization = 60
    }

    metric {
      resource      = "memory"
      average_value = "256Mi"
    }

    behavior {
      # Wait 2 minutes of lower load before scaling down (default 300 s)...
      scale_down {
        stabilization_window_seconds = 120
      }
      # ...and add at most 2 pods per 30 s.
      scale_up {
        policy {
          type           = "Pods"
          value          = 2
          period_seconds = 30
        }
      }
    }
  }
}
