# shellcheck shell=bash
# The npm dependencies of the example app (examples/app: prom-client) and of the
# OpenTelemetry test tools (tests/otel), each pinned in its package-lock.json. Sourced,
# not run:
#
#   source scripts/lib/example-app.sh
#   example_app_install || exit 1      # npm ci, unless node_modules matches the lockfile
#   otel_tools_install || exit 1       # the same for tests/otel
#
# `npm ci` installs exactly the lockfile, after deleting node_modules, so it is run only
# when the lockfile changed since the last install: a stamp in node_modules holds the
# lockfile's hash, and a current node_modules costs one sha256sum. Fails with
# "example app: <reason>" (or "otel test tools: <reason>") when node or npm is missing or
# the install fails.

example_app_install() {
  npm_ci_if_changed "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/app" && pwd)" "example app"
}

# The OpenTelemetry test tools' npm dependencies (tests/otel: the OpenTelemetry JS SDK and
# exporters, protobufjs, the OTLP .proto files), installed the same way.
otel_tools_install() {
  npm_ci_if_changed "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tests/otel" && pwd)" "otel test tools"
}

# npm_ci_if_changed DIR LABEL: npm ci in DIR unless its node_modules was installed from
# the same package-lock.json; errors read "LABEL: reason".
npm_ci_if_changed() {
  local dir="$1" label="$2" stamp want
  stamp="$dir/node_modules/.covet-lockfile-sha256"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "$label: node and npm are needed (Node.js 20)" >&2
    return 1
  fi
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  # --loglevel=error: no progress, no funding or audit notes, no config warnings.
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null ||
    { echo "$label: npm ci --prefix $dir failed" >&2; return 1; }
  echo "$want" >"$stamp"
}
