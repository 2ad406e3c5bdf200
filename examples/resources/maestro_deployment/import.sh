# Import by namespace/name.
terraform import maestro_deployment.web shop/web
