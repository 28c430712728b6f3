#!/usr/bin/env bash
# Installs everything the build, the tests, the fuzzers, the benchmark and the demo need,
# from Debian 12 packages. Run as root. Safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl procps
  # libraries (DESIGN.md "Dependencies")
  libuv1-dev node-llhttp prometheus-cpp-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libcurl4-openssl-dev libpq-dev libhiredis-dev libnghttp2-dev zlib1g-dev libssl-dev
  libsystemd-dev libgtest-dev libgmock-dev nlohmann-json3-dev
  # fuzzing (libFuzzer) and formatting
  clang-14 libclang-rt-14-dev clang-format
  # real third-party tools the tests and the benchmark use
  prometheus nginx-light wrk util-linux
  # PostgreSQL 15 server and psql for the postgres probe's integration tests; iproute2 for ss
  postgresql postgresql-client iproute2
  # the demo and the Redis probe's tests: Redis (redis-cli comes with it); python3 for the
  # process probe's tests. (examples/app needs Node.js 20 and npm, which the machine image
  # has: Debian 12's own nodejs is 18; scripts/lib/example-app.sh installs its npm packages.)
  redis-server redis-tools python3
  # the exporters the sidecar replaces: bench/exporters.sh, and the tests that compare our
  # series with theirs
  prometheus-node-exporter prometheus-postgres-exporter prometheus-redis-exporter
  prometheus-blackbox-exporter
  # packaging checks (tests/deploy): docker-compose validates the compose file without an
  # engine; dpkg-dev's dpkg-shlibdeps computes the .deb's dependencies; binutils'
  # readelf looks inside it; openssl for a TLS server the monitoring test probes
  docker-compose dpkg-dev binutils openssl
)

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it)" >&2
  exit 1
fi
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
# The example app (examples/app) runs on Node.js with npm. Machines built with Node.js 20
# from its own packages have both; elsewhere Debian's nodejs 18 and npm serve as well.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get install -y --no-install-recommends nodejs npm
fi
