# Import by namespace/name.
terraform import maestro_service.web shop/web
