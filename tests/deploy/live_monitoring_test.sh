#!/usr/bin/env bash
# Live test of the Grafana dashboards (monitoring/dashboards) and the Prometheus rules
# (monitoring/rules) against a fully configured sidecar and a real Prometheus.
#
#   tests/deploy/live_monitoring_test.sh        COVET_BINARY=path (default build/covet-sidecar)
#
# It starts throwaway PostgreSQL, Redis, the example app, the Jaeger stand-in and a TLS
# server (openssl s_server with a self-signed certificate) on loopback, a sidecar with
# every probe type, scrape and OTLP (HTTP and gRPC receivers, an exporter with a spool),
# and Prometheus 2.42 scraping the sidecar every second with the rule files loaded. After
# some app traffic and spans it checks (tests/deploy/live_monitoring/check.js) that every
# metric name a rule or a dashboard uses exists, that every rule evaluates, that every
# dashboard variable has values and that every dashboard query returns data.
#
# Needs: postgresql-15, redis-server, prometheus, nodejs + npm (the example app's and the
# OpenTelemetry tools' packages are installed from their lockfiles), openssl, curl, iproute2.
# Set KEEP_WORK=1 to keep the work directory (configs and logs) for a look afterwards.
# One line per check, then PASS or FAIL; exit status 0 on PASS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BINARY="${COVET_BINARY:-build/covet-sidecar}"
case "$BINARY" in /*) ;; *) BINARY="$ROOT/$BINARY" ;; esac

fail() {
  echo "FAIL $*"
  echo FAIL
  exit 1
}

[ -x "$BINARY" ] || fail "no sidecar binary at $BINARY (build it, or set COVET_BINARY)"
for tool in prometheus promtool node openssl curl ss; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

# shellcheck source=scripts/lib/local-servers.sh
source "$ROOT/scripts/lib/local-servers.sh"

WORK="$(mktemp -d)"
SIDECAR_PID=""
PROMETHEUS_PID=""
TLS_PID=""
FINISHED=0

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  if [ "$FINISHED" != 1 ]; then
    # Something failed before the verdict: the logs say why.
    for log in sidecar.log prometheus.log; do
      [ -s "$WORK/$log" ] && { echo "--- $log (last 20 lines)"; tail -n 20 "$WORK/$log"; }
    done
  fi
  stop_pid "$PROMETHEUS_PID" prometheus
  stop_pid "$SIDECAR_PID" covet-sidecar
  stop_pid "$TLS_PID" "openssl s_server"
  stop_local_servers
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "ok   $*"; }

local_servers_init "$WORK"

# Uncommon ports, each moved on by pick_port when taken. All lie below the kernel's
# ephemeral range (32768-60999 by default): ctest runs this beside integration tests that
# listen on port 0 and open outgoing connections, and either may take a port from that
# range between our pick and our bind. The sidecar's ports are chosen before the app
# starts, as the app must be told where to send its spans.
start_postgres 25610 || fail "postgres"
start_redis 26610 || fail "redis"
start_jaeger_standin 24610 || fail "jaeger stand-in"
SIDECAR_PORT="$(pick_port 18610)"
OTLP_HTTP_PORT="$(pick_port 24710)"
OTLP_GRPC_PORT="$(pick_port 24760)"
PROMETHEUS_PORT="$(pick_port 19610)"
TLS_PORT="$(pick_port 28610)"
# The batch span processor's default delay is 5 s; shorter, so spans arrive while we wait.
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://127.0.0.1:$OTLP_HTTP_PORT/v1/traces" OTEL_BSP_SCHEDULE_DELAY=500 \
  start_app 8610 || fail "app"
echo "$APP_PID" >"$WORK/app.pid"
# A Redis in use holds keys (redis_db_keys has no series for an empty server) and is read:
# keyspace hits and misses.
redis_cmd() { REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@" >/dev/null; }
redis_cmd MSET session:1 a session:2 b user:1 c || fail "redis-cli MSET"
redis_cmd GET session:1 || fail "redis-cli GET"
redis_cmd GET session:missing || fail "redis-cli GET"
ok "postgres :$PG_PORT, redis :$REDIS_PORT, app :$APP_PORT, jaeger stand-in :$JAEGER_PORT started"

# A TLS server with a self-signed certificate for the tls probe, trusted through ca_file.
# It is started after the sidecar: covet_sidecar_probe_failures_total has a series only
# once some probe has failed, so the tls probe's first run fails (refused) as a dependency
# that comes up late would, and passes from the next run on.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$WORK/openssl.log" 2>&1 ||
  fail "openssl req: $(cat "$WORK/openssl.log")"
# Every feature on: each probe type, the app's page re-exported, both OTLP receivers and
# an exporter with a disk spool. Short intervals so every series moves within the test.
mkdir "$WORK/spool"
CONFIG="$WORK/sidecar.yaml"
cat >"$CONFIG" <<YAML
listen: 127.0.0.1:$SIDECAR_PORT
log: { format: text, level: info }
shutdown: { drain_delay: 0s, grace_period: 5s }
probes:
  - name: postgres
    type: postgres
    dsn: $PG_DSN
    password_file: $PG_PASSWORD_FILE
    interval: 2s
    stats_interval: 5s
  - name: redis
    type: redis
    address: 127.0.0.1:$REDIS_PORT
    password_file: $REDIS_PASSWORD_FILE
    interval: 2s
    stats_interval: 5s
  - name: app
    type: http
    url: http://127.0.0.1:$APP_PORT/health/live
    interval: 2s
    roles: [liveness, readiness, startup]
  - { name: app-port, type: tcp, address: "127.0.0.1:$APP_PORT", interval: 2s }
  - { name: app-process, type: process, pid_file: $WORK/app.pid, interval: 2s, roles: [readiness] }
  - name: tls
    type: tls
    address: 127.0.0.1:$TLS_PORT
    server_name: localhost
    ca_file: $WORK/tls.crt
    interval: 5s
    roles: []
  - { name: data, type: disk, path: $WORK, interval: 2s, warn_free_percent: 10, fail_free_percent: 2 }
  - { name: memory, type: memory, interval: 2s, warn_percent: 97, fail_percent: 99, roles: [] }
scrape:
  - name: app
    url: http://127.0.0.1:$APP_PORT/metrics
    timeout: 5s
    min_interval: 1s
    # Tells the app's process_* series apart from the sidecar's own.
    labels: { container: app }
otlp:
  http: { listen: 127.0.0.1:$OTLP_HTTP_PORT }
  grpc: { listen: 127.0.0.1:$OTLP_GRPC_PORT }
  resource: { k8s.pod.name: covet-live-0 }
  exporters:
    - name: jaeger
      endpoint: $JAEGER_ENDPOINT
      batch: { timeout: 200ms }
      queue: { max_bytes: 16MiB, on_full: backpressure }
      spool: { dir: $WORK/spool, max_bytes: 64MiB }
YAML
if ! errors="$("$BINARY" --check-config "$CONFIG" 2>&1 >/dev/null)"; then
  fail "sidecar config rejected: $errors"
fi
ok "sidecar config with every probe type, scrape and OTLP passes --check-config"

"$BINARY" --config "$CONFIG" </dev/null >"$WORK/sidecar.log" 2>&1 &
SIDECAR_PID=$!
SIDECAR="http://127.0.0.1:$SIDECAR_PORT"
wait_http_ok "$SIDECAR/health/ready" 30 ||
  fail "sidecar not ready within 30s: $(curl -s --max-time 2 "$SIDECAR/health/ready?verbose" || true)"
ok "sidecar ready on :$SIDECAR_PORT"

# The page is read whole before grep: under pipefail, `curl | grep -q` fails when grep
# exits on its match before curl has written the rest.
tls_probe_has_failed() {
  local page
  page="$(curl -s --max-time 2 "$SIDECAR/metrics")" || return 1
  grep -q '^covet_sidecar_probe_failures_total{probe="tls"' <<<"$page"
}
for ((i = 0; i < 100; i++)); do
  tls_probe_has_failed && break
  sleep 0.1
done
tls_probe_has_failed || fail "the tls probe did not fail while its server was down"
openssl s_server -accept "127.0.0.1:$TLS_PORT" -cert "$WORK/tls.crt" -key "$WORK/tls.key" -www -quiet \
  </dev/null >"$WORK/tls-server.log" 2>&1 &
TLS_PID=$!
for ((i = 0; i < 50; i++)); do
  [ -n "$(ss -Htln "sport = :$TLS_PORT")" ] && break
  pid_running "$TLS_PID" || fail "openssl s_server did not start: $(cat "$WORK/tls-server.log")"
  sleep 0.1
done
[ -n "$(ss -Htln "sport = :$TLS_PORT")" ] || fail "openssl s_server is not listening on :$TLS_PORT"
ok "tls server on :$TLS_PORT started after the sidecar"

# Rule files: whatever exists, possibly none; promtool first, as a bad file would only
# show up as Prometheus refusing to start.
RULE_FILES=()
for file in "$ROOT"/monitoring/rules/*.yml "$ROOT"/monitoring/rules/*.yaml; do
  [ -f "$file" ] && RULE_FILES+=("$file")
done
if [ "${#RULE_FILES[@]}" -gt 0 ]; then
  promtool check rules "${RULE_FILES[@]}" >"$WORK/promtool.log" 2>&1 ||
    fail "promtool check rules: $(cat "$WORK/promtool.log")"
fi
ok "${#RULE_FILES[@]} rule files pass promtool check rules"

# Prometheus with the labels Kubernetes service discovery would give a sidecar target, so
# the dashboards' job and pod variables resolve. 1 s intervals: rate windows fill quickly.
{
  echo "global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s }"
  echo "rule_files:"
  for file in "${RULE_FILES[@]}"; do echo "  - \"$file\""; done
  [ "${#RULE_FILES[@]}" -gt 0 ] || echo "  []"
  cat <<YAML
scrape_configs:
  - job_name: covet-sidecar
    static_configs:
      - targets: ["127.0.0.1:$SIDECAR_PORT"]
        labels: { namespace: covet-test, pod: covet-live-0, container: covet-sidecar }
YAML
} >"$WORK/prometheus.yml"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus-data" \
  --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --log.level=warn \
  </dev/null >"$WORK/prometheus.log" 2>&1 &
PROMETHEUS_PID=$!
PROMETHEUS="http://127.0.0.1:$PROMETHEUS_PORT"
wait_http_ok "$PROMETHEUS/-/ready" 30 || fail "prometheus not ready within 30s"
ok "prometheus ready on :$PROMETHEUS_PORT"

# Traffic for about 20 s: fast and slow /work, a 400 and a 404 (so the status panels have
# more than one code), spans from the app over OTLP/HTTP, and spans sent over OTLP/gRPC
# and OTLP/HTTP JSON so every receiver has counted something.
send_spans() {
  node "$ROOT/tests/otel/send_spans.js" --protocol "$1" --endpoint "$2" --spans 20 \
    --service live-monitoring-test >"$WORK/send_spans_$1.log" 2>&1 ||
    fail "send_spans.js --protocol $1: $(tail -n 5 "$WORK/send_spans_$1.log")"
}
send_spans grpc "http://127.0.0.1:$OTLP_GRPC_PORT"
send_spans http "http://127.0.0.1:$OTLP_HTTP_PORT/v1/traces"
requests=0
for ((i = 0; i < 40; i++)); do
  for ms in 0 5 $((i % 4 * 40)); do
    curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$APP_PORT/work?ms=$ms" && requests=$((requests + 1))
  done
  if ((i % 10 == 0)); then
    curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$APP_PORT/work?ms=oops" || true
    curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$APP_PORT/no-such-page" || true
  fi
  sleep 0.5
done
[ "$requests" -gt 0 ] || fail "the app answered none of the /work requests"
ok "$requests /work requests sent to the app, spans sent over OTLP/gRPC and OTLP/HTTP"

exported="$(curl -s --max-time 2 "http://127.0.0.1:$JAEGER_PORT/stats" || true)"
echo "info jaeger stand-in: $exported"

FINISHED=1
node "$ROOT/tests/deploy/live_monitoring/check.js" --prometheus "$PROMETHEUS" --sidecar "$SIDECAR" \
  --dashboards "$ROOT/monitoring/dashboards" --rules "${#RULE_FILES[@]}" --deadline-s 45
