#!/usr/bin/env bash
# Installs everything the build, the tests, the fuzzers, the benchmark and the demo need,
# from Debian 12 packages. Run as root. Safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl procps
  # libraries (DESIGN.md "Dependencies")
  libuv1-dev node-llhttp prometheus-cpp-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libcurl4-openssl-dev libpq-dev libhiredis-dev libnghttp2-dev zlib1g-dev libssl-dev
  libsystemd-dev libgtest-dev libgmock-dev
  # fuzzing (libFuzzer) and formatting
  clang-14 libclang-rt-14-dev clang-format
  # real third-party tools the tests and the benchmark use
  prometheus nginx-light wrk util-linux
  # PostgreSQL 15 server and psql for the postgres probe's integration tests; iproute2 for ss
  postgresql postgresql-client iproute2
  # Redis 7 server (and sentinel) and redis-cli for the redis probe's integration tests
  redis-server redis-tools
)

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it)" >&2
  exit 1
fi
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
