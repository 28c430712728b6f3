# shellcheck shell=bash
# Writes the sidecar config the demo and the exporter benchmark run with: probes for the
# servers scripts/lib/local-servers.sh started (postgres, redis, the app over http) plus
# disk and memory. Sourced, not run:
#
#   write_sidecar_config BINARY FILE LISTEN LOG_LEVEL
#
# With SIDECAR_SCRAPE_APP=1 the sidecar also scrapes the app's /metrics and serves it on its
# own (the demo); the exporter benchmark leaves it off, as the exporters it is measured
# against do not re-export the app. With SIDECAR_OTLP=1 (the demo) it also receives the
# app's spans over OTLP/HTTP on 127.0.0.1:$SIDECAR_OTLP_PORT and exports them to
# $JAEGER_ENDPOINT (start_jaeger_standin sets it); the benchmark leaves that off too.
#
# The file is checked with `BINARY --check-config`; an error is fatal and printed.

# listen log_level
sidecar_config_text() {
  cat <<YAML
# Written by scripts/lib/sidecar-config.sh for the servers in this directory.
listen: $1
log: { format: text, level: $2 }
# Short, so Ctrl-C stops the demo at once; a pod would keep the defaults (5s / 25s).
shutdown: { drain_delay: 0s, grace_period: 5s }
probes:
  - name: postgres
    type: postgres
    dsn: $PG_DSN
    password_file: $PG_PASSWORD_FILE
    interval: 10s
  - name: redis
    type: redis
    address: 127.0.0.1:$REDIS_PORT
    password_file: $REDIS_PASSWORD_FILE
  - name: app
    type: http
    url: http://127.0.0.1:$APP_PORT/health/live
    roles: [liveness, readiness, startup]
  - { name: disk, type: disk, path: $LS_DIR, warn_free_percent: 10, fail_free_percent: 2 }
  - { name: memory, type: memory, warn_percent: 85, fail_percent: 95 }
YAML
  if [ "${SIDECAR_SCRAPE_APP:-0}" = 1 ]; then
    cat <<YAML
scrape:
  - name: app
    url: http://127.0.0.1:$APP_PORT/metrics
    timeout: 5s
    # Tells the app's process_* series apart from the sidecar's own.
    labels: { container: app }
YAML
  fi
  if [ "${SIDECAR_OTLP:-0}" = 1 ]; then
    cat <<YAML
otlp:
  # Where the app's OpenTelemetry SDK sends by default (localhost:4318), unless that port
  # was taken and the app was told another one.
  http: { listen: 127.0.0.1:$SIDECAR_OTLP_PORT }
  # The app sends OTLP/HTTP: no gRPC listener, so the demo does not need port 4317 free.
  grpc: { enabled: false }
  # Added to every resource that lacks it, as a pod's POD_NAME would be.
  resource: { k8s.pod.name: demo-pod }
  exporters:
    - name: jaeger
      endpoint: $JAEGER_ENDPOINT
      # A span waits at most this long for others to share its request (the default).
      batch: { timeout: 200ms }
YAML
  fi
}

write_sidecar_config() {
  local binary="$1" file="$2" errors
  sidecar_config_text "$3" "$4" >"$file"
  if errors="$("$binary" --check-config "$file" 2>&1 >/dev/null)"; then return 0; fi
  echo "sidecar config $file rejected:" >&2
  echo "$errors" >&2
  return 1
}
