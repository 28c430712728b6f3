#!/usr/bin/env bash
# Throughput of the OTLP traces codec (exporters/otlp/) against libprotobuf's generated code
# for the OTLP schema, on one realistic 512-span request (bench/otlp_codec/main.cpp says
# what is in it). Prints a table: MB/s of input, spans/s, microseconds per request.
#
#   bench/otlp_codec.sh                 (needs scripts/install-deps.sh; for the libprotobuf
#   SPANS=512 SECONDS_EACH=3 bench/otlp_codec.sh     rows libprotobuf-dev, protobuf-compiler
#                                                    and npm for the OTLP .proto files)
#   CPU=0 bench/otlp_codec.sh           pinned with taskset
#
# Both sides are compiled here with the same flags (-O2, as RelWithDebInfo). The .proto
# files come from @opentelemetry/otlp-grpc-exporter-base@0.38.0, the newest npm package
# that ships them (its schema lacks fields added later; unknown to it, they are skipped).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
spans="${SPANS:-512}"
seconds="${SECONDS_EACH:-3}"
cxx="${CXX:-g++}"
flags=(-std=c++20 -O2 -g -DNDEBUG -I"$root")
sources=("$root"/bench/otlp_codec/main.cpp "$root"/exporters/otlp/{wire,traces,plain_shapes,json,json_reader}.cpp "$root"/exporters/utf8.cpp)
libs=(-lfmt)

if command -v protoc >/dev/null && [ -e /usr/include/google/protobuf/message.h ] &&
   command -v npm >/dev/null && (cd "$work" && npm pack --silent \
     @opentelemetry/otlp-grpc-exporter-base@0.38.0 >/dev/null 2>&1); then
  tar xzf "$work"/opentelemetry-otlp-grpc-exporter-base-0.38.0.tgz -C "$work"
  protos="$work/package/build/protos"
  mkdir -p "$work/gen"
  (cd "$protos" && protoc --cpp_out="$work/gen" opentelemetry/proto/common/v1/common.proto \
     opentelemetry/proto/resource/v1/resource.proto opentelemetry/proto/trace/v1/trace.proto \
     opentelemetry/proto/collector/trace/v1/trace_service.proto)
  flags+=(-DCOVET_BENCH_LIBPROTOBUF -I"$work/gen")
  sources+=("$work"/gen/opentelemetry/proto/{common/v1/common,resource/v1/resource,trace/v1/trace,collector/trace/v1/trace_service}.pb.cc)
  libs+=(-lprotobuf -lpthread)
  echo "libprotobuf $(protoc --version) with the OTLP .proto files of otlp-grpc-exporter-base 0.38.0"
else
  echo "libprotobuf rows skipped: needs protoc, libprotobuf-dev and npm"
fi
"$cxx" "${flags[@]}" "${sources[@]}" "${libs[@]}" -o "$work/otlp_codec"
echo "compiler: $("$cxx" --version | head -1); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
if [ -n "${CPU:-}" ]; then
  taskset -c "$CPU" "$work/otlp_codec" "$spans" "$seconds"
else
  "$work/otlp_codec" "$spans" "$seconds"
fi
