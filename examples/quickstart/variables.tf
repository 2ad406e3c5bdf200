variable "config_path" {
  description = "Path of the client config `maestro up` wrote (the demo passes $MAESTRO_CONFIG)."
  type        = string
}

variable "image" {
  description = "Image of the three tiers; `maestro up` imports maestro-demo:v1 into every node."
  type        = string
  default     = "maestro-demo:v1"
}
