# Reach the cluster with the client config that `maestro server` or
# `maestro up` wrote (also read from $MAESTRO_CONFIG).
provider "maestro" {
  config_path = "~/.maestro/config"
}

# Or spell the connection out (also read from $MAESTRO_ENDPOINT,
# $MAESTRO_TOKEN and $MAESTRO_CA_CERTIFICATE).
provider "maestro" {
  alias          = "explicit"
  endpoint       = "https://127.0.0.1:6443"
  token          = var.maestro_token
  ca_certificate = file("${path.module}/ca.crt")
}

variable "maestro_token" {
  type      = string
  sensitive = true
}
