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

    # Pulled from a private registry with the credentials of a secret of
    # type kubernetes.io/dockerconfigjson.
    image_pull_secrets {
      name = "registry-creds"
    }

    # Every container runs as this user unless it says otherwise.
    security_context {
      run_as_user     = 1000
      run_as_non_root = true
    }

    container {
      name    = "migrate"
      image   = "registry.example.com/shop-migrations:v42"
      command = ["/migrate", "--to", "42"]

      # Every key of the config map as an environment variable.
      env_from {
        config_map_ref {
          name = "migrate-settings"
        }
      }

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

      security_context {
        read_only_root_filesystem  = true
        allow_privilege_escalation = false
        capabilities {
          drop = ["ALL"]
        }
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
