#!/usr/bin/env bash
# make demo: start a maestro server with an embedded etcd, store the example
# application through the API, show it, and show how bad input is refused.
set -euo pipefail
maestro=$1
dir=$2

if [ -f "$dir/server.pid" ] && kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then
  kill "$(cat "$dir/server.pid")"; sleep 1
fi
rm -rf "$dir"; mkdir -p "$dir"
export MAESTRO_CONFIG=$dir/config

echo "==> starting maestro server (data in $dir, log in $dir/server.log)"
"$maestro" server --data-dir "$dir/data" --listen 127.0.0.1:0 >"$dir/server.log" 2>&1 &
echo $! >"$dir/server.pid"
for _ in $(seq 1 100); do
  if [ -f "$MAESTRO_CONFIG" ] && "$maestro" get namespaces >/dev/null 2>&1; then break; fi
  if ! kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then echo "server exited:"; cat "$dir/server.log"; exit 1; fi
  sleep 0.1
done

run() { echo; echo "\$ maestro $*"; "$maestro" "$@"; }
run version
run create -f examples/api/app.yaml
run get namespaces
for kind in deployments services configmaps secrets; do run get "$kind" -n shop; done
run get deployment web -n shop -o yaml
echo
echo "\$ maestro create -f examples/api/invalid.yaml   # refused, every field named, nothing stored"
"$maestro" create -f examples/api/invalid.yaml || true

cat <<MSG

The server is still running. Try:
  export MAESTRO_CONFIG=$MAESTRO_CONFIG
  $maestro get deploy -n shop -o json
Stop it with: make demo-down
MSG
