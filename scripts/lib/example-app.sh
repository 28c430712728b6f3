# shellcheck shell=bash
# The example app's npm dependencies (examples/app: prom-client, pinned in its
# package-lock.json). Sourced, not run:
#
#   source scripts/lib/example-app.sh
#   example_app_install || exit 1      # npm ci, unless node_modules matches the lockfile
#
# `npm ci` installs exactly the lockfile, after deleting node_modules, so it is run only
# when the lockfile changed since the last install: a stamp in node_modules holds the
# lockfile's hash, and a current node_modules costs one sha256sum. Fails with
# "example app: <reason>" when node or npm is missing or the install fails.

example_app_install() {
  local dir stamp want
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/app" && pwd)"
  stamp="$dir/node_modules/.covet-lockfile-sha256"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "example app: node and npm are needed (Node.js 20)" >&2
    return 1
  fi
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  # --loglevel=error: no progress, no funding or audit notes, no config warnings.
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null ||
    { echo "example app: npm ci --prefix $dir failed" >&2; return 1; }
  echo "$want" >"$stamp"
}
