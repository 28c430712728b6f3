#!/usr/bin/env bash
# The cost of re-exporting the app's metrics: covet-sidecar scraping the example app
# (examples/app/server.js --series N) when its own /metrics is read, against fetching the
# app's page directly, in the same run with the same pinning. For each N in SIZES:
#
#   bench/scrape.sh                     (needs: node + npm, wrk, a release build)
#   SIZES="10000 100000" REQUESTS=20 ROUNDS=3 DURATION=10 bench/scrape.sh
#
# Two sidecars run beside one app, with no probes and one scrape target, the app
# (max_series well above N): "fresh" has min_interval 0s, so every /metrics read fetches,
# parses, relabels and re-exports the whole page (the worst case); "cached" keeps the
# default min_interval 1s. Sidecars on CPU $SERVER_CPU (their thread pool inherits it), the
# app and the clients (curl, wrk) on CPU $CLIENT_CPU.
#
# Requests are made as Prometheus makes them: its Accept header (OpenMetrics first) and
# Accept-Encoding: gzip, bodies left compressed; each answer is checked to be 200 and gzip.
#   latency  REQUESTS sequential curl requests (a new connection each), alternating the app's
#            /metrics and the fresh sidecar's, so drift hits both alike: median and p90 of
#            curl's time_total, and the ratio of the medians. Once more the same way with
#            curl's defaults (Accept: */*, so Prometheus text, no gzip): what a person with
#            curl gets. Then REQUESTS requests to the cached sidecar, one every 0.2 s (mostly
#            answered from the last fetch). Each fresh answer also carries the sidecar's
#            covet_sidecar_scrape_duration_seconds of the fetch it served (HTTP fetch and
#            parsing, before the page is written): its median is printed beside the latency.
#   rate     wrk -t1 -c4 for DURATION s with the same headers, on the app's /metrics and on
#            the cached sidecar's, alternating, ROUNDS times: medians of requests/s.
#   memory   RssAnon (/proc/PID/status) of each sidecar 2 s after start, before any /metrics
#            read; of the fresh one 2 s after its Prometheus-style latency requests, of the
#            cached one 2 s after the wrk rounds; VmHWM at the end. Per series: the growth
#            divided by covet_sidecar_scrape_samples{target="app"} (what is re-exported).
# SIDECAR_ENV="NAME=VALUE ..." starts both sidecars with that environment (for experiments
# such as MALLOC_ARENA_MAX=1; the report's title names it).
#   checks   covet_sidecar_scrape_up{target="app"} 1; samples within 1% of N; the sidecar's
#            page holds exactly as many app_endpoint_requests_total series as the app's.
# Prints a Markdown block to paste into bench/RESULTS.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${BINARY:-$root/build/covet-sidecar}"
sizes="${SIZES:-10000 100000}"
requests="${REQUESTS:-20}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-10}"
server_cpu="${SERVER_CPU:-0}"
client_cpu="${CLIENT_CPU:-1}"
read -r -a sidecar_env <<<"${SIDECAR_ENV:-}"
readonly PROM_ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

for tool in wrk taskset curl ss node gzip; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (run scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$binary" ] || { echo "bench: $binary not built (run scripts/build.sh)" >&2; exit 1; }
# shellcheck source=scripts/lib/local-servers.sh
source "$root/scripts/lib/local-servers.sh"
example_app_install || exit 1

work=""
app_pid=""
fresh_pid=""
cached_pid=""
stop_all() {
  stop_pid "$fresh_pid" covet-sidecar 10; fresh_pid=""
  stop_pid "$cached_pid" covet-sidecar 10; cached_pid=""
  stop_pid "$app_pid" app 10; app_pid=""
}
cleanup() {
  local rc=$?
  trap '' INT TERM
  trap - EXIT
  stop_all
  [ -z "$work" ] || rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
work="$(mktemp -d /tmp/covet-bench-scrape.XXXXXX)"

die() { echo "bench: $*" >&2; exit 1; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
p90() { sort -g | awk '{v[NR] = $1} END {i = int(NR * 0.9); if (i < NR * 0.9) i++; print v[i]}'; }
med() { printf '%s\n' "$@" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "n/a"; else printf "%.2f", a / b}'; }
ms() { awk -v s="$1" 'BEGIN {printf "%.1f", s * 1000}'; }
status_kib() {  # pid field -> the field of /proc/PID/status, in KiB
  awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

# pid port min_interval size: a sidecar with one scrape target, the app.
start_sidecar() {
  local name="$1" port="$2" interval="$3" n="$4"
  cat >"$work/$name.yaml" <<YAML
listen: 127.0.0.1:$port
log: { format: text, level: warn }
shutdown: { drain_delay: 0s, grace_period: 5s }
# A 100k-series page takes the app up to a second; wrk keeps four requests waiting on it.
server: { request_timeout: 60s }
probes: []
scrape:
  - name: app
    url: http://127.0.0.1:$APP_PORT/metrics
    min_interval: $interval
    timeout: 30s
    max_series: $((n * 2 + 1000))
YAML
  "$binary" --check-config "$work/$name.yaml" >/dev/null 2>"$work/$name.check" ||
    die "sidecar config rejected: $(cat "$work/$name.check")"
  env "${sidecar_env[@]}" taskset -c "$server_cpu" "$binary" --config "$work/$name.yaml" \
    </dev/null 2>"$work/$name.log" &
}

# url out [curl options...] -> "code seconds bytes" of one GET, body in `out`, made on the
# client CPU. A failed connection prints code 000, which check_answer reports.
get() {
  local url="$1" out="$2"
  shift 2
  taskset -c "$client_cpu" curl -s --max-time 60 -o "$out" \
    -w '%{http_code} %{time_total} %{size_download}\n' "$@" "$url" || true  # code 000: checked
}
prom_get() { get "$1" "$2" -H "Accept: $PROM_ACCEPT" -H 'Accept-Encoding: gzip'; }
is_gzip() { [ "$(head -c 2 "$1" | od -An -tx1 | tr -d ' ')" = 1f8b ]; }
# what url line: fails the run unless the answer was 200 and, for `gzip`, gzip.
check_answer() {
  local what="$1" url="$2" code
  read -r code _ _ <<<"$3"
  [ "$code" = 200 ] || die "$url answered $code ($what)"
  if [ "$what" = gzip ]; then
    is_gzip "$work/body" || die "$url: answer is not gzip although asked for"
  else
    ! is_gzip "$work/body" || die "$url: answer is gzip although not asked for"
  fi
}
# file name -> the value of the sample `name` (a full series name with labels) in the page
sample_value() {
  awk -v s="$2" '$1 == s {print $2; found = 1; exit} END {if (!found) print "none"}' "$1"
}
samples_of() {  # file -> sample lines of the app's synthetic family
  grep -c '^app_endpoint_requests_total{' "$1" || true
}
run_wrk() {  # url -> "requests/s errors"
  taskset -c "$client_cpu" wrk -t1 -c4 -d"${duration}s" --timeout 30s \
    -H "Accept: $PROM_ACCEPT" -H 'Accept-Encoding: gzip' "$1" >"$work/wrk.out"
  awk '/^Requests\/sec:/ {r = $2} /Non-2xx|Socket errors/ {e = e $0 "; "} END {print r, (e == "" ? "-" : e)}' \
    "$work/wrk.out"
}

declare -A res
runs_text=""
for n in $sizes; do
  echo "bench: $n series" >&2
  app_port="$(pick_port 18200)"
  taskset -c "$client_cpu" node "$root/examples/app/server.js" "$app_port" --series "$n" --no-tracing \
    </dev/null 2>"$work/app.log" &
  app_pid=$!
  APP_PORT="$app_port"
  wait_http_ok "http://127.0.0.1:$app_port/health/live" 20 || die "app did not start: $(tail -n 5 "$work/app.log")"
  app_url="http://127.0.0.1:$app_port/metrics"

  fresh_port="$(pick_port 18300)"
  start_sidecar fresh "$fresh_port" 0s "$n"
  fresh_pid=$!
  cached_port="$(pick_port $((fresh_port + 1)))"
  start_sidecar cached "$cached_port" 1s "$n"
  cached_pid=$!
  fresh_url="http://127.0.0.1:$fresh_port/metrics"
  cached_url="http://127.0.0.1:$cached_port/metrics"
  for url in "http://127.0.0.1:$fresh_port/health/live" "http://127.0.0.1:$cached_port/health/live"; do
    wait_http_ok "$url" 20 || die "sidecar did not start: $(tail -n 5 "$work"/*.log)"
  done
  sleep 2
  fresh_idle="$(status_kib "$fresh_pid" RssAnon)"
  cached_idle="$(status_kib "$cached_pid" RssAnon)"

  # The app's page as the sidecar fetches it (OpenMetrics, gzip): sizes and series.
  check_answer gzip "$app_url" "$(prom_get "$app_url" "$work/body")"
  res[app_gzip,$n]="$(stat -c %s "$work/body")"
  gzip -dc "$work/body" >"$work/app.page"
  res[app_bytes,$n]="$(stat -c %s "$work/app.page")"
  res[app_samples,$n]="$(grep -vc '^#' "$work/app.page" || true)"
  app_synthetic="$(samples_of "$work/app.page")"

  # --- latency, Prometheus' request: app and fresh sidecar alternating
  app_t=(); fresh_t=(); fetch_t=()
  for ((i = 0; i < requests; i++)); do
    line="$(prom_get "$app_url" "$work/body")"
    check_answer gzip "$app_url" "$line"
    app_t+=("$(awk '{print $2}' <<<"$line")")
    line="$(prom_get "$fresh_url" "$work/body")"
    check_answer gzip "$fresh_url" "$line"
    fresh_t+=("$(awk '{print $2}' <<<"$line")")
    gzip -dc "$work/body" >"$work/fresh.page"
    fetch_t+=("$(sample_value "$work/fresh.page" 'covet_sidecar_scrape_duration_seconds{target="app"}')")
  done
  res[fresh_gzip,$n]="$(stat -c %s "$work/body")"
  res[fresh_bytes,$n]="$(stat -c %s "$work/fresh.page")"
  up="$(sample_value "$work/fresh.page" 'covet_sidecar_scrape_up{target="app"}')"
  samples="$(sample_value "$work/fresh.page" 'covet_sidecar_scrape_samples{target="app"}')"
  [ "$up" = 1 ] || die "covet_sidecar_scrape_up{target=\"app\"} is $up, not 1: $(tail -n 5 "$work/fresh.log")"
  awk -v s="$samples" -v n="$n" 'BEGIN {exit !(s != "none" && s >= n * 0.99 && s <= n * 1.01)}' ||
    die "covet_sidecar_scrape_samples{target=\"app\"} is $samples, not $n ±1%"
  [ "$(samples_of "$work/fresh.page")" = "$app_synthetic" ] ||
    die "the sidecar's page has $(samples_of "$work/fresh.page") app_endpoint_requests_total series, the app's $app_synthetic"
  res[samples,$n]="$samples"
  res[app_med,$n]="$(printf '%s\n' "${app_t[@]}" | median)"
  res[app_p90,$n]="$(printf '%s\n' "${app_t[@]}" | p90)"
  res[fresh_med,$n]="$(printf '%s\n' "${fresh_t[@]}" | median)"
  res[fresh_p90,$n]="$(printf '%s\n' "${fresh_t[@]}" | p90)"
  res[fetch_med,$n]="$(printf '%s\n' "${fetch_t[@]}" | median)"
  sleep 2
  fresh_after="$(status_kib "$fresh_pid" RssAnon)"

  # --- latency, curl's defaults (Prometheus text, no gzip)
  plain_app_t=(); plain_fresh_t=()
  for ((i = 0; i < requests; i++)); do
    line="$(get "$app_url" "$work/body")"
    check_answer plain "$app_url" "$line"
    plain_app_t+=("$(awk '{print $2}' <<<"$line")")
    line="$(get "$fresh_url" "$work/body")"
    check_answer plain "$fresh_url" "$line"
    plain_fresh_t+=("$(awk '{print $2}' <<<"$line")")
  done
  res[plain_bytes,$n]="$(stat -c %s "$work/body")"
  [ "$(samples_of "$work/body")" -ge "$app_synthetic" ] || die "the sidecar's text page lacks app series"
  res[plain_app_med,$n]="$(printf '%s\n' "${plain_app_t[@]}" | median)"
  res[plain_app_p90,$n]="$(printf '%s\n' "${plain_app_t[@]}" | p90)"
  res[plain_fresh_med,$n]="$(printf '%s\n' "${plain_fresh_t[@]}" | median)"
  res[plain_fresh_p90,$n]="$(printf '%s\n' "${plain_fresh_t[@]}" | p90)"

  # --- latency of the cached sidecar, one request every 0.2 s
  cached_t=()
  for ((i = 0; i < requests; i++)); do
    line="$(prom_get "$cached_url" "$work/body")"
    check_answer gzip "$cached_url" "$line"
    cached_t+=("$(awk '{print $2}' <<<"$line")")
    sleep 0.2
  done
  res[cached_med,$n]="$(printf '%s\n' "${cached_t[@]}" | median)"
  res[cached_p90,$n]="$(printf '%s\n' "${cached_t[@]}" | p90)"

  # --- rate
  app_rate=(); cached_rate=(); errors=""
  for ((r = 1; r <= rounds; r++)); do
    read -r rate err < <(run_wrk "$app_url")
    app_rate+=("$rate"); [ "$err" = - ] || errors+="app round $r: $err "
    sleep 1
    read -r rate err < <(run_wrk "$cached_url")
    cached_rate+=("$rate"); [ "$err" = - ] || errors+="sidecar round $r: $err "
    sleep 1
    echo "bench: $n series, round $r: requests/s app ${app_rate[-1]}, sidecar ${cached_rate[-1]}" >&2
  done
  [ -z "$errors" ] || die "wrk saw errors: $errors"
  for rate in "${app_rate[@]}" "${cached_rate[@]}"; do
    [[ "$rate" =~ ^[0-9.]+$ ]] || die "wrk gave no rate: $(cat "$work/wrk.out")"
  done
  check_answer gzip "$cached_url" "$(prom_get "$cached_url" "$work/body")"
  gzip -dc "$work/body" >"$work/cached.page"
  [ "$(sample_value "$work/cached.page" 'covet_sidecar_scrape_up{target="app"}')" = 1 ] ||
    die "cached sidecar: covet_sidecar_scrape_up is not 1 after the wrk rounds"
  cached_samples="$(sample_value "$work/cached.page" 'covet_sidecar_scrape_samples{target="app"}')"
  res[app_rate,$n]="$(med "${app_rate[@]}")"
  res[cached_rate,$n]="$(med "${cached_rate[@]}")"
  sleep 2
  cached_after="$(status_kib "$cached_pid" RssAnon)"

  res[fresh_idle,$n]="$fresh_idle"; res[fresh_after,$n]="$fresh_after"
  res[fresh_hwm,$n]="$(status_kib "$fresh_pid" VmHWM)"
  res[cached_idle,$n]="$cached_idle"; res[cached_after,$n]="$cached_after"
  res[cached_hwm,$n]="$(status_kib "$cached_pid" VmHWM)"
  res[fresh_per,$n]="$(awk -v a="$fresh_idle" -v b="$fresh_after" -v s="$samples" 'BEGIN {printf "%.0f", (b - a) * 1024 / s}')"
  res[cached_per,$n]="$(awk -v a="$cached_idle" -v b="$cached_after" -v s="$cached_samples" 'BEGIN {printf "%.0f", (b - a) * 1024 / s}')"
  runs_text+="- $n series: latency s app: ${app_t[*]}; fresh sidecar: ${fresh_t[*]}. requests/s app: ${app_rate[*]}; sidecar: ${cached_rate[*]}."$'\n'
  stop_all
done

# --- report
row() {  # label target printer args...: one table row, `printer args... N` for each size's cell
  local label="$1" target="$2" n cells=""
  shift 2
  for n in $sizes; do cells+=" $("$@" "$n") |"; done
  echo "| $label |$cells $target |"
}
c_pair() { echo "${res[$1,$3]} / ${res[$2,$3]}"; }
c_ms() { echo "$(ms "${res[${1}_med,$2]}") / $(ms "${res[${1}_p90,$2]}")"; }
c_fetch() { ms "${res[fetch_med,$1]}"; }
c_ratio() { echo "**$(ratio "${res[$1,$3]}" "${res[$2,$3]}")**"; }
c_bold() { echo "**${res[$1,$2]}**"; }
c_mem() { echo "${res[${1}_idle,$2]} → ${res[${1}_after,$2]} (VmHWM ${res[${1}_hwm,$2]})"; }
header="| |"
rule="|---|"
for n in $sizes; do header+=" $n series |"; rule+="---|"; done
cat <<REPORT
### $(date -u +%Y-%m-%d) — \`bench/scrape.sh\` (${SIDECAR_ENV:+SIDECAR_ENV="$SIDECAR_ENV" }SIZES="$sizes" REQUESTS=$requests ROUNDS=$rounds DURATION=${duration}s)

Machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); load average $(cut -d' ' -f1-3 /proc/loadavg) at the end. Sidecars pinned to CPU $server_cpu; the app (Node.js $(node --version), \`--series N\`), curl and wrk to CPU $client_cpu.
Requests as Prometheus makes them (OpenMetrics first, \`Accept-Encoding: gzip\`) unless the row says otherwise. "fresh": the sidecar with \`min_interval: 0s\` (every request fetches, parses and re-exports the page); "cached": the default \`min_interval: 1s\`.

$header target |
$rule---|
$(row "samples re-exported (covet_sidecar_scrape_samples) / sample lines on the app's page at the first fetch" "" c_pair samples app_samples)
$(row "page bytes, gzip / uncompressed: app (OpenMetrics)" "" c_pair app_gzip app_bytes)
$(row "page bytes, gzip / uncompressed: sidecar (OpenMetrics)" "" c_pair fresh_gzip fresh_bytes)
$(row "latency ms, median / p90: app's /metrics" "" c_ms app)
$(row "latency ms, median / p90: fresh sidecar's /metrics" "" c_ms fresh)
$(row "of which the sidecar's fetch + parse (covet_sidecar_scrape_duration_seconds, median ms)" "" c_fetch)
$(row "**latency ratio fresh sidecar / app** (medians)" "≤ 1.5" c_ratio fresh_med app_med)
$(row "latency ms, median / p90, Prometheus text without gzip: app" "" c_ms plain_app)
$(row "latency ms, median / p90, Prometheus text without gzip: fresh sidecar" "" c_ms plain_fresh)
$(row "latency ratio, Prometheus text without gzip" "" c_ratio plain_fresh_med plain_app_med)
$(row "latency ms, median / p90: cached sidecar, 1 request / 0.2 s" "" c_ms cached)
$(row "requests/s, wrk -t1 -c4: app's /metrics (median of $rounds)" "" c_bold app_rate)
$(row "requests/s, wrk -t1 -c4: cached sidecar's /metrics (median of $rounds)" "" c_bold cached_rate)
$(row "ratio requests/s sidecar / app" "" c_ratio cached_rate app_rate)
$(row "RssAnon KiB fresh sidecar: idle → after the latency requests (VmHWM at the end)" "" c_mem fresh)
$(row "**RssAnon bytes per re-exported series**, fresh sidecar" "< 200" c_bold fresh_per)
$(row "RssAnon KiB cached sidecar: idle → after the wrk rounds (VmHWM at the end)" "" c_mem cached)
$(row "RssAnon bytes per re-exported series, cached sidecar" "< 200" c_bold cached_per)

Runs:

${runs_text%$'\n'}
REPORT
