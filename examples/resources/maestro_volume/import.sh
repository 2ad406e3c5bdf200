# Import by namespace/name (volumes created on a pod's first use too).
terraform import maestro_volume.db shop/db-data
