#!/usr/bin/env bash
# /health/ready requests per second at 16 keep-alive connections, against nginx (Debian
# package, one worker, a fixed `return 200`) measured in the same run with the same CPU
# pinning: server on CPU $SERVER_CPU, wrk (one thread) on CPU $CLIENT_CPU. Then the
# sidecar's memory: VmRSS and RssAnon idle, after 1 million and after 2 million requests.
#
#   bench/health_rps.sh              (needs: scripts/install-deps.sh, a release build)
#   ROUNDS=5 DURATION=10 bench/health_rps.sh
#
# The memory phase runs first, on the fresh process, so its 1 and 2 million marks count
# every request the sidecar has served.
# Prints a Markdown block to paste into bench/RESULTS.md. wrk's percentiles are inflated by
# rare stalls, so only requests/s is quoted, as the median of ROUNDS runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${BINARY:-$root/build/covet-sidecar}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-10}"
server_cpu="${SERVER_CPU:-0}"
client_cpu="${CLIENT_CPU:-1}"
connections=16

for tool in wrk nginx taskset curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (run scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$binary" ] || { echo "bench: $binary not built (run scripts/build.sh)" >&2; exit 1; }

work="$(mktemp -d)"
nginx_port=18081
sidecar_port=18099
cleanup() {
  [ -n "${sidecar_pid:-}" ] && kill -TERM "$sidecar_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
daemon on;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  client_body_temp_path $work/body;
  proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi;
  uwsgi_temp_path $work/uwsgi;
  scgi_temp_path $work/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type text/plain; return 200 "ok\n"; }
  }
}
NGINX
taskset -c "$server_cpu" nginx -c "$work/nginx.conf" -p "$work"

cat >"$work/sidecar.yaml" <<YAML
listen: 127.0.0.1:$sidecar_port
log: { format: json, level: warn }
server: { max_connections: 1024 }
probes:
  - { name: data, type: disk, path: $work }
  - { name: memory, type: memory, roles: [] }
YAML
taskset -c "$server_cpu" "$binary" --config "$work/sidecar.yaml" 2>"$work/sidecar.log" &
sidecar_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$sidecar_port/health/ready" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$sidecar_port/health/ready" >/dev/null || { echo "bench: sidecar not ready"; cat "$work/sidecar.log"; exit 1; }
curl -sf "http://127.0.0.1:$nginx_port/" >/dev/null || { echo "bench: nginx not up"; cat "$work/nginx-error.log"; exit 1; }

rss() {  # VmRSS and RssAnon of the sidecar, in KiB
  awk '/^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} END {print r, a}' "/proc/$sidecar_pid/status"
}
run_wrk() {  # url -> requests/s
  taskset -c "$client_cpu" wrk -t1 -c"$connections" -d"${duration}s" "$1" | awk '/^Requests\/sec:/ {print $2}'
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

sleep 2
read -r idle_rss idle_anon < <(rss)
# The disk probe runs on libuv's thread pool; each pool thread touches its stack and malloc
# arena the first time a check lands on it (about 12 KiB each, over the first 3-4 checks).
# Let that settle before the per-request comparison, and record it.
sleep "${WARMUP:-43}"
read -r warm_rss warm_anon < <(rss)

# Memory after 1 and 2 million requests (counted by the sidecar itself).
# Requests are counted from wrk's own output, so nothing but /health/ready traffic happens in
# the measured window (a /metrics read renders and allocates on its own schedule).
load_requests() {  # count -> runs wrk in 5 s chunks until at least `count` requests were sent
  local want="$1" sent=0 n
  while [ "$sent" -lt "$want" ]; do
    n="$(taskset -c "$client_cpu" wrk -t1 -c"$connections" -d5s "http://127.0.0.1:$sidecar_port/health/ready" |
         awk '/requests in/ {print $1}')"
    sent=$((sent + n))
  done
  echo "$sent"
}
served_1m="$(load_requests 1000000)"
read -r rss_1m anon_1m < <(rss)
served_2m=$((served_1m + $(load_requests 1000000)))
read -r rss_2m anon_2m < <(rss)

nginx_runs=()
sidecar_runs=()
for round in $(seq 1 "$rounds"); do
  nginx_runs+=("$(run_wrk "http://127.0.0.1:$nginx_port/")")
  sleep 1
  sidecar_runs+=("$(run_wrk "http://127.0.0.1:$sidecar_port/health/ready")")
  sleep 1
  echo "round $round: nginx ${nginx_runs[-1]} req/s, sidecar ${sidecar_runs[-1]} req/s" >&2
done
nginx_median="$(printf '%s\n' "${nginx_runs[@]}" | median)"
sidecar_median="$(printf '%s\n' "${sidecar_runs[@]}" | median)"
ratio="$(awk -v a="$sidecar_median" -v b="$nginx_median" 'BEGIN {printf "%.2f", a / b}')"


cat <<REPORT
### $(date -u +%Y-%m-%d) — \`bench/health_rps.sh\` (ROUNDS=$rounds DURATION=${duration}s)

Machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo). Servers pinned to CPU $server_cpu, wrk (1 thread, $connections keep-alive connections) to CPU $client_cpu.

| | requests/s (median of $rounds) | runs |
|---|---|---|
| nginx 1 worker, \`return 200\` | $nginx_median | ${nginx_runs[*]} |
| covet-sidecar \`/health/ready\` | $sidecar_median | ${sidecar_runs[*]} |
| **ratio sidecar / nginx** | **$ratio** | target ≥ 0.7 |

| sidecar memory | VmRSS KiB | RssAnon KiB |
|---|---|---|
| idle (2 s after start) | $idle_rss | $idle_anon |
| idle ($((2 + ${WARMUP:-43})) s after start: probes ran on every pool thread) | $warm_rss | $warm_anon |
| after $served_1m requests | $rss_1m | $anon_1m |
| after $served_2m requests | $rss_2m | $anon_2m |

Targets: RssAnon ≤ 4096 KiB idle; no growth between 1 and 2 million requests.
REPORT
