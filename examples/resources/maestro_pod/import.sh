# Import by namespace/name.
terraform import maestro_pod.migrate shop/migrate-v42
