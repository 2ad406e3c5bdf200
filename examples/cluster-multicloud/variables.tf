# --- the control plane --------------------------------------------------------

variable "advertise_address" {
  description = "Address of this machine that the AWS and GCP instances and the on-prem hosts reach (the API endpoint's host): a public IP, or a private one over VPN/interconnect."
  type        = string
}

variable "listen" {
  description = "Address the API server listens on (port 0: a free port, kept across restarts)."
  type        = string
  default     = "0.0.0.0:6443"
}

variable "data_dir" {
  description = "Data dir of the control plane (default: .maestro-cluster beside this file). Destroy removes it."
  type        = string
  default     = ""
}

variable "server_args" {
  description = "More `maestro server` flags (e.g. [\"--pod-cidr=10.244.0.0/16\", \"--service-cidr=10.96.0.0/16\"])."
  type        = list(string)
  default     = []
}

variable "pod_network" {
  description = <<-EOT
    How nodes reach each other's pods (maestro server --pod-network): "wireguard" encrypts pod
    traffic between every two nodes (UDP 51820), which works across clouds and inside a VPC
    whose source/destination checks drop routed pod addresses; "" (auto) routes directly
    between nodes on one link (host-gw: on AWS disable the instances' source/destination
    check, on GCP they need IP forwarding) and uses WireGuard between the others.
  EOT
  type        = string
  default     = "wireguard"
}

variable "cluster_name" {
  description = "Tag (AWS) and label (GCP) of the cluster's instances."
  type        = string
  default     = "maestro-multicloud"
}

# --- AWS ----------------------------------------------------------------------

variable "aws_region" {
  description = "AWS region of the aws pool."
  type        = string
  default     = "us-east-1"
}

variable "aws_ami" {
  description = "AMI of the instances, in aws_region: a Linux with systemd, curl and Docker Engine (the agent runs pods in Docker), of the API server's CPU architecture (the instances run the server's own binary)."
  type        = string
}

variable "aws_instance_type" {
  description = "EC2 instance type."
  type        = string
  default     = "t3.medium"
}

variable "aws_zones" {
  description = "Availability zones of the aws pool (the next is tried when one has no capacity)."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]
}

variable "aws_size" {
  description = "Instances in the aws pool."
  type        = number
  default     = 2
}

variable "aws_spot" {
  description = "Run the aws pool on spot instances (reclaimed at two minutes' notice: drained and replaced)."
  type        = bool
  default     = false
}

variable "aws_subnet_ids" {
  description = "Subnets, one in each of aws_zones (empty: the default VPC's)."
  type        = list(string)
  default     = []
}

variable "aws_security_group_ids" {
  description = "Security groups of the instances (empty: the VPC's default group). They must allow the traffic of the guide's networking section."
  type        = list(string)
  default     = []
}

variable "aws_instance_profile" {
  description = "IAM instance profile of the instances (empty: none; maestro needs none on them)."
  type        = string
  default     = ""
}

variable "aws_endpoint" {
  description = "EC2 endpoint (empty: the region's; a VPC endpoint, or a test server)."
  type        = string
  default     = ""
}

variable "aws_access_key_id" {
  description = "Access key for the aws pool (empty: the API server's default credential chain: AWS_* environment, ~/.aws, instance role)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "aws_secret_access_key" {
  description = "Secret access key, with aws_access_key_id."
  type        = string
  default     = ""
  sensitive   = true
}

variable "aws_credentials_version" {
  description = "Bump to send the AWS access key again (after rotating it)."
  type        = number
  default     = 1
}

# --- Google Cloud -------------------------------------------------------------

variable "gcp_project" {
  description = "Google Cloud project of the gcp pool."
  type        = string
}

variable "gcp_image" {
  description = "Boot image of the instances (projects/<project>/global/images/<name>, or .../images/family/<family>): a Linux with systemd, curl and Docker Engine, of the API server's CPU architecture (e.g. an image built from debian-12 with docker.io installed)."
  type        = string
}

variable "gcp_machine_type" {
  description = "Compute Engine machine type."
  type        = string
  default     = "e2-medium"
}

variable "gcp_zones" {
  description = "Zones of the gcp pool (the next is tried when one has no capacity)."
  type        = list(string)
  default     = ["us-central1-a", "us-central1-b"]
}

variable "gcp_size" {
  description = "Instances in the gcp pool."
  type        = number
  default     = 2
}

variable "gcp_spot" {
  description = "Run the gcp pool on Spot VMs (preempted at 30 seconds' notice: drained and replaced)."
  type        = bool
  default     = false
}

variable "gcp_network" {
  description = "VPC network of the instances."
  type        = string
  default     = "default"
}

variable "gcp_subnetwork" {
  description = "Subnetwork, in the zones' region (empty: the network's, for auto-mode networks)."
  type        = string
  default     = ""
}

variable "gcp_service_account" {
  description = "Service account the instances run as (empty: none; maestro needs none on them)."
  type        = string
  default     = ""
}

variable "gcp_endpoint" {
  description = "Compute Engine endpoint (empty: compute.googleapis.com; Private Service Connect, or a test server)."
  type        = string
  default     = ""
}

variable "gcp_credentials_file" {
  description = "Service account key file for the gcp pool (empty, with gcp_credentials_json empty: the API server's Application Default Credentials)."
  type        = string
  default     = ""
}

variable "gcp_credentials_json" {
  description = "Service account key itself, instead of gcp_credentials_file."
  type        = string
  default     = ""
  sensitive   = true
}

variable "gcp_credentials_version" {
  description = "Bump to send the service account key again (after rotating it)."
  type        = number
  default     = 1
}

# --- on-prem ------------------------------------------------------------------

variable "onprem_hosts" {
  description = "Hosts of the on-prem pool: address => host key (\"ssh-ed25519 AAAA...\", from ssh-keyscan -t ed25519 <address>)."
  type        = map(string)
}

variable "onprem_zone" {
  description = "Zone of the on-prem hosts."
  type        = string
  default     = "onprem-1"
}

variable "ssh_user" {
  description = "User the agent is installed as on the on-prem hosts (root, or a user with passwordless sudo)."
  type        = string
  default     = "root"
}

variable "private_key_path" {
  description = "Private key the on-prem hosts accept for ssh_user."
  type        = string
  default     = "~/.ssh/id_ed25519"
}

variable "private_key_version" {
  description = "Bump to send the key at private_key_path again (after rotating it)."
  type        = number
  default     = 1
}

variable "onprem_install_dir" {
  description = "Where the agent is installed on the on-prem hosts."
  type        = string
  default     = "/var/lib/maestro-agent"
}

# --- the application ----------------------------------------------------------

variable "image" {
  description = "Image of the three tiers (the demo app, maestro-demo:v1): on real clouds, push it to a registry every node can pull from and name it here."
  type        = string
  default     = "maestro-demo:v1"
}

variable "frontend_replicas" {
  description = "Frontend pods: one in each pool at least."
  type        = number
  default     = 3
}

variable "backend_replicas" {
  description = "Backend pods: one in each pool at least."
  type        = number
  default     = 3
}
