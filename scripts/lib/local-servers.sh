# shellcheck shell=bash disable=SC2034  # the variables set here are read by the scripts sourcing it
# Throwaway servers on loopback for the demo and the benchmarks: a real PostgreSQL 15, a
# real Redis, the example app and a stand-in for Jaeger's OTLP receiver, each in a
# directory under one work dir that the caller removes. Sourced, not run:
#
#   source scripts/lib/local-servers.sh
#   local_servers_init "$work"         # work: an empty directory (mktemp -d)
#   start_postgres 55432; start_redis 56379; start_app 8000; start_jaeger_standin 54318
#   ...                                # PG_PORT PG_DSN PG_PASSWORD_FILE, REDIS_PORT
#   stop_local_servers                 # REDIS_PASSWORD_FILE, APP_PORT APP_PID, JAEGER_PORT ...
#
# A port that is taken is replaced by the next free one, so two runs (or someone else's
# server) do not collide; read the chosen port back from the variables.
# Set LOCAL_SERVERS_CPU=N to pin all three to that CPU (the benchmarks keep them off the
# CPU they measure). Passwords are random, live in 0600 files, and never appear in argv.
# Each start_* fails with "<server> did not start: <log tail>"; stop_local_servers is
# safe to call at any point, also twice, and its waits are bounded.

readonly LS_PG_BIN=/usr/lib/postgresql/15/bin
# shellcheck source=scripts/lib/example-app.sh
source "$(dirname "${BASH_SOURCE[0]}")/example-app.sh"

ls_die() { echo "$*" >&2; return 1; }

# The command prefix that pins to LOCAL_SERVERS_CPU when it is set. An array, not a
# function: `function args &` would fork a subshell, and $! would be the subshell's pid
# rather than the server's, so stopping it would orphan the server.
ls_pin_prefix() {
  LS_PIN=()
  if [ -n "${LOCAL_SERVERS_CPU:-}" ]; then LS_PIN=(taskset -c "$LOCAL_SERVERS_CPU"); fi
}

# The first port from $1 on (at most 50 tried) that no TCP socket on this machine uses:
# not only listeners, as a connected socket on a port makes a later bind to it fail too.
# The answer is a snapshot: a port inside the kernel's ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range) may still be handed to someone's outgoing
# connection before it is bound, so tests that run beside others start from lower ports.
pick_port() {
  local port
  for port in $(seq "$1" $(($1 + 49))); do
    if [ -z "$(ss -Htan "sport = :$port" 2>/dev/null)" ]; then echo "$port"; return 0; fi
  done
  ls_die "no free TCP port in $1..$(($1 + 49))"
}

# 32 hex digits: safe inside SQL quotes, YAML and URLs without escaping. (od reads exactly
# 16 bytes; a `tr </dev/urandom | head` pipe would die of SIGPIPE under pipefail.)
random_password() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

# Alive and not a zombie. kill -0 succeeds on a zombie, and orphans are reaped slowly here.
pid_running() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# pid name [seconds]: SIGTERM, wait up to `seconds` (default 10), then SIGKILL; reaps it if
# it is our child.
stop_pid() {
  local pid="$1" name="$2" limit="${3:-10}" i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < limit * 10; i++)); do
    pid_running "$pid" || break
    sleep 0.1
  done
  if pid_running "$pid"; then
    echo "$name (pid $pid) still running after ${limit}s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# url seconds: polls until curl gets a 2xx, at most `seconds`.
wait_http_ok() {
  local url="$1" i
  for ((i = 0; i < $2 * 10; i++)); do
    curl -sf -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  return 1
}

local_servers_init() {
  LS_DIR="$1"
  # mktemp -d makes the directory 0700; the postgres user must traverse it to reach its
  # data directory and socket. Nothing secret is readable: password files are 0600.
  chmod 0711 "$LS_DIR"
  LS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  PG_STARTED=0
  REDIS_PID=""
  APP_PID=""
  JAEGER_PID=""
  ls_pin_prefix
}

pg_as_postgres() { (cd / && "${LS_PIN[@]}" runuser -u postgres -- "$@"); }

pg_log_tail() { tail -n 15 "$LS_DIR/pg/server.log" "$LS_DIR/pg/initdb.log" 2>/dev/null; }

# PostgreSQL 15 on 127.0.0.1:PORT with a database `app` owned by a role `app` (password in
# $PG_PASSWORD_FILE, also member of pg_monitor so an exporter may read every statistic).
# Sets PG_PORT, PG_DSN (no password), PG_SOCKET_DIR, PG_PASSWORD_FILE.
start_postgres() {
  [ -x "$LS_PG_BIN/initdb" ] || ls_die "postgres did not start: no $LS_PG_BIN/initdb (install postgresql)" || return 1
  id -u postgres >/dev/null 2>&1 || ls_die "postgres did not start: no postgres user (install postgresql)" || return 1
  PG_PORT="$(pick_port "$1")" || return 1
  PG_SOCKET_DIR="$LS_DIR/pg"
  PG_PASSWORD_FILE="$LS_DIR/pg_password"
  (umask 077 && random_password >"$PG_PASSWORD_FILE")
  mkdir "$PG_SOCKET_DIR"
  chown postgres: "$PG_SOCKET_DIR"
  pg_as_postgres "$LS_PG_BIN/initdb" -D "$PG_SOCKET_DIR/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 --no-sync -E UTF8 --locale=C.UTF-8 >"$LS_DIR/pg/initdb.log" 2>&1 ||
    ls_die "postgres did not start: initdb failed: $(pg_log_tail)" || return 1
  PG_STARTED=1
  # -w -t 30: pg_ctl itself waits until the server accepts connections, at most 30 s.
  pg_as_postgres "$LS_PG_BIN/pg_ctl" -D "$PG_SOCKET_DIR/data" -l "$PG_SOCKET_DIR/server.log" -w -t 30 \
    -o "-p $PG_PORT -k $PG_SOCKET_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null 2>&1 ||
    ls_die "postgres did not start: $(pg_log_tail)" || return 1
  # The password goes in on stdin, not in psql's argv.
  pg_as_postgres psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres \
    >"$LS_DIR/pg/setup.log" 2>&1 <<SQL || ls_die "postgres: creating role app failed: $(cat "$LS_DIR/pg/setup.log")" || return 1
CREATE ROLE app LOGIN PASSWORD '$(cat "$PG_PASSWORD_FILE")';
GRANT pg_monitor TO app;
CREATE DATABASE app OWNER app;
SQL
  PG_DSN="postgresql://app@127.0.0.1:$PG_PORT/app"
}

# sql: runs it as the superuser over the Unix socket, prints the unaligned result.
pg_query() {
  pg_as_postgres psql -X -At -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres -c "$1"
}

stop_postgres() {
  [ "${PG_STARTED:-0}" = 1 ] || return 0
  PG_STARTED=0
  pg_as_postgres "$LS_PG_BIN/pg_ctl" -D "$PG_SOCKET_DIR/data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
    echo "postgres: pg_ctl stop failed: $(pg_log_tail)" >&2
}

# Redis on 127.0.0.1:PORT, no persistence, requirepass from $REDIS_PASSWORD_FILE (given to
# redis-server in a 0600 config file, so it is not in argv). Sets REDIS_PORT, REDIS_PID.
start_redis() {
  command -v redis-server >/dev/null || ls_die "redis did not start: no redis-server (install redis-server)" || return 1
  REDIS_PORT="$(pick_port "$1")" || return 1
  REDIS_PASSWORD_FILE="$LS_DIR/redis_password"
  (umask 077 && random_password >"$REDIS_PASSWORD_FILE")
  mkdir -m 0700 "$LS_DIR/redis"
  (umask 077 && echo "requirepass $(cat "$REDIS_PASSWORD_FILE")" >"$LS_DIR/redis/secret.conf")
  "${LS_PIN[@]}" redis-server "$LS_DIR/redis/secret.conf" --port "$REDIS_PORT" --bind 127.0.0.1 \
    --save '' --appendonly no --dir "$LS_DIR/redis" --logfile "$LS_DIR/redis/server.log" </dev/null &
  REDIS_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    [ "$(REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ] && return 0
    pid_running "$REDIS_PID" || break
    sleep 0.1
  done
  ls_die "redis did not start: $(tail -n 15 "$LS_DIR/redis/server.log" 2>/dev/null)"
}

stop_redis() { stop_pid "$REDIS_PID" redis-server; REDIS_PID=""; }

# The example app (examples/app/server.js, Node.js) on 127.0.0.1:PORT, its request log in
# $LS_DIR/app.log; its npm packages are installed first when they are not current. It
# traces its requests to the OpenTelemetry SDK's default endpoint, localhost:4318, or where
# OTEL_EXPORTER_OTLP_TRACES_ENDPOINT in the environment says; nothing listening there only
# loses the spans. Sets APP_PORT, APP_PID.
start_app() {
  example_app_install || ls_die "app did not start: its npm packages are not installed" || return 1
  APP_PORT="$(pick_port "$1")" || return 1
  "${LS_PIN[@]}" node "$LS_ROOT/examples/app/server.js" "$APP_PORT" </dev/null 2>"$LS_DIR/app.log" &
  APP_PID=$!
  wait_http_ok "http://127.0.0.1:$APP_PORT/health/live" 10 ||
    ls_die "app did not start: $(tail -n 15 "$LS_DIR/app.log")"
}

stop_app() { stop_pid "$APP_PID" app; APP_PID=""; }

# A stand-in for Jaeger's OTLP/HTTP receiver (tests/otel/jaeger_standin.js: POST /v1/traces,
# GET /stats counts what it decoded) on 127.0.0.1:PORT, its log in $LS_DIR/jaeger-standin.log;
# its npm packages are installed first when they are not current. Sets JAEGER_PORT,
# JAEGER_PID, JAEGER_ENDPOINT (where to export to).
start_jaeger_standin() {
  otel_tools_install || ls_die "jaeger stand-in did not start: its npm packages are not installed" || return 1
  JAEGER_PORT="$(pick_port "$1")" || return 1
  "${LS_PIN[@]}" node "$LS_ROOT/tests/otel/jaeger_standin.js" --port "$JAEGER_PORT" \
    </dev/null 2>"$LS_DIR/jaeger-standin.log" &
  JAEGER_PID=$!
  JAEGER_ENDPOINT="http://127.0.0.1:$JAEGER_PORT/v1/traces"
  wait_http_ok "http://127.0.0.1:$JAEGER_PORT/stats" 10 ||
    ls_die "jaeger stand-in did not start: $(tail -n 15 "$LS_DIR/jaeger-standin.log")"
}

stop_jaeger_standin() { stop_pid "$JAEGER_PID" jaeger-standin; JAEGER_PID=""; }

# Reverse order of starting. The caller removes $LS_DIR afterwards.
stop_local_servers() {
  stop_jaeger_standin
  stop_app
  stop_redis
  stop_postgres
}
