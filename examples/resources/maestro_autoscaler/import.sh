# Import by namespace/name.
terraform import maestro_autoscaler.web shop/web
