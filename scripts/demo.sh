#!/usr/bin/env bash
# make demo: start a local 3-node cluster (`maestro up`) on Docker, deploy
# the demo application, talk to its pods, roll it out and back, and show
# how bad input is refused.
set -euo pipefail
maestro=$1
dir=$2

if [ -f "$dir/up.pid" ] && kill -0 "$(cat "$dir/up.pid")" 2>/dev/null; then
  "$maestro" down --data-dir "$dir/up" >/dev/null || true
fi
rm -rf "$dir"; mkdir -p "$dir"
export MAESTRO_CONFIG=$dir/config

echo "==> maestro up --nodes 3 (log in $dir/up.log)"
"$maestro" up --nodes 3 --data-dir "$dir/up" --listen 127.0.0.1:0 >"$dir/up.log" 2>&1 &
echo $! >"$dir/up.pid"
for _ in $(seq 1 300); do
  grep -q "maestro is up" "$dir/up.log" 2>/dev/null && break
  if ! kill -0 "$(cat "$dir/up.pid")" 2>/dev/null; then echo "maestro up exited:"; cat "$dir/up.log"; exit 1; fi
  sleep 0.1
done
sed -n '1,/^$/p' "$dir/up.log"

run() { echo; echo "\$ maestro $*"; "$maestro" "$@"; }
run get nodes
run create -f examples/api/app.yaml
run rollout status web -n shop --timeout 120s
run get pods -n shop
run get endpoints -n shop
echo
echo "==> each pod answers on its own address"
"$maestro" get pods -n shop -o json | python3 -c '
import json, sys, urllib.request
for p in json.load(sys.stdin)["items"]:
    ip = p["status"]["podIP"]
    body = urllib.request.urlopen("http://%s:8080/" % ip, timeout=3).read().decode().strip()
    print("  curl http://%s:8080/  ->  %s" % (ip, body))
'
pod=$("$maestro" get pods -n shop -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["metadata"]["name"])')
run logs "$pod" -n shop --tail 3
echo
echo "==> a rolling restart keeps the app available, then we roll back"
run rollout restart web -n shop
run rollout status web -n shop --timeout 120s
run rollout undo web -n shop
run rollout status web -n shop --timeout 120s
run rollout history web -n shop
echo
echo "\$ maestro create -f examples/api/invalid.yaml   # refused, every field named, nothing stored"
"$maestro" create -f examples/api/invalid.yaml || true

cat <<MSG

The cluster is still running (docker ps shows its containers). Try:
  export MAESTRO_CONFIG=$MAESTRO_CONFIG
  $maestro scale deployment web -n shop --replicas 6 && $maestro get pods -n shop
  $maestro top -n shop
Stop everything with: make demo-down
MSG
