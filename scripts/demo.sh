#!/usr/bin/env bash
# make demo: start a local 3-node cluster (`maestro up`) on Docker, apply
# the Terraform quickstart (examples/quickstart: frontend -> backend ->
# store) with the provider built from this repository, and talk to it.
#
# Usage: scripts/demo.sh <maestro binary> <demo dir>
# Everything it writes (cluster data, client config, Terraform CLI config,
# a copy of the quickstart and its state) stays in the demo dir;
# scripts/demo-down.sh (make demo-down) undoes it.
set -euo pipefail
maestro=$1
dir=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "$maestro")" && pwd)
command -v terraform >/dev/null || { echo "demo: terraform is not on PATH; install it first" >&2; exit 1; }

# A demo left by an earlier run (its cluster running or crashed): undo it
# as make demo-down does, so every run starts from scratch.
if [ -d "$dir" ]; then
  echo "==> removing the demo left in $dir"
  "$(dirname "$0")/demo-down.sh" "$maestro" "$dir" >/dev/null 2>&1 || true
fi
rm -rf "$dir"; mkdir -p "$dir"
export MAESTRO_CONFIG=$dir/config

# A cluster of its own name ("demo"): its addresses, service range and
# node names differ from any other local cluster's (`maestro up`), and
# its agents touch only its own containers, so tests and other clusters
# run beside it on the same Docker engine.
echo "==> maestro up --name demo --nodes 3 (log in $dir/up.log)"
"$maestro" up --name demo --nodes 3 --data-dir "$dir/up" --client-config "$MAESTRO_CONFIG" >"$dir/up.log" 2>&1 &
echo $! >"$dir/up.pid"
for _ in $(seq 1 300); do
  grep -q "maestro is up" "$dir/up.log" 2>/dev/null && break
  if ! kill -0 "$(cat "$dir/up.pid")" 2>/dev/null; then echo "maestro up exited:"; cat "$dir/up.log"; exit 1; fi
  sleep 0.1
done
if ! grep -q "maestro is up" "$dir/up.log"; then echo "maestro up not ready after 30s:"; cat "$dir/up.log"; exit 1; fi
sed -n '1,/^$/p' "$dir/up.log"

run() { echo; echo "\$ maestro $*"; "$maestro" "$@"; }
run get nodes

# Terraform uses the provider in bin/ (no registry, no `terraform init`:
# dev_overrides skips both) and never phones home.
cat >"$dir/terraform.rc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/maestro-dev/maestro" = "$bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE=$dir/terraform.rc CHECKPOINT_DISABLE=1
cp -r "$repo/examples/quickstart" "$dir/quickstart"
tf() { echo; echo "\$ terraform $*"; terraform -chdir="$dir/quickstart" "$@"; }

echo
echo "==> the quickstart: frontend (NodePort) -> backend (3 pods over the zones) -> store (visit counter on a persistent volume)"
tf apply -auto-approve -no-color -var "config_path=$MAESTRO_CONFIG"

run get deployments -n quickstart
run get pods -n quickstart
run get services -n quickstart
run get volumes -n quickstart
echo
echo "==> where the pods run: the backend and frontend spread over the zones, the store where its volume is"
"$maestro" get nodes -o json >"$dir/nodes.json"
"$maestro" get pods -n quickstart -o json >"$dir/pods.json"
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
zone = {n["metadata"]["name"]: n["metadata"].get("labels", {}).get("topology.maestro.dev/zone", "?")
        for n in json.load(open(d + "/nodes.json"))["items"]}
tiers = {}
for p in json.load(open(d + "/pods.json"))["items"]:
    node = p["spec"].get("nodeName", "")
    tiers.setdefault(p["metadata"]["labels"].get("app", "?"), []).append("%s (%s)" % (node, zone.get(node, "?")))
for app in ("frontend", "backend", "store"):
    print("  %-9s %s" % (app, ", ".join(sorted(tiers.get(app, [])))))
PY

ip=$(terraform -chdir="$dir/quickstart" output -raw frontend_cluster_ip)
node_port=$(terraform -chdir="$dir/quickstart" output -raw frontend_node_port)
echo
echo "==> GET / through the frontend's cluster IP: each tier answers, then its upstream's answer under it"
# The service proxy may take a moment to learn the endpoints (/readyz
# does not reach the store, so the count starts at 1 below).
for _ in $(seq 1 50); do
  curl -fsS --max-time 5 "http://$ip/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
for _ in 1 2 3; do
  echo "\$ curl http://$ip/"
  curl -sS --max-time 10 "http://$ip/" | sed 's/^/  /'
done
addr=$("$maestro" get nodes -o json |
  python3 -c 'import json,sys; n=json.load(sys.stdin)["items"][0]; print([a["address"] for a in n["status"]["addresses"] if a["type"]=="InternalIP"][0])')
echo "\$ curl http://$addr:$node_port/   # the node port, on any node"
curl -sS --max-time 10 "http://$addr:$node_port/" | sed 's/^/  /'

cat <<MSG

The cluster and the quickstart are still running (docker ps shows the pods' containers). Try:
  export MAESTRO_CONFIG=$MAESTRO_CONFIG
  $maestro get pods -n quickstart
  curl http://$ip/

Remove the quickstart (the cluster keeps running):
  cd $dir/quickstart && TF_CLI_CONFIG_FILE=$TF_CLI_CONFIG_FILE CHECKPOINT_DISABLE=1 \\
    terraform destroy -auto-approve -var config_path=$MAESTRO_CONFIG
Stop everything (terraform destroy, then maestro down):
  make demo-down
MSG
