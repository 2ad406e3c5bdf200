# Import by namespace/name. Every key is imported into data.
terraform import maestro_secret.db shop/db
