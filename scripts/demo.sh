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
run get services -n shop
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
echo
echo "==> the service balances over the pods: its cluster IP, its node port on every node, and by name from a pod"
"$maestro" get services web -n shop -o json >"$dir/svc.json"
"$maestro" get pods -n shop -o json >"$dir/pods.json"
"$maestro" get nodes -o json >"$dir/nodes.json"
python3 - "$dir" <<'PY'
import json, sys, urllib.request
d = sys.argv[1]
svc = json.load(open(d + "/svc.json"))
ip, port = svc["spec"]["clusterIP"], svc["spec"]["ports"][0]["nodePort"]
fetch = lambda url: urllib.request.urlopen(url, timeout=3).read().decode().strip()
for _ in range(3):
    print("  curl http://%s/  ->  %s" % (ip, fetch("http://%s/" % ip)))
for n in json.load(open(d + "/nodes.json"))["items"]:
    addr = [a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP"][0]
    print("  curl http://%s:%d/  ->  %s" % (addr, port, fetch("http://%s:%d/" % (addr, port))))
pod = json.load(open(d + "/pods.json"))["items"][0]
url = "http://%s:8080/call?url=http://web/" % pod["status"]["podIP"]
print("  from pod %s: curl http://web/  ->  %s" % (pod["metadata"]["name"], fetch(url)))
PY
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
