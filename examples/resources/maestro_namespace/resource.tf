resource "maestro_namespace" "shop" {
  name = "shop"
  labels = {
    team = "checkout"
  }
  annotations = {
    "example.com/owner" = "checkout@example.com"
  }
}
