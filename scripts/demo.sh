#!/usr/bin/env bash
# The demo: installs what is needed, builds, then runs on loopback, each in one temporary
# directory:
#   PostgreSQL 15    127.0.0.1:55432  database and role `app`, password in a 0600 file
#   Redis            127.0.0.1:56379  no persistence, requirepass from a 0600 file
#   example app      127.0.0.1:8000   examples/app/server.js (/health/live, /metrics,
#                                     /work?ms=N), tracing its requests with the
#                                     OpenTelemetry SDK; GET /work once a second as load
#   Jaeger stand-in  127.0.0.1:54318  tests/otel/jaeger_standin.js, an OTLP/HTTP receiver
#                                     that counts what it decodes (GET /stats)
#   covet-sidecar    127.0.0.1:8099   probing all of them plus disk and memory, re-exporting
#                                     the app's /metrics, receiving its spans on
#                    127.0.0.1:4318   (OTLP/HTTP) and exporting them to the stand-in
# (a taken server port moves to the next free one; 8099 must be free). Once every probe
# has passed it prints the URLs and /health?verbose, then, once the app's spans have gone
# through the sidecar to the stand-in, how many; that count again every 10 s and at exit.
# It runs until Ctrl-C or SIGTERM, which stops everything it started, removes the directory
# and exits 0.
#
#   bash scripts/demo.sh
#   SKIP_INSTALL=1 bash scripts/demo.sh     no apt-get (the packages are there)
#   DEMO_SECONDS=15 bash scripts/demo.sh    stop by itself after 15 s (for scripted checks)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib/local-servers.sh
source scripts/lib/local-servers.sh
# shellcheck source=scripts/lib/sidecar-config.sh
source scripts/lib/sidecar-config.sh

sidecar_port=8099
base="http://127.0.0.1:$sidecar_port"
binary="${BUILD_DIR:-$root/build}/covet-sidecar"
sidecar_pid=""
timer_pid=""
load_pid=""
report_pid=""
work=""

# One GET /work a second with 0-199 ms of work, so that the app has requests to trace.
app_load() {
  while :; do
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$APP_PORT/work?ms=$((RANDOM % 200))" || true
    sleep 1
  done
}

# name: the sum of the samples of that metric family on stdin (a /metrics page), 0 when it
# has none yet.
metric_sum() {
  awk -v name="$1" '$1 == name || index($1, name "{") == 1 { sum += $2 } END { printf "%d\n", sum }'
}

# Sets TRACES_RECEIVED (spans the sidecar accepted from the app), TRACES_EXPORTED (spans the
# stand-in accepted from the sidecar, as the sidecar counts them) and TRACES_STORED (spans
# the stand-in decoded and kept); "?" for a count that could not be read.
read_traces_counts() {
  local page stats
  TRACES_RECEIVED="?" TRACES_EXPORTED="?" TRACES_STORED="?"
  if page="$(curl -sf --max-time 2 "$base/metrics")"; then
    TRACES_RECEIVED="$(metric_sum covet_sidecar_otlp_received_spans_total <<<"$page")"
    TRACES_EXPORTED="$(metric_sum covet_sidecar_otlp_exported_spans_total <<<"$page")"
  fi
  if stats="$(curl -sf --max-time 2 "http://127.0.0.1:$JAEGER_PORT/stats")"; then
    TRACES_STORED="$(sed -n 's/.*"spans":\([0-9]*\).*/\1/p' <<<"$stats")"
  fi
}

# Every span received has been exported and stored, and there is at least one.
traces_settled() {
  [ "$TRACES_STORED" != "?" ] && [ "${TRACES_STORED:-0}" -gt 0 ] &&
    [ "$TRACES_RECEIVED" = "$TRACES_EXPORTED" ] && [ "$TRACES_EXPORTED" = "$TRACES_STORED" ]
}

# seconds: polls until traces_settled, at most `seconds`; the counts are left in TRACES_*.
wait_traces_settled() {
  local i
  for ((i = 0; i < $1 * 2; i++)); do
    read_traces_counts
    traces_settled && return 0
    sleep 0.5
  done
  return 1
}

print_traces_counts() {
  echo "demo: traces${1:+ $1}: $TRACES_RECEIVED spans received by the sidecar," \
    "$TRACES_EXPORTED exported to the Jaeger stand-in, $TRACES_STORED stored there" \
    "(http://127.0.0.1:$JAEGER_PORT/stats)"
}

# The last /work request's trace as the stand-in stored it: the SERVER span, its child, and
# the resource with the k8s.pod.name the sidecar added.
print_last_work_trace() {
  # shellcheck disable=SC2016  # ${...} below is JavaScript, not shell
  curl -sf --max-time 2 "http://127.0.0.1:$JAEGER_PORT/spans" | node -e '
    const { spans } = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const last = spans.filter((span) => span.name === "GET /work").pop();
    if (!last) process.exit(0);
    const text = (attributes) =>
      Object.entries(attributes).map(([key, value]) => `${key}=${Object.values(value)[0]}`).join(" ");
    for (const span of spans.filter((span) => span.traceId === last.traceId)) {
      const events = span.events.map((event) => ` event "${event.name}"`).join("");
      console.log(`  ${span.name}  span ${span.spanId}  ${text(span.attributes)}${events}`);
    }
    console.log(`  trace ${last.traceId}, resource: ${text(last.resource)}`);
  ' || true
}

report_traces_every_10s() {
  while sleep 10; do
    read_traces_counts
    print_traces_counts
  done
}

cleanup() {
  local rc=$?
  # A second Ctrl-C must not cut the cleanup short; every wait below is bounded.
  trap '' INT TERM
  trap - EXIT
  [ -n "$work" ] || exit "$rc"
  echo
  echo "demo: stopping"
  stop_pid "$timer_pid" timer 1
  stop_pid "$report_pid" "traces report" 1
  stop_pid "$load_pid" "load loop" 1
  # The app first: on SIGTERM it exports the spans it still holds, to the sidecar, which
  # passes them on to the stand-in within its batch timeout; then the last count.
  stop_app
  if [ -n "${JAEGER_PID:-}" ] && [ -n "$sidecar_pid" ] && pid_running "$sidecar_pid"; then
    wait_traces_settled 5 || true
    print_traces_counts "at exit"
  fi
  stop_pid "$sidecar_pid" covet-sidecar 10
  stop_local_servers
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
# Ctrl-C and SIGTERM are the normal way out: exit 0 through the EXIT trap.
trap 'exit 0' INT TERM

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  bash scripts/install-deps.sh
fi
example_app_install  # the example app's npm packages; quick when they are current
otel_tools_install   # the Jaeger stand-in's (tests/otel), the same way
bash scripts/build.sh -DCOVET_TESTS=OFF

if [ -n "$(ss -Htln "sport = :$sidecar_port")" ]; then
  echo "demo: 127.0.0.1:$sidecar_port is already in use (another sidecar or demo?):" >&2
  ss -Htlnp "sport = :$sidecar_port" >&2
  exit 1
fi

work="$(mktemp -d /tmp/covet-demo.XXXXXX)"
local_servers_init "$work"
echo "demo: starting PostgreSQL, Redis, the example app and the Jaeger stand-in in $work"
start_postgres 55432
start_redis 56379
# The app's OpenTelemetry SDK sends its spans to its default, localhost:4318, where the
# sidecar's OTLP/HTTP receiver listens. When 4318 is taken, the receiver moves to the next
# free port and the app is told so with the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.
# Settings from the caller's environment that would send the spans elsewhere, or nowhere,
# are dropped: this demo is about them reaching this sidecar.
unset OTEL_EXPORTER_OTLP_ENDPOINT OTEL_EXPORTER_OTLP_TRACES_ENDPOINT OTEL_SDK_DISABLED
SIDECAR_OTLP_PORT="$(pick_port 4318)"
if [ "$SIDECAR_OTLP_PORT" != 4318 ]; then
  echo "demo: 127.0.0.1:4318 is taken: the sidecar receives spans on $SIDECAR_OTLP_PORT and the app is told so"
  export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://127.0.0.1:$SIDECAR_OTLP_PORT/v1/traces"
fi
start_app 8000
start_jaeger_standin 54318

SIDECAR_SCRAPE_APP=1 SIDECAR_OTLP=1 write_sidecar_config "$binary" "$work/covet-sidecar.yaml" "127.0.0.1:$sidecar_port" info
"$binary" --config "$work/covet-sidecar.yaml" </dev/null 2>"$work/covet-sidecar.log" &
sidecar_pid=$!
app_load </dev/null &
load_pid=$!

# Every probe gates readiness, so ready means each one has passed at least once.
if wait_http_ok "$base/health/ready" 20; then
  echo "demo: every probe has passed once"
else
  echo "demo: not ready after 20 s; the probes say:"
  curl -s "$base/health/ready?verbose" || echo "(no answer on $base: the sidecar's log follows)"
  tail -n 20 "$work/covet-sidecar.log"
fi

cat <<TEXT

--- curl -s '$base/health?verbose'
$(curl -s "$base/health?verbose")

--- the app's series, re-exported beside the sidecar's own: curl -s $base/metrics | grep ...
$(curl -s "$base/metrics" | grep -E '^(covet_sidecar_scrape_(up|samples)|http_requests_total|db_connections_active|process_resident_memory_bytes)' | head -n 12)

covet-sidecar (pid $sidecar_pid):
  $base/health/live   $base/health/ready?verbose   $base/health/startup
  $base/health        $base/metrics
  OTLP/HTTP receiver: http://127.0.0.1:$SIDECAR_OTLP_PORT/v1/traces
example app:  http://127.0.0.1:$APP_PORT/   /metrics   /work?ms=250   (pid $APP_PID)
Jaeger stand-in: http://127.0.0.1:$JAEGER_PORT/stats   /spans
PostgreSQL:   $PG_DSN (password in $PG_PASSWORD_FILE)
Redis:        127.0.0.1:$REDIS_PORT (password in $REDIS_PASSWORD_FILE)
Logs:         $work/*.log, $work/pg/server.log, $work/redis/server.log
TEXT

# The app batches its spans for up to 5 s (the SDK's default), the sidecar for 200 ms.
if wait_traces_settled 15; then
  print_traces_counts
  echo "--- the last /work trace the stand-in stored: curl -s http://127.0.0.1:$JAEGER_PORT/spans"
  print_last_work_trace
else
  print_traces_counts "(not all through after 15 s)"
  echo "demo: see $work/app.log, $work/covet-sidecar.log and $work/jaeger-standin.log" >&2
fi
report_traces_every_10s </dev/null &
report_pid=$!

if [ -n "${DEMO_SECONDS:-}" ]; then
  echo "Stopping by itself in $DEMO_SECONDS s (DEMO_SECONDS), or on Ctrl-C."
  sleep "$DEMO_SECONDS" &
  timer_pid=$!
else
  echo "Ctrl-C stops everything and removes $work."
fi
# Returns when the timer ends, the sidecar exits, or (through the trap) on a signal.
wait -n "$sidecar_pid" ${timer_pid:+"$timer_pid"} || true
if ! pid_running "$sidecar_pid"; then
  echo "demo: covet-sidecar exited on its own; its log:" >&2
  tail -n 20 "$work/covet-sidecar.log" >&2
  exit 1
fi
