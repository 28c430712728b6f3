#!/usr/bin/env bash
# covet-sidecar against the four Debian exporters it replaces, running at once:
# prometheus-node-exporter, -postgres-exporter, -redis-exporter and -blackbox-exporter
# (module http_2xx probing the example app). Both sides watch the same real PostgreSQL 15,
# Redis and example app (scripts/lib/local-servers.sh); the sidecar runs with postgres,
# redis, http (the app), disk and memory
# probes (scripts/lib/sidecar-config.sh).
#
#   bench/exporters.sh              (needs: scripts/install-deps.sh, a release build)
#   ROUNDS=5 DURATION=10 bench/exporters.sh
#
# One "scrape" is what Prometheus does per interval: for the sidecar one GET /metrics; for
# the exporters one GET of each of the four endpoints (blackbox: /probe?target=...). Each
# scrape is checked to answer 200. Measured in the same run, same pinning: sidecar and
# exporters on CPU $SERVER_CPU (so Go's GOMAXPROCS is 1, as the sidecar has one loop), the
# clients (curl, wrk) and PostgreSQL, Redis and the app on CPU $CLIENT_CPU.
#   memory   VmRSS and RssAnon (/proc/PID/status; exporters summed) idle 2 s after start,
#            after $SCRAPES scrapes, and at the end of the run.
#   CPU      utime+stime (/proc/PID/stat, all threads; exporters summed) over
#            SIDECAR_CPU_SCRAPES (sidecar) or CPU_SCRAPES (exporters) sequential keep-alive
#            scrapes (one curl process), divided by that count. Clock ticks are 10 ms, hence
#            the many scrapes. The same window also gives the
#            CPU the scrapes cost PostgreSQL, Redis and the app (all their processes
#            alive at the end of the window), and PostgreSQL's xact_commit delta of the
#            database `app` both sides connect to (pg_stat_database, read 2 s later so the
#            backends have flushed their statistics).
#   rate     wrk -t1 -c1 for DURATION s on /metrics. For the exporters wrk runs on each
#            endpoint in turn, and the combined rate is the slowest endpoint's (Prometheus
#            scrapes targets in parallel, so a scrape of all four is limited by the slowest;
#            this is generous to the exporters, whose four processes share one CPU here).
#            The sequential rate, 1 / sum(1 / rate_i), is printed as well.
# CPU and rate are repeated ROUNDS times; the report gives medians and every run.
# Prints a Markdown block to paste into bench/RESULTS.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${BINARY:-$root/build/covet-sidecar}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-5}"
scrapes="${SCRAPES:-200}"
# The sidecar's scrape costs ~100 times less CPU: it needs ~100 times more scrapes to span
# enough 10 ms clock ticks.
sidecar_cpu_scrapes="${SIDECAR_CPU_SCRAPES:-5000}"
cpu_scrapes="${CPU_SCRAPES:-300}"
server_cpu="${SERVER_CPU:-0}"
client_cpu="${CLIENT_CPU:-1}"

for tool in wrk taskset curl ss prometheus-node-exporter prometheus-postgres-exporter \
            prometheus-redis-exporter prometheus-blackbox-exporter; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (run scripts/install-deps.sh)" >&2; exit 1; }
done
[ -x "$binary" ] || { echo "bench: $binary not built (run scripts/build.sh)" >&2; exit 1; }
# shellcheck source=scripts/lib/local-servers.sh
source "$root/scripts/lib/local-servers.sh"
# shellcheck source=scripts/lib/sidecar-config.sh
source "$root/scripts/lib/sidecar-config.sh"

work=""
sidecar_pid=""
exporter_pids=()
cleanup() {
  local rc=$?
  trap '' INT TERM
  trap - EXIT
  if [ -n "$work" ]; then
    stop_pid "$sidecar_pid" covet-sidecar 10
    local pid
    for pid in "${exporter_pids[@]}"; do stop_pid "$pid" exporter 10; done
    stop_local_servers
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

work="$(mktemp -d /tmp/covet-bench.XXXXXX)"
LOCAL_SERVERS_CPU="$client_cpu"
local_servers_init "$work"
start_postgres 55532
start_redis 56479
start_app 18000

# --- the sidecar
sidecar_port="$(pick_port 18099)"
write_sidecar_config "$binary" "$work/sidecar.yaml" "127.0.0.1:$sidecar_port" warn
taskset -c "$server_cpu" "$binary" --config "$work/sidecar.yaml" </dev/null 2>"$work/sidecar.log" &
sidecar_pid=$!
sidecar_urls=("http://127.0.0.1:$sidecar_port/metrics")

# --- the exporters (secrets in their environment: that is how these exporters take them)
node_port="$(pick_port 19100)"
taskset -c "$server_cpu" prometheus-node-exporter --web.listen-address="127.0.0.1:$node_port" \
  </dev/null 2>"$work/node-exporter.log" &
exporter_pids+=($!)
pg_exporter_port="$(pick_port 19187)"
DATA_SOURCE_NAME="postgresql://app:$(cat "$PG_PASSWORD_FILE")@127.0.0.1:$PG_PORT/app?sslmode=disable" \
  taskset -c "$server_cpu" prometheus-postgres-exporter --web.listen-address="127.0.0.1:$pg_exporter_port" \
  </dev/null 2>"$work/postgres-exporter.log" &
exporter_pids+=($!)
redis_exporter_port="$(pick_port 19121)"
REDIS_PASSWORD="$(cat "$REDIS_PASSWORD_FILE")" \
  taskset -c "$server_cpu" prometheus-redis-exporter -redis.addr="redis://127.0.0.1:$REDIS_PORT" \
  -web.listen-address="127.0.0.1:$redis_exporter_port" </dev/null 2>"$work/redis-exporter.log" &
exporter_pids+=($!)
blackbox_port="$(pick_port 19115)"
cat >"$work/blackbox.yml" <<YAML
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http: { preferred_ip_protocol: ip4 }
YAML
taskset -c "$server_cpu" prometheus-blackbox-exporter --config.file="$work/blackbox.yml" \
  --web.listen-address="127.0.0.1:$blackbox_port" </dev/null 2>"$work/blackbox-exporter.log" &
exporter_pids+=($!)
exporter_names=(node postgres redis blackbox)
exporter_urls=(
  "http://127.0.0.1:$node_port/metrics"
  "http://127.0.0.1:$pg_exporter_port/metrics"
  "http://127.0.0.1:$redis_exporter_port/metrics"
  "http://127.0.0.1:$blackbox_port/probe?target=http://127.0.0.1:$APP_PORT/health/live&module=http_2xx"
)

# --- everything up, and each exporter really reaching its target
wait_http_ok "http://127.0.0.1:$sidecar_port/health/ready" 20 ||
  { echo "bench: sidecar not ready:"; curl -s "http://127.0.0.1:$sidecar_port/health/ready?verbose"; tail "$work/sidecar.log"; exit 1; } >&2
expect_metric() {  # index line: the exporter's answer must contain the line
  local i="$1" body
  body="$(curl -s --max-time 10 "${exporter_urls[$i]}" || true)"
  grep -qx "$2" <<<"$body" && return 0
  echo "bench: ${exporter_names[$i]} exporter: no \"$2\" in ${exporter_urls[$i]}; its log:" >&2
  tail -n 15 "$work/${exporter_names[$i]}-exporter.log" >&2
  exit 1
}
for i in 0 1 2 3; do
  wait_http_ok "${exporter_urls[$i]}" 20 || expect_metric "$i" "(never answered)"
done
expect_metric 1 "pg_up 1"
expect_metric 2 "redis_up 1"
expect_metric 3 "probe_success 1"

# --- readings
clk_tck="$(getconf CLK_TCK)"
ticks() {  # pid... -> "pid utime+stime" lines; fields after "(comm) ": state is $1, utime $12
  local pid
  for pid in "$@"; do
    sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk -v p="$pid" '{print p, $12 + $13}' || true
  done
}
ticks_delta() {  # before after -> summed ticks of the pids present in both (a process that
  # exited in between, such as an autovacuum worker, is left out rather than counted negative)
  awk 'NR == FNR {t[$1] = $2; next} ($1 in t) {d += $2 - t[$1]} END {print d + 0}' <(echo "$1") <(echo "$2")
}
rss() {  # pid... -> "VmRSS RssAnon" in KiB, summed
  local pid
  for pid in "$@"; do cat "/proc/$pid/status"; done |
    awk '/^VmRSS:/ {r += $2} /^RssAnon:/ {a += $2} END {print r, a}'
}
dependency_pids() {  # PostgreSQL's postmaster and its children, Redis, the app
  local postmaster
  postmaster="$(head -n 1 "$PG_SOCKET_DIR/data/postmaster.pid")"
  echo "$postmaster" "$(pgrep -P "$postmaster" | tr '\n' ' ')" "$REDIS_PID" "$APP_PID"
}
xact_commit() { pg_query "SELECT xact_commit FROM pg_stat_database WHERE datname = 'app'"; }
scrape() {  # count url... -> runs count scrapes (a GET of each url) with one keep-alive curl
  local count="$1" url i bad
  shift
  : >"$work/curl.cfg"
  for ((i = 0; i < count; i++)); do
    for url in "$@"; do printf 'url = "%s"\noutput = "/dev/null"\n' "$url" >>"$work/curl.cfg"; done
  done
  bad="$(taskset -c "$client_cpu" curl -s --max-time 60 -K "$work/curl.cfg" -w '%{http_code}\n' | grep -vcx 200 || true)"
  [ "$bad" = 0 ] || { echo "bench: $bad of $((count * $#)) requests did not answer 200 ($*)" >&2; exit 1; }
}
bytes_per_scrape() {  # url... -> summed body sizes of one scrape
  local url sum=0
  for url in "$@"; do sum=$((sum + $(curl -s -o /dev/null -w '%{size_download}' "$url"))); done
  echo "$sum"
}
run_wrk() {  # url -> requests/s over one keep-alive connection
  taskset -c "$client_cpu" wrk -t1 -c1 -d"${duration}s" "$1" | awk '/^Requests\/sec:/ {print $2}'
}
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
per_scrape_ms() { awk -v t="$1" -v n="$2" -v hz="$clk_tck" 'BEGIN {printf "%.3f", t * 1000 / hz / n}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "n/a"; else printf "%.3g", a / b}'; }

sleep 2
read -r sidecar_idle_rss sidecar_idle_anon < <(rss "$sidecar_pid")
read -r exporters_idle_rss exporters_idle_anon < <(rss "${exporter_pids[@]}")

# (a) memory after SCRAPES scrapes of each side, and what those scrapes cost PostgreSQL.
x0="$(xact_commit)"
scrape "$scrapes" "${sidecar_urls[@]}"
sleep 2
x1="$(xact_commit)"
scrape "$scrapes" "${exporter_urls[@]}"
sleep 2
x2="$(xact_commit)"
read -r sidecar_rss sidecar_anon < <(rss "$sidecar_pid")
read -r exporters_rss exporters_anon < <(rss "${exporter_pids[@]}")
per_exporter_rss=""
for i in 0 1 2 3; do
  per_exporter_rss+="${exporter_names[$i]} $(rss "${exporter_pids[$i]}" | tr ' ' /), "
done
sidecar_xact_first=$((x1 - x0))
exporters_xact_first=$((x2 - x1))
sidecar_bytes="$(bytes_per_scrape "${sidecar_urls[@]}")"
exporters_bytes="$(bytes_per_scrape "${exporter_urls[@]}")"

# (b) CPU per scrape, (c) scrapes per second, ROUNDS times.
side_cpu=(); exp_cpu=(); side_dep=(); exp_dep=(); side_xact=(); exp_xact=()
side_rate=(); exp_rate=(); exp_seq=(); exp_each=()
measure_cpu() {  # side|exp url... -> "CPU-ms/scrape dependencies-CPU-ms/scrape xact/scrape"
  local name="$1" own deps t0 d0 x0 t1 d1 x1 n
  shift
  if [ "$name" = side ]; then
    own="$sidecar_pid"; n="$sidecar_cpu_scrapes"
  else
    own="${exporter_pids[*]}"; n="$cpu_scrapes"
  fi
  deps="$(dependency_pids)"
  # shellcheck disable=SC2086  # pid lists
  { x0="$(xact_commit)"; t0="$(ticks $own)"; d0="$(ticks $deps)"; }
  scrape "$n" "$@"
  # shellcheck disable=SC2086
  { t1="$(ticks $own)"; d1="$(ticks $deps)"; }
  sleep 2
  x1="$(xact_commit)"
  echo "$(per_scrape_ms "$(ticks_delta "$t0" "$t1")" "$n")" \
       "$(per_scrape_ms "$(ticks_delta "$d0" "$d1")" "$n")" \
       "$(awk -v d=$((x1 - x0)) -v n="$n" 'BEGIN {printf "%.2f", d / n}')"
}
for round in $(seq 1 "$rounds"); do
  # Assigned first, so that a failed scrape (exit inside the substitution) stops the script.
  result="$(measure_cpu side "${sidecar_urls[@]}")"
  read -r cpu dep xact <<<"$result"
  side_cpu+=("$cpu"); side_dep+=("$dep"); side_xact+=("$xact")
  result="$(measure_cpu exp "${exporter_urls[@]}")"
  read -r cpu dep xact <<<"$result"
  exp_cpu+=("$cpu"); exp_dep+=("$dep"); exp_xact+=("$xact")
  side_rate+=("$(run_wrk "${sidecar_urls[0]}")")
  rates=()
  for url in "${exporter_urls[@]}"; do rates+=("$(run_wrk "$url")"); sleep 1; done
  exp_each+=("$(IFS=/; echo "${rates[*]}")")
  exp_rate+=("$(printf '%s\n' "${rates[@]}" | sort -g | head -n 1)")
  exp_seq+=("$(printf '%s\n' "${rates[@]}" | awk '{s += 1 / $1} END {printf "%.1f", 1 / s}')")
  echo "round $round: CPU/scrape ms sidecar ${side_cpu[-1]} exporters ${exp_cpu[-1]};" \
       "scrapes/s sidecar ${side_rate[-1]} exporters ${exp_rate[-1]} (${exp_each[-1]})" >&2
done
read -r sidecar_end_rss sidecar_end_anon < <(rss "$sidecar_pid")
read -r exporters_end_rss exporters_end_anon < <(rss "${exporter_pids[@]}")

med() { printf '%s\n' "$@" | median; }
m_side_cpu="$(med "${side_cpu[@]}")"; m_exp_cpu="$(med "${exp_cpu[@]}")"
m_side_dep="$(med "${side_dep[@]}")"; m_exp_dep="$(med "${exp_dep[@]}")"
m_side_xact="$(med "${side_xact[@]}")"; m_exp_xact="$(med "${exp_xact[@]}")"
m_side_rate="$(med "${side_rate[@]}")"; m_exp_rate="$(med "${exp_rate[@]}")"
m_exp_seq="$(med "${exp_seq[@]}")"
probes="postgres, redis, http (the app), disk, memory"

cat <<REPORT
### $(date -u +%Y-%m-%d) — \`bench/exporters.sh\` (ROUNDS=$rounds DURATION=${duration}s SCRAPES=$scrapes SIDECAR_CPU_SCRAPES=$sidecar_cpu_scrapes CPU_SCRAPES=$cpu_scrapes)

Machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo). Sidecar and exporters pinned to CPU $server_cpu; curl, wrk, PostgreSQL, Redis and the app to CPU $client_cpu.
Sidecar probes: $probes.
Exporters: node_exporter $(prometheus-node-exporter --version 2>&1 | awk 'NR==1 {print $3}'), postgres_exporter $(prometheus-postgres-exporter --version 2>&1 | awk 'NR==1 {print $3}'), redis_exporter $(prometheus-redis-exporter -version 2>&1 | sed -n 's/.*Exporter \([0-9.]*\).*/\1/p'), blackbox_exporter $(prometheus-blackbox-exporter --version 2>&1 | awk 'NR==1 {print $3}') (http_2xx on the app), all with their default flags.

| | covet-sidecar | 4 exporters | ratio sidecar / exporters |
|---|---|---|---|
| VmRSS KiB, idle (2 s after start) | $sidecar_idle_rss | $exporters_idle_rss | $(ratio "$sidecar_idle_rss" "$exporters_idle_rss") |
| RssAnon KiB, idle | $sidecar_idle_anon | $exporters_idle_anon | $(ratio "$sidecar_idle_anon" "$exporters_idle_anon") |
| **VmRSS KiB after $scrapes scrapes** | **$sidecar_rss** | **$exporters_rss** | **$(ratio "$sidecar_rss" "$exporters_rss")** |
| **RssAnon KiB after $scrapes scrapes** | **$sidecar_anon** | **$exporters_anon** | **$(ratio "$sidecar_anon" "$exporters_anon")** |
| VmRSS / RssAnon KiB at the end (after every round) | $sidecar_end_rss / $sidecar_end_anon | $exporters_end_rss / $exporters_end_anon | $(ratio "$sidecar_end_rss" "$exporters_end_rss") / $(ratio "$sidecar_end_anon" "$exporters_end_anon") |
| **CPU ms per scrape** (median of $rounds runs of $sidecar_cpu_scrapes / $cpu_scrapes scrapes) | **$m_side_cpu** | **$m_exp_cpu** | **$(ratio "$m_side_cpu" "$m_exp_cpu")** |
| CPU ms per scrape spent in PostgreSQL, Redis, the app | $m_side_dep | $m_exp_dep | |
| PostgreSQL transactions per scrape (xact_commit) | $m_side_xact | $m_exp_xact | |
| xact_commit delta over the first $scrapes scrapes | $sidecar_xact_first | $exporters_xact_first | |
| **scrapes/s**, 1 connection (median of $rounds) | **$m_side_rate** | **$m_exp_rate** (slowest endpoint) | **$(ratio "$m_side_rate" "$m_exp_rate")** |
| scrapes/s if the four are scraped one after another | | $m_exp_seq | $(ratio "$m_side_rate" "$m_exp_seq") |
| bytes per scrape | $sidecar_bytes | $exporters_bytes | |

Runs — CPU ms/scrape sidecar: ${side_cpu[*]}; exporters: ${exp_cpu[*]}. Scrapes/s sidecar: ${side_rate[*]}; exporters (node/postgres/redis/blackbox): ${exp_each[*]}.
RSS after $scrapes scrapes per exporter (VmRSS/RssAnon KiB): ${per_exporter_rss%, }.
REPORT
