variable "advertise_address" {
  description = "Address of this machine that the hosts reach (the API endpoint's host)."
  type        = string
}

variable "edge_hosts" {
  description = "Hosts of the edge pool: address => host key (\"ssh-ed25519 AAAA...\", from ssh-keyscan -t ed25519 <address>)."
  type        = map(string)
}

variable "core_hosts" {
  description = "Hosts of the core pool: address => host key."
  type        = map(string)
}

variable "ssh_user" {
  description = "User the agent is installed as (root, or a user with passwordless sudo)."
  type        = string
  default     = "root"
}

variable "private_key_path" {
  description = "Private key the hosts accept for ssh_user."
  type        = string
  default     = "~/.ssh/id_ed25519"
}

variable "private_key_version" {
  description = "Bump to send the key at private_key_path again (after rotating it)."
  type        = number
  default     = 1
}

variable "image" {
  description = "Image of the three tiers; the hosts' Docker must have it (docker load < maestro-demo.tar)."
  type        = string
  default     = "maestro-demo:v1"
}
