#!/usr/bin/env bash
# Installs the programs maestro's tests run for real, on Debian: etcd-server
# (an external etcd cluster). Idempotent; does nothing when all are present.
set -euo pipefail

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: need root to install ${need[*]} (apt-get install ${need[*]})" >&2
    exit 1
  fi
else
  SUDO=
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: no apt-get; install ${need[*]} by hand" >&2
  exit 1
fi
echo "install-deps: installing ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
