#!/usr/bin/env bash
# OTLP/HTTP traces through covet-sidecar against nginx as a reverse proxy, in the same run
# with the same pinning: the server under test on CPU $SERVER_CPU; wrk, the sink and this
# script's samplers on CPU $CLIENT_CPU.
#
#   bench/otlp.sh                       (needs: wrk, nginx, g++, a release build)
#   ROUNDS=5 DURATION=10 CONNECTIONS="1 16" SPANS="512 50" bench/otlp.sh
#
# The bodies: one ExportTraceServiceRequest per size in SPANS, shaped like the JS SDK's
# batches (bench/otlp_codec/main.cpp, built here with `--write`; 512 spans are ~290 KB),
# POSTed as application/x-protobuf by wrk (a Lua script, the same body on every request).
# The sink: nginx (1 worker) answering `return 200` on /v1/traces, which reads and
# discards the body; the same sink for every side.
#   sidecar        covet-sidecar (listen, no probes, otlp.http on its own port, one exporter
#                  `sink`: compression none, batch { max_spans 8192, max_bytes 4MiB,
#                  timeout 5ms }, max_concurrent_exports 4, queue { max_bytes 64MiB }), no
#                  resource enrichment.
#   sidecar+res    the same with `resource: { k8s.pod.name: bench }` (every request is
#                  re-framed with one more resource attribute).
#   sidecar+gzip   the same as `sidecar` with `compression: gzip`, one round per body.
#   nginx proxy    nginx, 1 worker, proxy_pass to the sink over keep-alive upstream
#                  connections, proxy_request_buffering on, bodies kept in memory
#                  (client_body_buffer_size above the largest body).
# Throughput: wrk -t1 -cC for DURATION s for each C in CONNECTIONS (1: one request at a time;
#   16: more than the server can take), alternating the sides, ROUNDS times.
#   requests/s   accepted: wrk's requests minus its non-2xx (a 503 from the sidecar's full
#                queue is backpressure, not throughput; every non-2xx is reported).
#   spans/s      nginx: accepted requests × spans per body (it answers after the sink did);
#                sidecar: covet_sidecar_otlp_exported_spans_total{destination="sink"} delta
#                over the round (read from /metrics just before and just after wrk), i.e.
#                what it delivered to the sink, beside received_spans_total's delta.
#   CPU %        utime+stime of the server (the nginx worker, the sidecar's every thread)
#                over the round: ~100 means the server's core was the limit.
#   Between rounds the sidecar's queue is let drain (covet_sidecar_otlp_queue_bytes 0).
# Memory: VmRSS and RssAnon of each sidecar (/proc/PID/status) sampled every 0.1 s for the
#   whole run: the peak, against the queue limit (64 MiB), and VmHWM at the end; then
#   RssAnon once more after 11 s without traffic: what stays resident after a burst (the
#   agent gives spare buffers and free heap back every 5 s; the first pass after a burst
#   still keeps what that burst used).
# Latency: wrk -t1 -c$LAT_CONNECTIONS --latency with a Lua delay() of LAT_DELAY_MS between a
#   connection's requests (a moderate rate, well below saturation: wrk has no fixed-rate
#   mode), directly to the sink, through the nginx proxy and through the sidecar, alternating,
#   ROUNDS times: medians of wrk's p50 and p99. wrk 4.1 adds synthetic samples after stalls,
#   which inflates its p99; the three sides share that bias.
# BINARY=path selects the sidecar; SIDECAR_ENV="NAME=VALUE ..." sets its environment.
# Prints a Markdown block to paste into bench/RESULTS.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${BINARY:-$root/build/covet-sidecar}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-10}"
connection_counts="${CONNECTIONS:-1 16}"
span_sizes="${SPANS:-512 50}"
lat_connections="${LAT_CONNECTIONS:-2}"
lat_delay_ms="${LAT_DELAY_MS:-20}"
lat_duration="${LAT_DURATION:-$duration}"
server_cpu="${SERVER_CPU:-0}"
client_cpu="${CLIENT_CPU:-1}"
read -r -a sidecar_env <<<"${SIDECAR_ENV:-}"
readonly QUEUE_MAX_MIB=64

for tool in wrk nginx taskset curl ss g++; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (run scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$binary" ] || { echo "bench: $binary not built (run scripts/build.sh)" >&2; exit 1; }
# shellcheck source=scripts/lib/local-servers.sh
source "$root/scripts/lib/local-servers.sh"

work=""
sink_pid=""
proxy_pid=""
sampler_pid=""
declare -A sidecar_pid=()
cleanup() {
  local rc=$?
  trap '' INT TERM
  trap - EXIT
  stop_pid "$sampler_pid" sampler 2
  local name
  for name in "${!sidecar_pid[@]}"; do stop_pid "${sidecar_pid[$name]}" "covet-sidecar ($name)" 10; done
  stop_pid "$proxy_pid" "nginx (proxy)" 10
  stop_pid "$sink_pid" "nginx (sink)" 10
  [ -z "$work" ] || rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
work="$(mktemp -d /tmp/covet-bench-otlp.XXXXXX)"
chmod 0711 "$work"  # nginx's workers run as nobody and create their temp directories here

die() { echo "bench: $*" >&2; exit 1; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
med() { printf '%s\n' "$@" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "n/a"; else printf "%.2f", a / b}'; }
now() { date +%s.%N; }
cpu_ticks() {  # pid -> utime + stime of the whole process, in clock ticks
  awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"
}

# --- the bodies
echo "bench: building the request generator" >&2
g++ -std=c++20 -O2 -DNDEBUG -I"$root" "$root"/bench/otlp_codec/main.cpp \
  "$root"/exporters/otlp/{wire,traces,plain_shapes,json,json_reader}.cpp "$root"/exporters/utf8.cpp -lfmt -o "$work/otlp_codec"
declare -A body_bytes=()
for n in $span_sizes; do
  body_bytes[$n]="$("$work/otlp_codec" --write "$work/body-$n.pb" "$n")"
done

cat >"$work/post.lua" <<'LUA'
-- POSTs the body in $BODY_FILE as OTLP/HTTP protobuf; with $DELAY_MS > 0 each connection
-- waits that long between a response and its next request.
local file = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/x-protobuf"
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
if delay_ms > 0 then
  function delay() return delay_ms end
end
LUA

# --- the sink and the proxy
nginx_common() {  # name -> the parts of a config both nginx instances share
  cat <<NGINX
worker_processes 1;
daemon off;
pid $work/$1.pid;
error_log $work/$1-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  client_max_body_size 64m;
  client_body_temp_path $work/$1-body;
  proxy_temp_path $work/$1-proxy;
  fastcgi_temp_path $work/$1-fastcgi;
  uwsgi_temp_path $work/$1-uwsgi;
  scgi_temp_path $work/$1-scgi;
NGINX
}
sink_port="$(pick_port 18480)"
{
  nginx_common sink
  cat <<NGINX
  server {
    listen 127.0.0.1:$sink_port;
    # return reads the body and discards it (no buffering, no temp file).
    location = /v1/traces { return 200; }
  }
}
NGINX
} >"$work/sink.conf"
taskset -c "$client_cpu" nginx -c "$work/sink.conf" -p "$work" </dev/null 2>"$work/sink.out" &
sink_pid=$!

proxy_port="$(pick_port $((sink_port + 1)))"
{
  nginx_common proxy
  cat <<NGINX
  upstream sink {
    server 127.0.0.1:$sink_port;
    keepalive 64;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:$proxy_port;
    location = /v1/traces {
      # The whole body in memory before the upstream request, as the sidecar does.
      proxy_request_buffering on;
      client_body_buffer_size 8m;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://sink;
    }
  }
}
NGINX
} >"$work/proxy.conf"
taskset -c "$server_cpu" nginx -c "$work/proxy.conf" -p "$work" </dev/null 2>"$work/proxy.out" &
proxy_pid=$!

sink_url="http://127.0.0.1:$sink_port/v1/traces"
proxy_url="http://127.0.0.1:$proxy_port/v1/traces"
post_ok() {  # url -> succeeds when POSTing the first body answers 200
  local n
  n="$(awk '{print $1}' <<<"$span_sizes")"
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Content-Type: application/x-protobuf' \
        --data-binary "@$work/body-$n.pb" "$1")" = 200 ]
}
for ((i = 0; i < 50; i++)); do post_ok "$sink_url" && post_ok "$proxy_url" && break; sleep 0.1; done
post_ok "$sink_url" || die "sink did not start: $(cat "$work/sink.out" "$work/sink-error.log" 2>/dev/null)"
post_ok "$proxy_url" || die "nginx proxy did not start: $(cat "$work/proxy.out" "$work/proxy-error.log" 2>/dev/null)"
proxy_worker="$(pgrep -P "$proxy_pid" | head -n 1)"
[ -n "$proxy_worker" ] || die "nginx proxy: no worker process"

# --- the sidecars
declare -A otlp_url=() metrics_url=()
next_port=$((proxy_port + 1))
start_sidecar() {  # name resource compression
  local name="$1" resource="$2" compression="$3" port otlp_port
  port="$(pick_port "$next_port")"
  otlp_port="$(pick_port $((port + 1)))"
  next_port=$((otlp_port + 1))
  cat >"$work/$name.yaml" <<YAML
listen: 127.0.0.1:$port
log: { format: text, level: warn }
shutdown: { drain_delay: 0s, grace_period: 5s }
probes: []
otlp:
  http: { listen: 127.0.0.1:$otlp_port }
  grpc: { enabled: false }
  resource: $resource
  exporters:
    - name: sink
      endpoint: $sink_url
      compression: $compression
      batch: { max_spans: 8192, max_bytes: 4MiB, timeout: 5ms }
      max_concurrent_exports: 4
      queue: { max_bytes: ${QUEUE_MAX_MIB}MiB }
YAML
  "$binary" --check-config "$work/$name.yaml" >/dev/null 2>"$work/$name.check" ||
    die "sidecar config rejected: $(cat "$work/$name.check")"
  env "${sidecar_env[@]}" taskset -c "$server_cpu" "$binary" --config "$work/$name.yaml" \
    </dev/null 2>"$work/$name.log" &
  sidecar_pid[$name]=$!
  otlp_url[$name]="http://127.0.0.1:$otlp_port/v1/traces"
  metrics_url[$name]="http://127.0.0.1:$port/metrics"
  wait_http_ok "http://127.0.0.1:$port/health/live" 20 ||
    die "sidecar $name did not start: $(tail -n 5 "$work/$name.log")"
}
start_sidecar sidecar '{}' none
start_sidecar sidecar_res '{ k8s.pod.name: bench }' none
start_sidecar sidecar_gzip '{}' gzip
sleep 1
declare -A idle_rss=() idle_anon=()
for name in "${!sidecar_pid[@]}"; do
  read -r idle_rss[$name] idle_anon[$name] < <(awk '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} END {print r, a}' \
    "/proc/${sidecar_pid[$name]}/status")
done

# Memory sampler: "name VmRSS RssAnon" lines, every 0.1 s, for the whole run.
sampler() {
  local name
  while :; do
    for name in "${!sidecar_pid[@]}"; do
      awk -v n="$name" '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} END {if (r != "") print n, r, a}' \
        "/proc/${sidecar_pid[$name]}/status" 2>/dev/null || true
    done
    sleep 0.1
  done
}
sampler >"$work/rss.samples" &
sampler_pid=$!
taskset -p -c "$client_cpu" "$sampler_pid" >/dev/null

# name -> "exported received refused_queue_full queue_bytes" from the sidecar's /metrics
otlp_counters() {
  taskset -c "$client_cpu" curl -sf --max-time 5 "${metrics_url[$1]}" | awk '
    $1 == "covet_sidecar_otlp_exported_spans_total{destination=\"sink\"}" {e = $2}
    $1 ~ /^covet_sidecar_otlp_received_spans_total\{/ {r += $2}
    $1 == "covet_sidecar_otlp_refused_spans_total{reason=\"queue_full\"}" {f = $2}
    $1 == "covet_sidecar_otlp_queue_bytes{destination=\"sink\"}" {q = $2}
    END {if (e == "") exit 1; printf "%.0f %.0f %.0f %.0f\n", e, r, f, q}'
}
drain() {  # name: waits (at most 60 s) until the sidecar's queue is empty
  local q i
  for ((i = 0; i < 600; i++)); do
    read -r _ _ _ q < <(otlp_counters "$1")
    [ "$q" = 0 ] && return 0
    sleep 0.1
  done
  die "sidecar $1: queue not empty 60 s after the load ($q bytes)"
}

# url body_spans seconds connections delay_ms [--latency] -> wrk's output in $work/wrk.out
run_wrk() {
  local url="$1" n="$2" seconds="$3" conns="$4" delay="$5"
  shift 5
  BODY_FILE="$work/body-$n.pb" DELAY_MS="$delay" taskset -c "$client_cpu" \
    wrk -t1 -c"$conns" -d"${seconds}s" --timeout 10s -s "$work/post.lua" "$@" "$url" >"$work/wrk.out"
}
# -> "requests seconds non2xx socket_errors" of the last wrk run
wrk_counts() {
  awk '/requests in/ {n = $1; s = $4; sub(/s,?$/, "", s)}
       /Non-2xx or 3xx responses:/ {x = $NF}
       /Socket errors:/ {gsub(/,/, ""); e = $4 + $6 + $8 + $10}
       END {if (n == "") exit 1; print n, s, x + 0, e + 0}' "$work/wrk.out"
}
to_ms() {  # wrk's "1.23ms" / "456.00us" / "1.02s" -> milliseconds
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) {sub(/us$/, "", v); printf "%.3f", v / 1000}
    else if (v ~ /ms$/) {sub(/ms$/, "", v); printf "%.3f", v}
    else if (v ~ /m$/) {sub(/m$/, "", v); printf "%.3f", v * 60000}
    else {sub(/s$/, "", v); printf "%.3f", v * 1000}}'
}
wrk_percentile() { awk -v p="$1%" '$1 == p {print $2}' "$work/wrk.out"; }

declare -A res=()
append() { res[$1]="${res[$1]:-}${res[$1]:+ }$2"; }
ticks_per_s="$(getconf CLK_TCK)"
errors_text=""

# side n: one throughput round, results appended to res[side,n,*]
throughput_round() {  # side n connections
  local side="$1" n="$2" c="$3" url pid before after t0 t1 c0 c1 req secs non2xx sockerr
  if [ "$side" = proxy ]; then url="$proxy_url"; pid="$proxy_worker"; else url="${otlp_url[$side]}"; pid="${sidecar_pid[$side]}"; fi
  [ "$side" = proxy ] || before="$(otlp_counters "$side")"
  c0="$(cpu_ticks "$pid")"; t0="$(now)"
  run_wrk "$url" "$n" "$duration" "$c" 0
  t1="$(now)"; c1="$(cpu_ticks "$pid")"
  [ "$side" = proxy ] || after="$(otlp_counters "$side")"
  read -r req secs non2xx sockerr < <(wrk_counts) || die "wrk gave no result: $(cat "$work/wrk.out")"
  append "$side,$n,$c,rps" "$(awk -v r="$req" -v x="$non2xx" -v s="$secs" 'BEGIN {printf "%.1f", (r - x) / s}')"
  append "$side,$n,$c,non2xx" "$non2xx"
  append "$side,$n,$c,cpu" "$(awk -v a="$c0" -v b="$c1" -v t="$ticks_per_s" -v s0="$t0" -v s1="$t1" \
    'BEGIN {printf "%.0f", (b - a) / t / (s1 - s0) * 100}')"
  [ "$sockerr" = 0 ] || errors_text+="$side $n spans c$c: $sockerr socket errors; "
  if [ "$side" = proxy ]; then
    append "$side,$n,$c,spans" "$(awk -v r="$req" -v x="$non2xx" -v s="$secs" -v n="$n" 'BEGIN {printf "%.0f", (r - x) * n / s}')"
  else
    local e0 r0 f0 e1 r1 f1 q1
    read -r e0 r0 f0 _ <<<"$before"
    read -r e1 r1 f1 q1 <<<"$after"
    append "$side,$n,$c,spans" "$(awk -v a="$e0" -v b="$e1" -v s0="$t0" -v s1="$t1" 'BEGIN {printf "%.0f", (b - a) / (s1 - s0)}')"
    append "$side,$n,$c,received" "$(awk -v a="$r0" -v b="$r1" -v s0="$t0" -v s1="$t1" 'BEGIN {printf "%.0f", (b - a) / (s1 - s0)}')"
    append "$side,$n,$c,refused" "$((f1 - f0))"
    append "$side,$n,$c,queue_end" "$q1"
    drain "$side"
  fi
  echo "bench: $n spans, c$c, $side: $(awk -v r="$req" -v s="$secs" 'BEGIN {printf "%.0f", r / s}') requests/s, non-2xx $non2xx" >&2
  sleep 1
}

latency_round() {  # side n
  local side="$1" n="$2" url req secs non2xx sockerr
  case "$side" in
    direct) url="$sink_url" ;;
    proxy) url="$proxy_url" ;;
    *) url="${otlp_url[$side]}" ;;
  esac
  run_wrk "$url" "$n" "$lat_duration" "$lat_connections" "$lat_delay_ms" --latency
  read -r req secs non2xx sockerr < <(wrk_counts) || die "wrk gave no result: $(cat "$work/wrk.out")"
  [ "$non2xx" = 0 ] && [ "$sockerr" = 0 ] || errors_text+="latency $side $n spans: non-2xx $non2xx, socket errors $sockerr; "
  append "lat,$side,$n,p50" "$(to_ms "$(wrk_percentile 50)")"
  append "lat,$side,$n,p99" "$(to_ms "$(wrk_percentile 99)")"
  append "lat,$side,$n,rps" "$(awk -v r="$req" -v s="$secs" 'BEGIN {printf "%.0f", r / s}')"
  [ "$side" = direct ] || [ "$side" = proxy ] || drain "$side"
  sleep 0.5
}

sides="proxy sidecar sidecar_res"
for n in $span_sizes; do
  echo "bench: $n spans per request (${body_bytes[$n]} bytes): warm-up" >&2
  for side in $sides sidecar_gzip; do
    url="$proxy_url"; [ "$side" = proxy ] || url="${otlp_url[$side]}"
    run_wrk "$url" "$n" 2 4 0
    [ "$side" = proxy ] || drain "$side"
  done
  for c in $connection_counts; do
    for ((r = 1; r <= rounds; r++)); do
      for side in $sides; do throughput_round "$side" "$n" "$c"; done
    done
    throughput_round sidecar_gzip "$n" "$c"
  done
  for ((r = 1; r <= rounds; r++)); do
    for side in direct proxy sidecar; do latency_round "$side" "$n"; done
  done
done

# --- memory
declare -A peak_rss=() peak_anon=() hwm=() after_anon=()
sleep 11
for name in "${!sidecar_pid[@]}"; do
  read -r peak_rss[$name] peak_anon[$name] < <(awk -v n="$name" '$1 == n {if ($2 > r) r = $2; if ($3 > a) a = $3} END {print r, a}' "$work/rss.samples")
  hwm[$name]="$(awk '/^VmHWM:/ {print $2}' "/proc/${sidecar_pid[$name]}/status")"
  after_anon[$name]="$(awk '/^RssAnon:/ {print $2}' "/proc/${sidecar_pid[$name]}/status")"
done
samples="$(wc -l <"$work/rss.samples")"

# --- report
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
label() {
  case "$1" in
    proxy) echo "nginx proxy" ;;
    sidecar) echo "covet-sidecar" ;;
    sidecar_res) echo "covet-sidecar, resource { k8s.pod.name }" ;;
    sidecar_gzip) echo "covet-sidecar, exporter gzip (1 round)" ;;
    direct) echo "sink directly" ;;
  esac
}
table() {
  local n c side rps spans received refused queue proxy_rps
  for n in $span_sizes; do
    for c in $connection_counts; do
      # shellcheck disable=SC2086  # word splitting wanted: one value per round
      proxy_rps="$(med ${res[proxy,$n,$c,rps]})"
      for side in $sides sidecar_gzip; do
        # shellcheck disable=SC2086
        rps="$(med ${res[$side,$n,$c,rps]})"
        # shellcheck disable=SC2086
        spans="$(med ${res[$side,$n,$c,spans]})"
        received="-"; refused="-"; queue="-"
        if [ "$side" != proxy ]; then
          # shellcheck disable=SC2086
          received="$(med ${res[$side,$n,$c,received]})"
          refused="${res[$side,$n,$c,refused]// //}"
          queue="${res[$side,$n,$c,queue_end]// //}"
        fi
        # shellcheck disable=SC2086
        echo "| $n (${body_bytes[$n]} B) | $c | $(label "$side") | **$rps** | $(ratio "$rps" "$proxy_rps") | **$spans** | $received | ${res[$side,$n,$c,non2xx]// //} | $refused | $queue | $(med ${res[$side,$n,$c,cpu]}) | ${res[$side,$n,$c,rps]} |"
      done
    done
  done
}
lat_table() {
  local n side
  for n in $span_sizes; do
    for side in direct proxy sidecar; do
      echo "| $n | $(label "$side") | $(med ${res[lat,$side,$n,p50]}) | $(med ${res[lat,$side,$n,p99]}) | $(med ${res[lat,$side,$n,rps]}) | ${res[lat,$side,$n,p50]} / ${res[lat,$side,$n,p99]} |"
    done
    echo "| $n | added by the sidecar (p50 / p99 over direct) | $(awk -v a="$(med ${res[lat,sidecar,$n,p50]})" -v b="$(med ${res[lat,direct,$n,p50]})" 'BEGIN {printf "%+.3f", a - b}') | $(awk -v a="$(med ${res[lat,sidecar,$n,p99]})" -v b="$(med ${res[lat,direct,$n,p99]})" 'BEGIN {printf "%+.3f", a - b}') | | |"
    echo "| $n | added by nginx proxy (p50 / p99 over direct) | $(awk -v a="$(med ${res[lat,proxy,$n,p50]})" -v b="$(med ${res[lat,direct,$n,p50]})" 'BEGIN {printf "%+.3f", a - b}') | $(awk -v a="$(med ${res[lat,proxy,$n,p99]})" -v b="$(med ${res[lat,direct,$n,p99]})" 'BEGIN {printf "%+.3f", a - b}') | | |"
  done
}
mem_table() {
  local name
  for name in sidecar sidecar_res sidecar_gzip; do
    echo "| $(label "$name" | sed 's/ (1 round)//') | ${idle_rss[$name]} / ${idle_anon[$name]} | **${peak_rss[$name]} / ${peak_anon[$name]}** ($(mib "${peak_rss[$name]}") / $(mib "${peak_anon[$name]}") MiB) | ${hwm[$name]} | ${after_anon[$name]} |"
  done
}

cat <<REPORT
### $(date -u +%Y-%m-%d) — \`bench/otlp.sh\` (${SIDECAR_ENV:+SIDECAR_ENV="$SIDECAR_ENV" }ROUNDS=$rounds DURATION=${duration}s CONNECTIONS="$connection_counts" SPANS="$span_sizes" LAT_CONNECTIONS=$lat_connections LAT_DELAY_MS=$lat_delay_ms)

Machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); load average $(cut -d' ' -f1-3 /proc/loadavg) at the end. Servers under test (the sidecars, the nginx proxy's worker) pinned to CPU $server_cpu; wrk (1 thread), the sink (nginx $(nginx -v 2>&1 | sed 's|.*/||'), 1 worker, \`return 200\`) and the samplers to CPU $client_cpu.
Bodies: ExportTraceServiceRequest shaped like the JS SDK's batches (bench/otlp_codec/main.cpp), application/x-protobuf, the same body on every request.

Throughput, wrk -t1 -cC (C connections), ${duration} s per round, medians of $rounds rounds (gzip: 1 round):

| spans/request | C | server | **requests/s accepted** (2xx) | ratio to nginx | **spans/s delivered** (sidecar: exported_spans_total delta) | spans/s received | non-2xx per round | refused queue_full spans per round | queue bytes at the end of each round | server CPU % | requests/s per round |
|---|---|---|---|---|---|---|---|---|---|---|---|
$(table)

Targets: sidecar requests/s ≥ 0.7 × nginx proxy's for the same bodies; ≥ 100000 spans/s on one core.

Latency through each side, wrk -t1 -c$lat_connections --latency, a ${lat_delay_ms} ms pause between a connection's requests, ${lat_duration} s per round, medians of $rounds rounds (wrk 4.1's p99 is inflated by its stall correction, alike for all three):

| spans/request | path | p50 ms | p99 ms | requests/s | per round p50 / p99 |
|---|---|---|---|---|---|
$(lat_table)

Sidecar memory (/proc/PID/status, $samples samples every 0.1 s over the whole run; queue limit ${QUEUE_MAX_MIB} MiB):

| sidecar | idle VmRSS / RssAnon KiB | peak VmRSS / RssAnon KiB | VmHWM KiB at the end | RssAnon KiB 11 s after the last request |
|---|---|---|---|---|
$(mem_table)

Target: peak RSS ≤ queue limit + a few MiB.
${errors_text:+
Errors: $errors_text}
REPORT
