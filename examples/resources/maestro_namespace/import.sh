# Namespaces are cluster-scoped: import by name.
terraform import maestro_namespace.shop shop
