# A database's data: declared ahead, so it outlives the deployment (a
# `terraform destroy -target maestro_deployment.db` leaves it and its data).
resource "maestro_volume" "db" {
  metadata {
    namespace = "shop"
    name      = "db-data"
  }
  spec {
    # Destroying this resource removes the data too; the default, Retain,
    # keeps it on the node.
    reclaim_policy = "Delete"
    # node_name = "node-2" # pin it; by default the first pod's node
  }
}

resource "maestro_deployment" "db" {
  metadata {
    namespace = "shop"
    name      = "db"
  }
  spec {
    replicas = 1
    selector {
      match_labels = { app = "db" }
    }
    # One writer at a time: stop the old pod before starting the new one.
    strategy {
      type = "Recreate"
    }
    template {
      labels = { app = "db" }
      container {
        name  = "db"
        image = "maestro-demo:v1"
        args  = ["--counter-file", "/data/visits"]
        volume_mount {
          name       = "data"
          mount_path = "/data"
        }
      }
      # The pods run only on the volume's node.
      volume {
        name = "data"
        persistent { name = maestro_volume.db.metadata.name }
      }
    }
  }
}
