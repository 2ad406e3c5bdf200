# Import by name. An ssh pool's private_key is write-only: keep it in the
# configuration (the next apply with a changed private_key_version sends it).
terraform import maestro_node_pool.onprem onprem
