#!/usr/bin/env bash
# make demo-down: undo scripts/demo.sh. Destroys what Terraform applied
# (while the cluster still answers), stops the cluster (`maestro down`
# removes its containers), removes the store's persistent volume and the
# demo dir. Safe to run twice.
#
# Usage: scripts/demo-down.sh <maestro binary> <demo dir>
set -euo pipefail
maestro=$1
dir=$2

state=$dir/quickstart/terraform.tfstate
if [ -s "$state" ] && [ -f "$dir/up.pid" ] && kill -0 "$(cat "$dir/up.pid")" 2>/dev/null; then
  echo "==> terraform destroy (the quickstart)"
  if ! TF_CLI_CONFIG_FILE=$dir/terraform.rc CHECKPOINT_DISABLE=1 \
    terraform -chdir="$dir/quickstart" destroy -auto-approve -no-color -var "config_path=$dir/config"; then
    echo "terraform destroy failed; stopping the cluster anyway (it takes the quickstart with it)" >&2
  fi
fi
if [ -d "$dir/up" ]; then
  echo "==> maestro down"
  "$maestro" down --data-dir "$dir/up"
fi
# terraform destroy removed the store's volume and its data (reclaim policy
# Delete) through the agent of its node. When the cluster was already down,
# its Docker volume (maestro-pv-<node>_<namespace>_<name>, on a node
# demo-node-N) is still there: remove it so the next demo counts from 1.
if command -v docker >/dev/null 2>&1; then
  vols=$(docker volume ls -q --filter name=maestro-pv-demo-node- 2>/dev/null | grep -E '^maestro-pv-demo-node-[0-9]+_.*_quickstart-store$' || true)
  if [ -n "$vols" ]; then
    echo "==> removing the store's volume ($(echo $vols))"
    docker volume rm $vols >/dev/null
  fi
fi
rm -rf "$dir"
