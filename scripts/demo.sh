#!/usr/bin/env bash
# The demo: installs what is needed, builds, then runs on loopback, each in one temporary
# directory:
#   PostgreSQL 15   127.0.0.1:55432  database and role `app`, password in a 0600 file
#   Redis           127.0.0.1:56379  no persistence, requirepass from a 0600 file
#   example app     127.0.0.1:8000   examples/app/server.js (/health/live, /metrics, /work?ms=N)
#   covet-sidecar   127.0.0.1:8099   probing all of them plus disk and memory
# (a taken server port moves to the next free one; 8099 must be free). Once every probe
# has passed it prints the URLs and /health?verbose, then runs until Ctrl-C or SIGTERM,
# which stops everything it started, removes the directory and exits 0.
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
binary="${BUILD_DIR:-$root/build}/covet-sidecar"
sidecar_pid=""
timer_pid=""
work=""

cleanup() {
  local rc=$?
  # A second Ctrl-C must not cut the cleanup short; every wait below is bounded.
  trap '' INT TERM
  trap - EXIT
  [ -n "$work" ] || exit "$rc"
  echo
  echo "demo: stopping"
  stop_pid "$timer_pid" timer 1
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
bash scripts/build.sh -DCOVET_TESTS=OFF

if [ -n "$(ss -Htln "sport = :$sidecar_port")" ]; then
  echo "demo: 127.0.0.1:$sidecar_port is already in use (another sidecar or demo?):" >&2
  ss -Htlnp "sport = :$sidecar_port" >&2
  exit 1
fi

work="$(mktemp -d /tmp/covet-demo.XXXXXX)"
local_servers_init "$work"
echo "demo: starting PostgreSQL, Redis and the example app in $work"
start_postgres 55432
start_redis 56379
start_app 8000

SIDECAR_SCRAPE_APP=1 write_sidecar_config "$binary" "$work/covet-sidecar.yaml" "127.0.0.1:$sidecar_port" info
"$binary" --config "$work/covet-sidecar.yaml" </dev/null 2>"$work/covet-sidecar.log" &
sidecar_pid=$!

base="http://127.0.0.1:$sidecar_port"
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
example app:  http://127.0.0.1:$APP_PORT/   /metrics   /work?ms=250
PostgreSQL:   $PG_DSN (password in $PG_PASSWORD_FILE)
Redis:        127.0.0.1:$REDIS_PORT (password in $REDIS_PASSWORD_FILE)
Logs:         $work/*.log, $work/pg/server.log, $work/redis/server.log
TEXT

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
