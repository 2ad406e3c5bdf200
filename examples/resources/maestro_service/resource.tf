resource "maestro_service" "web" {
  metadata {
    namespace = "shop"
    name      = "web"
    labels = {
      app = "web"
    }
  }
  spec {
    type     = "NodePort"
    selector = { app = "web" }
    port {
      name        = "http"
      port        = 80
      target_port = "http" # a container port name, or a number
    }
    port {
      name     = "metrics"
      port     = 9090
      protocol = "TCP"
      # node_port is allocated by the API server when left out.
    }
  }
}
