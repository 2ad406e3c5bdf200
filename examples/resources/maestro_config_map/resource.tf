resource "maestro_config_map" "web" {
  metadata {
    namespace = "shop"
    name      = "web-config"
    labels = {
      app = "web"
    }
  }

  data = {
    LOG_LEVEL = "info"
    "app.ini" = <<-EOT
      [server]
      port = 8080
    EOT
  }
}
