
resource "maestro_deployment" "web" {
  wait_for_rollout = false
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    replicas = 3
    selector {
      match_labels = { app = "web" }
    }
    strategy {
      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }
    template {
      labels = { app = "web" }
      container {
        name  = "web"
        image = "registry.example/web:1.0"
        port {
          name           = "http"
          container_port = 8080
        }
        resources {
          requests {
            cpu    = "250m"
            memory = "64Mi"
          }
        }
      }
    }
  }
}

resource "maestro_deployment" "worker" {
  wait_for_rollout = false
  metadata {
    name      = "worker"
    namespace = "default"
  }
  spec {
    replicas = 2
    selector {
      match_labels = { app = "worker" }
    }
    template {
      labels = { app = "worker" }
      container {
        name  = "worker"
        image = "registry.example/worker:1"
        port {
          name           = "http"
          container_port = 8080
        }
        resources {
          requests {
            cpu    = "250m"
            memory = "64Mi"
          }
        }
      }
    }
  }
}

resource "maestro_deployment" "cache" {
  wait_for_rollout = false
  metadata {
    name      = "cache"
    namespace = "default"
  }
  spec {
    replicas = 2
    selector {
      match_labels = { app = "cache" }
    }
    template {
      labels = { app = "cache" }
      container {
        name  = "cache"
        image = "registry.example/cache:6"
        port {
          name           = "http"
          container_port = 8080
        }
        resources {
          requests {
            cpu    = "250m"
            memory = "64Mi"
          }
        }
      }
    }
  }
}

resource "maestro_service" "web" {
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    selector = { app = "web" }
    port {
      port        = 80
      target_port = "http"
    }
  }
}

resource "maestro_autoscaler" "cache" {
  metadata {
    namespace = "default"
    name      = "cache"
  }
  spec {
    min_replicas = 2
    max_replicas = 6
    target {
      kind = "Deployment"
      name = maestro_deployment.cache.metadata.name
    }
    metric {
      resource            = "cpu"
      average_utilization = 70
    }
  }
}

resource "maestro_node_pool" "workers" {
  name           = "workers"
  size           = 2
  machine_type   = "small"
  wait_for_ready = false
  local {}
}

resource "maestro_secret" "db" {
  metadata {
    namespace = "default"
    name      = "db"
  }

  data = {
    user     = "app"
    password = "old-hunter2-not-for-your-eyes"
  }
}

resource "maestro_config_map" "old" {
  metadata {
    namespace = "default"
    name      = "old"
  }

  data = { greeting = "hello" }
}
