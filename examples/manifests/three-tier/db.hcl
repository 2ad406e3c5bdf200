deployment "db" {
  metadata {
    name      = "db"
    namespace = namespace.shop.metadata.name
    labels    = merge(local.labels, { tier = "db" })
  }
  spec {
    replicas = 1
    selector {
      match_labels = { app = local.app, tier = "db" }
    }
    strategy {
      type = "Recreate"
    }
    template {
      labels = { app = local.app, tier = "db" }
      container {
        name  = "db"
        image = "maestro-demo:${var.image_tag}"
        args  = ["--port", "5432", "--counter-file", "/tmp/visits"]
        port {
          name           = "db"
          container_port = 5432
        }
        env {
          name = "PASSWORD"
          value_from {
            secret_key_ref {
              name = secret.db.metadata.name
              key  = "password"
            }
          }
        }
        resources {
          requests {
            cpu    = "250m"
            memory = "256Mi"
          }
          limits {
            cpu    = "1"
            memory = "512Mi"
          }
        }
      }
    }
  }
}

service "db" {
  metadata {
    name      = "db"
    namespace = namespace.shop.metadata.name
  }
  spec {
    selector = deployment.db.spec.template.labels
    port {
      port        = 5432
      target_port = "db"
    }
  }
}
