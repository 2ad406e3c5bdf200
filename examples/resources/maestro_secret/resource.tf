# Values in data are stored (marked sensitive) in the Terraform state.
resource "maestro_secret" "db" {
  metadata {
    namespace = "shop"
    name      = "db"
  }

  data = {
    username = "shop"
  }

  # Write-only values (Terraform 1.11+) never reach plan or state; bump
  # data_wo_version to send them again.
  data_wo = {
    password = var.db_password
  }
  data_wo_version = 1
}

variable "db_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
