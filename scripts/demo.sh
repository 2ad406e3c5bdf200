#!/usr/bin/env bash
# make demo: one `terraform apply` of examples/cluster-local builds a whole
# cluster on this machine (a control plane, two node pools of machines,
# each machine an emulated host with its own address) and runs the
# quickstart application (frontend -> backend -> store) spread over both
# pools, with the provider built from this repository; then it talks to it.
#
# Usage: scripts/demo.sh <maestro binary> <demo dir>
# Everything it writes (the cluster's data, the Terraform CLI config, a copy
# of the example and its state) stays in the demo dir; scripts/demo-down.sh
# (make demo-down) undoes it.
set -euo pipefail
maestro=$1
dir=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "$maestro")" && pwd)
command -v terraform >/dev/null || { echo "demo: terraform is not on PATH; install it first" >&2; exit 1; }

# The demo cluster's own ranges, clear of `maestro up` (10.96/16, 10.244/16,
# 10.16x.0.0/24) and of the tests': its machines on 10.170.0.0/24, where
# the API server listens on the bridge's address, 10.170.0.1.
machines=10.170.0.0/24
api=10.170.0.1:6490
server_args='["--local-machine-network='$machines'","--service-cidr=10.90.0.0/16","--pod-cidr=10.91.0.0/16"]'

# A demo left by an earlier run: undo it as make demo-down does, so every
# run starts from scratch.
if [ -d "$dir" ]; then
  echo "==> removing the demo left in $dir"
  "$(dirname "$0")/demo-down.sh" "$maestro" "$dir" >/dev/null 2>&1 || true
fi
rm -rf "$dir"; mkdir -p "$dir"

# The application's image, from bin/maestro-demo (no registry needed).
echo "==> docker build maestro-demo:v1 from $bin/maestro-demo"
ctx=$(mktemp -d)
cp "$bin/maestro-demo" "$ctx/"
printf 'FROM scratch\nCOPY maestro-demo /maestro-demo\nENTRYPOINT ["/maestro-demo"]\n' >"$ctx/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t maestro-demo:v1 "$ctx" >/dev/null
rm -rf "$ctx"

# Terraform uses the provider in bin/ (no registry, no `terraform init`:
# dev_overrides skips both) and never phones home. maestro_cluster finds
# bin/maestro beside the provider.
cat >"$dir/terraform.rc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/maestro-dev/maestro" = "$bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE=$dir/terraform.rc CHECKPOINT_DISABLE=1
cp -r "$repo/examples/cluster-local" "$dir/cluster-local"
rm -rf "$dir/cluster-local/.terraform" "$dir/cluster-local"/terraform.tfstate*
cat >"$dir/cluster-local/terraform.tfvars" <<VARS
data_dir    = "$dir/cluster"
listen      = "$api"
server_args = $server_args
VARS
tf() { echo; echo "\$ terraform $*"; terraform -chdir="$dir/cluster-local" "$@"; }

echo "==> plan from empty state: no cluster exists yet, so everything in it is known after apply"
tf plan -no-color | grep -E '^  # |Plan:|Warning|machines' || true
echo
echo "==> one apply: control plane, pools pool-a (zone-a) and pool-b (zone-b), and the quickstart over them"
tf apply -auto-approve -no-color

terraform -chdir="$dir/cluster-local" output -raw client_config >"$dir/config"
export MAESTRO_CONFIG=$dir/config
run() { echo; echo "\$ maestro $*"; "$maestro" "$@"; }
run get nodepools
run get machines
run get nodes
run get pods -n quickstart -o wide

node_port=$(terraform -chdir="$dir/cluster-local" output -raw frontend_node_port)
echo
echo "==> GET / through the frontend's node port, on a node of each pool: each tier answers, then its upstream under it"
for pool in pool-a pool-b; do
  addr=$("$maestro" get nodes -l node.maestro.dev/pool=$pool -o json |
    python3 -c 'import json,sys; n=json.load(sys.stdin)["items"][0]; print([a["address"] for a in n["status"]["addresses"] if a["type"]=="InternalIP"][0])')
  for _ in $(seq 1 50); do
    curl -fsS --max-time 5 "http://$addr:$node_port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  echo "\$ curl http://$addr:$node_port/   # a node of $pool"
  curl -sS --max-time 10 "http://$addr:$node_port/" | sed 's/^/  /'
done
echo
echo "==> a second plan is empty"
tf plan -detailed-exitcode -no-color | tail -1

cat <<MSG

The cluster and the quickstart are still running. Try:
  export MAESTRO_CONFIG=$MAESTRO_CONFIG
  $maestro get nodepools
  $maestro describe nodepool pool-b
  cd $dir/cluster-local && TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE terraform apply -var pool_size=3
Stop everything (terraform destroy: the application, the pools' machines, the control plane):
  make demo-down
MSG
