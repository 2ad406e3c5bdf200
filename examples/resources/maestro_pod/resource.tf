# A one-off pod: nothing replaces it if it fails or its node goes away.
resource "maestro_pod" "migrate" {
  metadata {
    name      = "migrate-v42"
    namespace = "shop"
    labels = {
      job = "migrate"
    }
  }

  spec {
    # Run to completion; retry on a non-zero exit.
    restart_policy = "OnFailure"

    container {
      name    = "migrate"
      image   = "shop-migrations:v42"
      command = ["/migrate", "--to", "42"]

      env {
        name = "DATABASE_URL"
        value_from {
          secret_key_ref {
            name = "db"
            key  = "url"
          }
        }
      }

      volume_mount {
        name       = "state"
        mount_path = "/var/lib/migrate"
      }

      resources {
        requests {
          cpu    = "100m"
          memory = "128Mi"
        }
      }
    }

    # Kept by the node across pods that mount the same name.
    volume {
      name = "state"
      persistent {
        name = "migrate-state"
      }
    }

    node_selector = {
      "topology.maestro.dev/zone" = "zone-a"
    }
  }

  # Wait until the pod is ready or has completed (the default).
  wait_for_rollout = true

  timeouts {
    create = "10m"
  }
}
