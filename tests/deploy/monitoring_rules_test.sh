#!/usr/bin/env bash
# Checks the Prometheus rules in monitoring/rules/, their unit tests in monitoring/tests/ and
# the runbooks in docs/runbooks/:
#   - promtool check rules: the rule files are valid;
#   - promtool test rules: every unit test passes;
#   - every alert has labels.severity (critical|warning|info), annotations.summary,
#     annotations.description and annotations.runbook_url;
#   - every runbook_url is https://github.com/covet/covet-sidecar/blob/main/<path> with
#     <path> a file in this repository, named after the alert;
#   - every alert has a unit test where it fires (exp_alerts with labels and annotations)
#     and one where it stays silent (exp_alerts: []);
#   - every runbook belongs to an alert, and docs/runbooks/README.md links every alert.
# Needs only bash, awk, grep and promtool (Debian: prometheus). Prints one line per check
# and ends with PASS or FAIL; exits 0 only on PASS.
#
# The rule and test files are parsed line by line, which relies on the layout they are
# written in ("- alert: NAME" then its keys, one per line; "alertname: NAME" followed by
# "exp_alerts:"). The parser's alert count is compared with promtool's rule count, so a
# layout it does not understand fails the test instead of being skipped.

set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root" || exit 2

readonly RUNBOOK_PREFIX="https://github.com/covet/covet-sidecar/blob/main/"
failures=0
checks=0

pass() { checks=$((checks + 1)); printf 'ok   %s\n' "$*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); printf 'FAIL %s\n' "$*"; }

if ! command -v promtool >/dev/null 2>&1; then
  echo "FAIL promtool not found (Debian package: prometheus)"
  echo "FAIL: monitoring rules"
  exit 1
fi

shopt -s nullglob
rule_files=(monitoring/rules/*.yml)
test_files=(monitoring/tests/*.test.yml)
runbooks=(docs/runbooks/*.md)
shopt -u nullglob

if ((${#rule_files[@]} == 0)); then fail "no rule files in monitoring/rules/"; fi
if ((${#test_files[@]} == 0)); then fail "no test files in monitoring/tests/"; fi

# --- promtool ---------------------------------------------------------------------------

if out="$(promtool check rules "${rule_files[@]}" 2>&1)"; then
  pass "promtool check rules ${rule_files[*]}"
else
  fail "promtool check rules:"
  printf '%s\n' "$out" | sed 's/^/       /'
fi

if out="$(promtool test rules "${test_files[@]}" 2>&1)"; then
  pass "promtool test rules ${test_files[*]}"
else
  fail "promtool test rules:"
  printf '%s\n' "$out" | sed 's/^/       /'
fi

# --- alerts, labels and annotations -----------------------------------------------------

# One line per alert: file, name, severity, has summary, has description, runbook_url.
# One line per file: "#count file rules" (alerts and records) to compare with promtool.
parse_rules() {
  awk '
    function flush() {
      if (alert != "") printf "%s\t%s\t%s\t%s\t%s\t%s\n", FILENAME, alert, severity, summary, description, runbook
      alert = ""; severity = ""; summary = "no"; description = "no"; runbook = ""
    }
    function value(line) {
      sub(/^[^:]*:[ \t]*/, "", line)
      sub(/[ \t]+#.*$/, "", line)
      gsub(/^["\047]|["\047]$/, "", line)
      return line
    }
    FNR == 1 { if (NR > 1) { flush(); printf "#count\t%s\t%d\n", prev, rules }; rules = 0; prev = FILENAME }
    /^[ \t]*- (alert|record):/ { flush(); rules++ }
    /^[ \t]*- alert:/ { alert = value($0); next }
    /^[ \t]*- name:/ { flush(); next }
    alert != "" && /^[ \t]+severity:/ { severity = value($0) }
    alert != "" && /^[ \t]+summary:[ \t]*[^ \t]/ { summary = "yes" }
    alert != "" && /^[ \t]+description:[ \t]*[^ \t]/ { description = "yes" }
    alert != "" && /^[ \t]+runbook_url:/ { runbook = value($0) }
    END { flush(); if (NR > 0) printf "#count\t%s\t%d\n", prev, rules }
  ' "$@"
}

parsed="$(parse_rules "${rule_files[@]}")"

# The parser must see every rule promtool sees.
for file in "${rule_files[@]}"; do
  promtool_count="$(promtool check rules "$file" 2>/dev/null | sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p')"
  parsed_count="$(printf '%s\n' "$parsed" | awk -F'\t' -v f="$file" '$1 == "#count" && $2 == f { print $3 }')"
  if [ -n "$promtool_count" ] && [ "$promtool_count" = "$parsed_count" ]; then
    pass "$file: $parsed_count rules parsed, as promtool counts"
  else
    fail "$file: parsed ${parsed_count:-0} rules, promtool counts ${promtool_count:-none}: unexpected layout"
  fi
done

alerts=()
while IFS=$'\t' read -r file name severity summary description runbook; do
  [ "$file" = "#count" ] && continue
  alerts+=("$name")
  problems=()
  case "$severity" in
    critical | warning | info) ;;
    "") problems+=("no labels.severity") ;;
    *) problems+=("severity \"$severity\" is not critical, warning or info") ;;
  esac
  [ "$summary" = yes ] || problems+=("no annotations.summary")
  [ "$description" = yes ] || problems+=("no annotations.description")
  if [ -z "$runbook" ]; then
    problems+=("no annotations.runbook_url")
  elif [[ "$runbook" != "$RUNBOOK_PREFIX"* ]]; then
    problems+=("runbook_url $runbook does not start with $RUNBOOK_PREFIX")
  else
    path="${runbook#"$RUNBOOK_PREFIX"}"
    if [ ! -f "$path" ]; then
      problems+=("runbook_url: $path is not a file in the repository")
    elif [ "$(basename "$path")" != "$name.md" ]; then
      problems+=("runbook_url: $path is not named $name.md")
    fi
  fi
  if ((${#problems[@]} == 0)); then
    pass "$name: severity $severity, summary, description, runbook ${runbook#"$RUNBOOK_PREFIX"}"
  else
    fail "$name ($file): $(IFS=';'; echo "${problems[*]}")"
  fi
done <<<"$parsed"

if ((${#alerts[@]} == 0)); then
  fail "no alerts found in ${rule_files[*]}"
fi

duplicates="$(printf '%s\n' "${alerts[@]}" | sort | uniq -d)"
if [ -z "$duplicates" ]; then
  pass "alert names are unique (${#alerts[@]} alerts)"
else
  fail "alert names defined twice: $(echo "$duplicates" | tr '\n' ' ')"
fi

# --- unit test coverage -----------------------------------------------------------------

# One line per alert_rule_test case: alertname and "firing" or "silent". A firing case
# without exp_annotations is reported as "firing-no-annotations".
coverage="$(awk '
  function flush() {
    if (name != "" && kind != "") {
      if (kind == "firing" && !annotated) kind = "firing-no-annotations"
      print name "\t" kind
    }
    name = ""; kind = ""; annotated = 0; expecting = 0
  }
  FNR == 1 { flush() }
  /^[ \t]*- eval_time:/ || /^[ \t]*- name:/ || /^[ \t]*- expr:/ { flush() }
  /^[ \t]*alertname:/ { line = $0; sub(/^[^:]*:[ \t]*/, "", line); sub(/[ \t]+#.*$/, "", line); name = line }
  /^[ \t]*exp_alerts:[ \t]*\[\][ \t]*$/ { kind = "silent"; next }
  /^[ \t]*exp_alerts:[ \t]*$/ { expecting = 1; next }
  expecting && /^[ \t]*- exp_labels:/ { kind = "firing"; expecting = 0 }
  /^[ \t]*exp_annotations:/ { annotated = 1 }
  END { flush() }
' "${test_files[@]}")"

for name in "${alerts[@]}"; do
  firing="$(printf '%s\n' "$coverage" | awk -F'\t' -v n="$name" '$1 == n && $2 == "firing"' | wc -l)"
  bare="$(printf '%s\n' "$coverage" | awk -F'\t' -v n="$name" '$1 == n && $2 == "firing-no-annotations"' | wc -l)"
  silent="$(printf '%s\n' "$coverage" | awk -F'\t' -v n="$name" '$1 == n && $2 == "silent"' | wc -l)"
  if ((firing > 0 && silent > 0 && bare == 0)); then
    pass "$name: tested firing ($firing) and silent ($silent)"
  else
    problems=()
    ((firing > 0)) || problems+=("no test where it fires with exp_labels and exp_annotations")
    ((bare == 0)) || problems+=("$bare firing tests without exp_annotations")
    ((silent > 0)) || problems+=("no test where it stays silent (exp_alerts: [])")
    fail "$name: $(IFS=';'; echo "${problems[*]}")"
  fi
done

# Tests naming an alert that does not exist test nothing.
while IFS= read -r tested; do
  [ -n "$tested" ] || continue
  if printf '%s\n' "${alerts[@]}" | grep -qxF "$tested"; then continue; fi
  fail "tests name alert $tested, which no rule file defines"
done < <(printf '%s\n' "$coverage" | cut -f1 | sort -u)

# --- runbooks ---------------------------------------------------------------------------

for runbook in "${runbooks[@]}"; do
  base="$(basename "$runbook" .md)"
  [ "$base" = README ] && continue
  if printf '%s\n' "${alerts[@]}" | grep -qxF "$base"; then
    pass "$runbook belongs to alert $base"
  else
    fail "$runbook: no alert named $base"
  fi
done

if [ -f docs/runbooks/README.md ]; then
  missing=()
  for name in "${alerts[@]}"; do
    grep -qF "]($name.md)" docs/runbooks/README.md || missing+=("$name")
  done
  if ((${#missing[@]} == 0)); then
    pass "docs/runbooks/README.md links every alert's runbook"
  else
    fail "docs/runbooks/README.md does not link: ${missing[*]}"
  fi
else
  fail "docs/runbooks/README.md is missing"
fi

echo
if ((failures == 0)); then
  echo "PASS: monitoring rules ($checks checks)"
  exit 0
fi
echo "FAIL: monitoring rules ($failures of $checks checks failed)"
exit 1
