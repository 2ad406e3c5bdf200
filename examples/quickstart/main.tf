# A three-tier application on a `maestro up` cluster:
#
#   frontend (2 pods, NodePort) -> backend (3 pods) -> store (1 pod, persistent volume)
#
# Every tier is the demo app (maestro-demo). GET / on a tier answers with the
# pod that served it, followed by its upstream's answer, so one request to the
# frontend shows the whole chain; the store counts visits in a file on a
# maestro_volume, so the count survives the store's pod being replaced: the
# volume's data lives on one node and the store's pods run only there.

terraform {
  required_providers {
    maestro = {
      source = "maestro-dev/maestro"
    }
  }
}

provider "maestro" {
  config_path = var.config_path
}

locals {
  zone_label = "topology.maestro.dev/zone"

  # Environment variables every tier gets from its pod's own fields.
  pod_env = {
    POD_NAME      = "metadata.name"
    POD_NAMESPACE = "metadata.namespace"
    NODE_NAME     = "spec.nodeName"
  }
}

resource "maestro_namespace" "quickstart" {
  metadata {
    name = "quickstart"
  }
}

# --- store: one pod counting visits on a persistent volume ------------------

# The count. Its node is the one the store's first pod lands on; later pods
# go there too (or wait, if that node is down). Destroying the deployment
# leaves the volume; destroying the volume removes the count (reclaim policy
# Delete; the default, Retain, would keep it on the node).
resource "maestro_volume" "store" {
  metadata {
    name      = "quickstart-store"
    namespace = maestro_namespace.quickstart.metadata.name
  }
  spec {
    reclaim_policy = "Delete"
  }
}

resource "maestro_deployment" "store" {
  metadata {
    name      = "store"
    namespace = maestro_namespace.quickstart.metadata.name
    labels    = { app = "store" }
  }

  spec {
    replicas = 1

    selector {
      match_labels = { app = "store" }
    }

    # One writer at a time on the volume: stop the old pod before starting
    # the new one.
    strategy {
      type = "Recreate"
    }

    template {
      labels = { app = "store" }

      container {
        name  = "store"
        image = var.image
        args  = ["--port", "8080", "--version", "v1", "--counter-file", "/data/visits"]

        # Who and where the pod is, for its answers (the downward API).
        dynamic "env" {
          for_each = local.pod_env
          content {
            name = env.key
            value_from {
              field_ref { field_path = env.value }
            }
          }
        }

        port {
          name           = "http"
          container_port = 8080
        }

        volume_mount {
          name       = "data"
          mount_path = "/data"
        }

        readiness_probe {
          http_get {
            path = "/readyz"
            port = "8080"
          }
          period_seconds = 2
        }

        resources {
          requests {
            cpu    = "50m"
            memory = "32Mi"
          }
          limits {
            memory = "64Mi"
          }
        }
      }

      volume {
        name = "data"
        persistent { name = maestro_volume.store.metadata.name }
      }
    }
  }
}

resource "maestro_service" "store" {
  metadata {
    name      = "store"
    namespace = maestro_namespace.quickstart.metadata.name
    labels    = { app = "store" }
  }
  spec {
    type     = "ClusterIP"
    selector = { app = "store" }
    port {
      name        = "http"
      port        = 80
      target_port = "8080"
    }
  }
}

# --- backend: three pods spread over the zones, calling the store ------------

resource "maestro_deployment" "backend" {
  metadata {
    name      = "backend"
    namespace = maestro_namespace.quickstart.metadata.name
    labels    = { app = "backend" }
  }

  spec {
    replicas = 3

    selector {
      match_labels = { app = "backend" }
    }

    template {
      labels = { app = "backend" }

      container {
        name  = "backend"
        image = var.image
        # The store is found by its service name through cluster DNS.
        args = ["--port", "8080", "--version", "v1", "--upstream", "http://store/"]

        # Who and where the pod is, for its answers (the downward API).
        dynamic "env" {
          for_each = local.pod_env
          content {
            name = env.key
            value_from {
              field_ref { field_path = env.value }
            }
          }
        }

        port {
          name           = "http"
          container_port = 8080
        }

        readiness_probe {
          http_get {
            path = "/readyz"
            port = "8080"
          }
          period_seconds    = 2
          failure_threshold = 3
        }

        resources {
          requests {
            cpu    = "50m"
            memory = "32Mi"
          }
          limits {
            memory = "64Mi"
          }
        }
      }

      # One pod per zone when the nodes allow it.
      topology_spread_constraint {
        max_skew           = 1
        topology_key       = local.zone_label
        when_unsatisfiable = "ScheduleAnyway"
        label_selector {
          match_labels = { app = "backend" }
        }
      }
    }
  }

  depends_on = [maestro_service.store]
}

resource "maestro_service" "backend" {
  metadata {
    name      = "backend"
    namespace = maestro_namespace.quickstart.metadata.name
    labels    = { app = "backend" }
  }
  spec {
    type     = "ClusterIP"
    selector = { app = "backend" }
    port {
      name        = "http"
      port        = 80
      target_port = "8080"
    }
  }
}

# --- frontend: two pods behind a node port, calling the backend --------------

resource "maestro_deployment" "frontend" {
  metadata {
    name      = "frontend"
    namespace = maestro_namespace.quickstart.metadata.name
    labels    = { app = "frontend" }
  }

  spec {
    replicas = 2

    selector {
      match_labels = { app = "frontend" }
    }

    template {
      labels = { app = "frontend" }

      container {
        name  = "frontend"
        image = var.image
        args  = ["--port", "8080", "--version", "v1", "--upstream", "http://backend/"]

        # Who and where the pod is, for its answers (the downward API).
        dynamic "env" {
          for_each = local.pod_env
          content {
            name = env.key
            value_from {
              field_ref { field_path = env.value }
            }
          }
        }

        port {
          name           = "http"
          container_port = 8080
        }

        # Restart a pod whose server hangs; take it out of the service
        # while it is not ready.
        liveness_probe {
          http_get {
            path = "/healthz"
            port = "8080"
          }
          period_seconds = 5
        }
        readiness_probe {
          http_get {
            path = "/readyz"
            port = "8080"
          }
          period_seconds    = 2
          failure_threshold = 3
        }

        resources {
          requests {
            cpu    = "50m"
            memory = "32Mi"
          }
          limits {
            memory = "64Mi"
          }
        }
      }

      topology_spread_constraint {
        max_skew           = 1
        topology_key       = local.zone_label
        when_unsatisfiable = "ScheduleAnyway"
        label_selector {
          match_labels = { app = "frontend" }
        }
      }
    }
  }

  depends_on = [maestro_service.backend]
}

resource "maestro_service" "frontend" {
  metadata {
    name      = "frontend"
    namespace = maestro_namespace.quickstart.metadata.name
    labels    = { app = "frontend" }
  }
  spec {
    type     = "NodePort"
    selector = { app = "frontend" }
    port {
      name        = "http"
      port        = 80
      target_port = "8080"
      # node_port is allocated by the API server when left out.
    }
  }
}
