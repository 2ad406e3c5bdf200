data "maestro_namespace" "shop" {
  name = "shop"
}

output "shop_phase" {
  value = data.maestro_namespace.shop.phase
}
