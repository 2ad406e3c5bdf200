terraform {
  required_providers {
    maestro = { source = "maestro-dev/maestro" }
  }
}

variable "config_path" {
  type = string
}

provider "maestro" {
  config_path = var.config_path
}
