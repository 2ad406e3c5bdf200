# Import a running local control plane by its data dir.
terraform import maestro_cluster.local /home/me/infra/.maestro-cluster
