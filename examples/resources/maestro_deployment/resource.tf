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
        image = "maestro-demo:v1"
        args  = ["--port", "8080"]

        env {
          name  = "MODE"
          value = "production"
        }

        # The pod's own name, from a field of the pod.
        env {
          name = "POD_NAME"
          value_from {
            field_ref { field_path = "metadata.name" }
          }
        }

        # A key of a secret (maestro_secret) in the same namespace.
        env {
          name = "DB_PASSWORD"
          value_from {
            secret_key_ref {
              name = "db"
              key  = "password"
            }
          }
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

        volume_mount {
          name       = "cache"
          mount_path = "/cache"
        }

        # Out of the service's endpoints while this fails.
        readiness_probe {
          http_get {
            path = "/readyz"
            port = "http"
          }
          period_seconds = 2
        }

        # Restarted when this fails three times in a row.
        liveness_probe {
          http_get {
            path = "/healthz"
            port = "http"
          }
          initial_delay_seconds = 5
        }
      }

      volume {
        name = "cache"
        empty_dir {
          size_limit = "256Mi"
        }
      }

      # One replica per zone before any zone gets a second.
      topology_spread_constraint {
        max_skew           = 1
        topology_key       = "topology.maestro.dev/zone"
        when_unsatisfiable = "ScheduleAnyway"
        label_selector {
          match_labels = { app = "web" }
        }
      }

      # Never two replicas on one node.
      affinity {
        pod_anti_affinity {
          required {
            topology_key = "maestro.dev/hostname"
            label_selector {
              match_labels = { app = "web" }
            }
          }
        }
      }

      toleration {
        key      = "dedicated"
        operator = "Equal"
        value    = "web"
        effect   = "NoSchedule"
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
