#!/usr/bin/env bash
# Installs what is needed, builds, and runs the sidecar on its built-in default config
# (listener on 0.0.0.0:8099, a disk probe on /, a memory probe). Shows /health and
# /health/ready?verbose once it is up, then keeps running until Ctrl-C (SIGINT drains and
# exits 0, as SIGTERM does). Set SKIP_INSTALL=1 to skip apt-get.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  bash scripts/install-deps.sh
fi
bash scripts/build.sh -DCOVET_TESTS=OFF

port=8099
# No --config: the built-in default (or /etc/covet-sidecar/config.yaml when present).
./build/covet-sidecar ${CONFIG:+--config "$CONFIG"} &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid' INT TERM

for _ in $(seq 1 50); do
  if ./build/covet-sidecar healthcheck "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
echo
echo "--- curl http://127.0.0.1:$port/health/ready?verbose"
curl -s "http://127.0.0.1:$port/health/ready?verbose" || true
echo "--- curl http://127.0.0.1:$port/health"
curl -s "http://127.0.0.1:$port/health" || true
echo "--- curl http://127.0.0.1:$port/metrics | grep covet_sidecar_probe_up"
curl -s "http://127.0.0.1:$port/metrics" | grep '^covet_sidecar_probe_up' || true
echo
echo "covet-sidecar is running on http://127.0.0.1:$port (pid $pid). Ctrl-C stops it."
wait $pid
