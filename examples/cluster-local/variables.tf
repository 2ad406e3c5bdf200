variable "data_dir" {
  description = "Data dir of the control plane (default: .maestro-cluster beside this file). Destroy removes it."
  type        = string
  default     = ""
}

variable "pool_size" {
  description = "Machines in each of the two pools."
  type        = number
  default     = 2
}

variable "image" {
  description = "Image of the three tiers (the demo app, maestro-demo:v1, which `make images` builds)."
  type        = string
  default     = "maestro-demo:v1"
}
