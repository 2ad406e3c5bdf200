resource "maestro_namespace" "shop" {
  metadata {
    name = "shop"
    labels = {
      team = "checkout"
    }
    annotations = {
      "example.com/owner" = "checkout@example.com"
    }
  }
}
