#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite:
#   1. the release build's tests (unit + integration against the real binary),
#   2. the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer,
#   3. every libFuzzer target for FUZZ_SECONDS each (clang-14).
# Ends with one line "N passed, N failed" covering all three.
# Set SKIP_INSTALL=1 to skip apt-get (when the packages are known to be there).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
fuzz_seconds="${FUZZ_SECONDS:-20}"

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
  bash scripts/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }
fi

passed=0
failed=0
skipped=0

# The example app's npm packages: the integration tests start examples/app/server.js and
# fail, saying so, when they are missing.
# shellcheck source=scripts/lib/example-app.sh
source scripts/lib/example-app.sh
if ! example_app_install; then
  echo "=== example app: npm ci FAILED"
  failed=$((failed + 1))
fi
# The OpenTelemetry test tools (tests/otel/*.js: the real SDK as the app, a stand-in for
# Jaeger): the OTLP tests run them with node and fail, saying so, when they are missing.
if ! otel_tools_install; then
  echo "=== otel test tools: npm ci FAILED"
  failed=$((failed + 1))
fi
ctest_summary() {  # reads ctest's "NN% tests passed, F tests failed out of T" and its skips
  local log="$1" line total fails skips
  line="$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)"
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  fails="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
  total="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")"
  skips="$(grep -cE '^[[:space:]]+[0-9]+ - .* \(Skipped\)$' "$log" || true)"
  passed=$((passed + total - fails - skips))
  failed=$((failed + fails))
  skipped=$((skipped + skips))
}

run_suite() {  # name build_dir cmake-args...
  local name="$1" dir="$2"
  shift 2
  echo "=== $name: build"
  if ! BUILD_DIR="$dir" bash scripts/build.sh "$@"; then
    echo "=== $name: BUILD FAILED"
    failed=$((failed + 1))
    return
  fi
  echo "=== $name: test"
  (cd "$dir" && ctest --output-on-failure -j 2 --timeout 300) 2>&1 | tee "$dir/ctest.log"
  ctest_summary "$dir/ctest.log"
}

run_suite "release" "$root/build" -DCOVET_TESTS=ON -DCOVET_SANITIZE=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite "asan+ubsan" "$root/build-asan" -DCOVET_TESTS=ON -DCOVET_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug

echo "=== fuzz: build (clang-14, libFuzzer)"
if CC=clang-14 CXX=clang++-14 BUILD_DIR="$root/build-fuzz" bash scripts/build.sh \
     -DCOVET_FUZZ=ON -DCOVET_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
  # Each target runs for fuzz_seconds on a copy of its corpus; as many at once as there are
  # cores (each is single-threaded), reported in corpus order once all have finished.
  fuzz_jobs="${FUZZ_JOBS:-$(nproc)}"
  fuzz_reports="$(mktemp -d)"
  run_fuzz_target() {  # target corpus report: exit status is the target's
    local target="$1" corpus="$2" report="$3" work status=0
    work="$(mktemp -d)"
    cp -r "$corpus". "$work/"
    "build-fuzz/tests/fuzz/$target" -max_total_time="$fuzz_seconds" -max_len=65536 \
      -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/" "$work" >"$work/log" 2>&1 ||
      status=$?
    if [ "$status" -eq 0 ]; then
      grep -E '^#[0-9]+.*DONE' "$work/log" | tail -1 >"$report"
    else
      tail -40 "$work/log" >"$report"
    fi
    rm -rf "$work"
    return "$status"
  }
  fuzz_targets=()
  fuzz_pids=()
  for corpus in tests/fuzz/corpus/*/; do
    target="$(basename "$corpus")_fuzz"
    if [ ! -x "build-fuzz/tests/fuzz/$target" ]; then
      echo "=== fuzz: $target missing"
      failed=$((failed + 1))
      continue
    fi
    while [ "$(jobs -rp | wc -l)" -ge "$fuzz_jobs" ]; do sleep 0.5; done
    run_fuzz_target "$target" "$corpus" "$fuzz_reports/$target" &
    fuzz_targets+=("$target")
    fuzz_pids+=("$!")
  done
  for i in "${!fuzz_targets[@]}"; do
    target="${fuzz_targets[$i]}"
    if wait "${fuzz_pids[$i]}"; then
      echo "=== fuzz: $target for ${fuzz_seconds}s"
      passed=$((passed + 1))
    else
      echo "=== fuzz: $target FAILED"
      failed=$((failed + 1))
    fi
    cat "$fuzz_reports/$target"
  done
  rm -rf "$fuzz_reports"
else
  echo "=== fuzz: BUILD FAILED"
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
