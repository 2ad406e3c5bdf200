#!/usr/bin/env bash
# make demo: start a maestro server (embedded etcd, scheduler, controllers)
# and three simulated nodes, deploy the example application, roll it out,
# and show how bad input is refused.
set -euo pipefail
maestro=$1
dir=$2

stop() {
  for f in "$dir"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
}
if [ -d "$dir" ]; then stop; sleep 1; fi
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
echo "==> starting 3 simulated nodes in zones a, b, c (they run no containers yet; the Docker agent comes next)"
"$maestro" simnodes --count 3 --prefix node- >"$dir/simnodes.log" 2>&1 &
echo $! >"$dir/simnodes.pid"
sleep 1

run() { echo; echo "\$ maestro $*"; "$maestro" "$@"; }
run get nodes
run create -f examples/api/app.yaml
run rollout status web -n shop --timeout 60s
run get pods -n shop
run get endpoints -n shop
echo
echo "==> a new version rolls out with no unavailable replica, then we roll back"
echo "\$ maestro rollout restart web -n shop"; "$maestro" rollout restart web -n shop
run rollout status web -n shop --timeout 60s
run rollout undo web -n shop
run rollout status web -n shop --timeout 60s
run rollout history web -n shop
echo
echo "\$ maestro create -f examples/api/invalid.yaml   # refused, every field named, nothing stored"
"$maestro" create -f examples/api/invalid.yaml || true

cat <<MSG

The server and simulated nodes are still running. Try:
  export MAESTRO_CONFIG=$MAESTRO_CONFIG
  $maestro scale deployment web -n shop --replicas 6 && $maestro get pods -n shop
Stop everything with: make demo-down
MSG
