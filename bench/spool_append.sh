#!/usr/bin/env bash
# Append throughput of the disk spool for each fsync policy, on the disk holding DIR
# (default: a temporary directory under /var/tmp, not a tmpfs). Prints a table: records/s,
# MB/s of payload, mean latency of one append (written, synced per policy, called back).
#
#   bench/spool_append.sh                       16 KiB records, 16 in flight, 3 s each
#   SIZE=262144 INFLIGHT=4 SECONDS_EACH=5 DIR=/var/lib/x bench/spool_append.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dir="${DIR:-$(mktemp -d /var/tmp/spool-bench.XXXXXX)/spool}"
cxx="${CXX:-g++}"
"$cxx" -std=c++20 -O2 -g -DNDEBUG -I"$root" -o "$work/spool_append" \
  "$root"/bench/spool_append/main.cpp "$root"/exporters/otlp/spool{,_segment,_disk,_worker}.cpp \
  "$root"/agent/{logging,json,time_format}.cpp -luv -lspdlog -lfmt -lz -pthread
echo "| fsync    |   bytes | in flight | records/s |   MB/s | latency µs |"
echo "|---|---|---|---|---|---|"
"$work/spool_append" "$dir" "${SIZE:-16384}" "${INFLIGHT:-16}" "${SECONDS_EACH:-3}"
rm -rf "$(dirname "$dir")"
