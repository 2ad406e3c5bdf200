data "maestro_namespace" "shop" {
  metadata {
    name = "shop"
  }
}

output "shop_phase" {
  value = data.maestro_namespace.shop.phase
}

output "shop_labels" {
  value = data.maestro_namespace.shop.metadata.labels
}
