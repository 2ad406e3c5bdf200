#!/usr/bin/env bash
# make demo-down: undo scripts/demo.sh. `terraform destroy` removes the
# application, drains and deletes the pools' machines, and stops and
# removes the control plane; then the demo dir goes. Safe to run twice.
#
# Usage: scripts/demo-down.sh <maestro binary> <demo dir>
set -euo pipefail
dir=$2

if [ -s "$dir/cluster-local/terraform.tfstate" ]; then
  echo "==> terraform destroy (application, node pools, control plane)"
  if ! TF_CLI_CONFIG_FILE=$dir/terraform.rc CHECKPOINT_DISABLE=1 \
    terraform -chdir="$dir/cluster-local" destroy -auto-approve -no-color; then
    echo "terraform destroy failed: $dir is kept; run make demo-down again" >&2
    exit 1
  fi
fi
rm -rf "$dir"
