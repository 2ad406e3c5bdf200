# Import by namespace/name.
terraform import maestro_config_map.web shop/web-config
