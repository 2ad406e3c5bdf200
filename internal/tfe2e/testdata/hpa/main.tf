# TestHorizontalAutoscalingEndToEnd: a local pool of 2 machines, the demo
# application with a CPU request, and an autoscaler keeping its pods at 50 %
# of that request between 1 and 4 replicas. The control plane is in
# ../onprem-cluster.tf.

variable "scale_down_window" {
  type    = number
  default = 20
}

resource "maestro_node_pool" "local" {
  name  = "local"
  size  = 2
  zones = ["zone-a"]
  local {}
}

resource "maestro_namespace" "app" {
  metadata {
    name = "app"
  }

  depends_on = [maestro_node_pool.local]
}

resource "maestro_deployment" "web" {
  metadata {
    name      = "web"
    namespace = maestro_namespace.app.metadata.name
    labels    = { app = "web" }
  }
  spec {
    replicas = 1
    selector {
      match_labels = { app = "web" }
    }
    template {
      labels = { app = "web" }
      container {
        name  = "web"
        image = var.image
        args  = ["--port", "8080", "--shutdown-delay", "2s"]
        port {
          name           = "http"
          container_port = 8080
        }
        resources {
          requests {
            cpu    = "100m"
            memory = "32Mi"
          }
        }
        readiness_probe {
          http_get {
            path = "/readyz"
            port = "8080"
          }
          period_seconds = 1
        }
      }
    }
  }
}

resource "maestro_autoscaler" "web" {
  metadata {
    namespace = maestro_namespace.app.metadata.name
    name      = "web"
  }
  spec {
    min_replicas = 1
    max_replicas = 4
    target {
      name = maestro_deployment.web.metadata.name
    }
    metric {
      resource            = "cpu"
      average_utilization = 50
    }
    behavior {
      scale_down {
        stabilization_window_seconds = var.scale_down_window
      }
    }
  }
}

resource "maestro_service" "web" {
  metadata {
    name      = "web"
    namespace = maestro_namespace.app.metadata.name
  }
  spec {
    type     = "NodePort"
    selector = { app = "web" }
    port {
      name        = "http"
      port        = 80
      target_port = "8080"
    }
  }
}
