#!/usr/bin/env bash
# The docker-compose stack and the Dockerfiles, checked without a Docker engine:
#   - docker-compose.yml validates (`docker-compose config -q`, docker-compose 1.29);
#   - every host path it mounts or builds from (bind mounts, secrets and configs files,
#     build contexts and Dockerfiles, env_file) exists in the repository;
#   - the sidecar config it mounts passes `covet-sidecar --check-config`, every
#     /run/secrets/NAME it reads is a secret the sidecar service mounts, and the spool
#     directory is writable on a read-only root filesystem;
#   - the Prometheus config it mounts passes `promtool check config`, rules included;
#   - every service has a healthcheck, every depends_on waits for service_healthy, no
#     environment variable holds a secret (only *_FILE paths), and no secret file's value
#     appears anywhere in the resolved compose file;
#   - the Dockerfiles have a HEALTHCHECK and a non-root USER; the sidecar's exposes 8099,
#     4317 and 4318 and its build stage runs scripts/install-deps.sh and scripts/build.sh.
#
#   COVET_BINARY=build/covet-sidecar bash tests/deploy/compose_test.sh
#
# Needs docker-compose (1.29, Debian's), python3 with PyYAML (docker-compose depends on it)
# and promtool (Debian's prometheus). hadolint, when installed, lints both Dockerfiles too.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
binary="${COVET_BINARY:-$root/build/covet-sidecar}"
passed=0
failed=0

pass() { echo "ok:   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
# Indented output of a failed command, under its FAIL line.
show() { sed 's/^/      /' "$@"; }

finish() {
  echo "compose: $passed passed, $failed failed"
  if [ "$failed" -eq 0 ]; then echo PASS; else echo FAIL; fi
  [ "$failed" -eq 0 ]
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The committed defaults are what is checked: a developer's own secret files, named in the
# environment, must not change the outcome.
compose() {
  env -u COVET_DB_PASSWORD_FILE -u COVET_REDIS_PASSWORD_FILE -u COVET_GRAFANA_PASSWORD_FILE \
    docker-compose --project-directory "$root" -f "$root/docker-compose.yml" "$@"
}

# --- tools ---
if ! command -v docker-compose >/dev/null; then
  fail "docker-compose is installed (Debian package docker-compose)"
  finish
  exit 1
fi
# docker-compose runs on the system python3, which has PyYAML; another python3 earlier on
# PATH may not.
python=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import yaml' >/dev/null 2>&1; then python="$candidate"; break; fi
done
if [ -z "$python" ]; then
  fail "python3 with PyYAML is installed (Debian package python3-yaml)"
  finish
  exit 1
fi

# --- the compose file validates ---
if compose config -q >"$work/config-q.log" 2>&1; then
  pass "docker-compose config -q ($(docker-compose version --short))"
else
  fail "docker-compose config -q"
  show "$work/config-q.log"
  finish
  exit 1
fi
# The resolved file: absolute host paths, defaults filled in, variables interpolated.
compose config >"$work/resolved.yml" 2>"$work/config.log" || {
  fail "docker-compose config"
  show "$work/config.log"
  finish
  exit 1
}

# --- the resolved file, checked in one pass ---
# Prints "ok<TAB>description" or "FAIL<TAB>description<TAB>detail" lines, and writes the
# host paths of the sidecar's config (sidecar-config.path) and of a copy of the Prometheus
# config whose container paths point into the repository (prometheus.yml) for the tool
# checks below.
"$python" - "$root" "$work" <<'PY' >"$work/checks.tsv"
import glob
import os
import re
import sys

import yaml

root, work = sys.argv[1], sys.argv[2]
with open(os.path.join(work, "resolved.yml")) as f:
    config = yaml.safe_load(f)
services = config.get("services") or {}


def report(ok, description, detail=""):
    print("\t".join(["ok" if ok else "FAIL", description, detail.replace("\n", " ")]))


def inside_repo(path):
    real = os.path.realpath(path)
    return real == root or real.startswith(root + os.sep)


def bind_mounts(service):
    """(host path, container path) of each bind mount, from short or long syntax."""
    mounts = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts.append((volume["source"], volume["target"]))
            continue
        parts = volume.split(":")
        if len(parts) >= 2 and parts[0].startswith(("/", ".", "~")):
            mounts.append((parts[0], parts[1]))
    return mounts


def volume_targets(service):
    targets = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            targets.append(volume.get("target", ""))
        else:
            parts = volume.split(":")
            targets.append(parts[1] if len(parts) >= 2 else parts[0])
    tmpfs = service.get("tmpfs") or []
    targets += [tmpfs] if isinstance(tmpfs, str) else [t.split(":")[0] for t in tmpfs]
    return targets


def host_path_for(service, container_path):
    """The host path a bind mount of `service` puts at container_path, if any."""
    for source, target in bind_mounts(service):
        if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
            return source + container_path[len(target):]
    return None


# Every host path the stack reads.
paths = []
for name, service in services.items():
    build = service.get("build")
    if isinstance(build, str):
        build = {"context": build}
    if build:
        context = build.get("context", ".")
        paths.append((f"{name}: build context", context, "dir"))
        dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
        paths.append((f"{name}: Dockerfile", dockerfile, "file"))
    for source, target in bind_mounts(service):
        paths.append((f"{name}: mount {target}", source, "any"))
    env_files = service.get("env_file") or []
    for env_file in [env_files] if isinstance(env_files, str) else env_files:
        paths.append((f"{name}: env_file", env_file, "file"))
for kind in ("secrets", "configs"):
    for name, entry in (config.get(kind) or {}).items():
        if entry and entry.get("file"):
            paths.append((f"{kind}.{name}", entry["file"], "file"))
missing = []
for what, path, kind in paths:
    exists = {"dir": os.path.isdir, "file": os.path.isfile, "any": os.path.exists}[kind](path)
    if not exists or not inside_repo(path):
        missing.append(f"{what}: {os.path.relpath(path, root)}")
report(not missing, f"all {len(paths)} host paths exist in the repository", "; ".join(missing))

# Secret files hold something.
empty = [n for n, e in (config.get("secrets") or {}).items()
         if e.get("file") and os.path.isfile(e["file"]) and os.path.getsize(e["file"]) == 0]
report(not empty, "no secret file is empty", ", ".join(empty))

# Healthchecks and start-up order.
no_check = [n for n, s in services.items()
            if not s.get("healthcheck") or s["healthcheck"].get("disable")
            or s["healthcheck"].get("test") in (None, ["NONE"], "NONE")]
report(not no_check, f"every service ({len(services)}) has a healthcheck", ", ".join(no_check))
unhealthy_wait = []
for name, service in services.items():
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        unhealthy_wait += [f"{name} -> {d} (no condition)" for d in depends]
        continue
    for dependency, how in depends.items():
        if (how or {}).get("condition") != "service_healthy":
            unhealthy_wait.append(f"{name} -> {dependency} ({(how or {}).get('condition')})")
report(not unhealthy_wait, "every depends_on waits for condition: service_healthy",
       "; ".join(unhealthy_wait))

# Secrets stay out of the environment and out of the file.
secret_key = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.I)
url_password = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
leaks = []
for name, service in services.items():
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) if "=" in item else (item, "")
                           for item in environment)
    for key, value in environment.items():
        if secret_key.search(key) and not re.search(r"_FILE$", key, re.I):
            leaks.append(f"{name}: {key}")
        elif value is not None and url_password.search(str(value)):
            leaks.append(f"{name}: {key} (password in a URL)")
report(not leaks, "no environment variable holds a secret (only *_FILE paths)", "; ".join(leaks))
with open(os.path.join(work, "resolved.yml")) as f:
    resolved_text = f.read()
leaked = []
for name, entry in (config.get("secrets") or {}).items():
    if entry.get("file") and os.path.isfile(entry["file"]):
        with open(entry["file"]) as f:
            value = f.read().strip()
        if value and value in resolved_text:
            leaked.append(name)
report(not leaked, "no secret's value appears in the compose file (argv, env, healthchecks)",
       ", ".join(leaked))

# The sidecar: its config, the secrets that config reads, its spool.
sidecar = services.get("sidecar")
if sidecar is None:
    report(False, "a `sidecar` service exists")
else:
    config_path = host_path_for(sidecar, "/etc/covet-sidecar/config.yaml")
    if not config_path:
        report(False, "the sidecar mounts /etc/covet-sidecar/config.yaml")
    else:
        with open(os.path.join(work, "sidecar-config.path"), "w") as f:
            f.write(config_path)
        with open(config_path) as f:
            sidecar_config = yaml.safe_load(f) or {}
        mounted = {s if isinstance(s, str) else s.get("target") or s.get("source")
                   for s in sidecar.get("secrets") or []}
        wanted = set(re.findall(r"/run/secrets/([A-Za-z0-9_.-]+)",
                                yaml.safe_dump(sidecar_config)))
        report(wanted <= mounted,
               f"the sidecar mounts every secret its config reads ({', '.join(sorted(wanted))})",
               "not mounted: " + ", ".join(sorted(wanted - mounted)))
        spools = [e.get("spool", {}).get("dir")
                  for e in (sidecar_config.get("otlp") or {}).get("exporters") or []
                  if e.get("spool")]
        writable = volume_targets(sidecar)
        unwritable = [d for d in spools
                      if not any(d == t or d.startswith(t.rstrip("/") + "/") for t in writable)]
        report(sidecar.get("read_only") is True and not unwritable,
               "the sidecar runs read-only, with a volume for its spool "
               f"({', '.join(spools) or 'none'})",
               f"read_only: {sidecar.get('read_only')}; not on a volume: {', '.join(unwritable)}")

# Prometheus: its config, with the container paths of its rule files mapped to the host.
prometheus = services.get("prometheus")
if prometheus is None:
    report(False, "a `prometheus` service exists")
else:
    command = prometheus.get("command") or []
    if isinstance(command, str):
        command = command.split()
    config_in_container = next((c.split("=", 1)[1] for c in command
                                if c.startswith("--config.file=")),
                               "/etc/prometheus/prometheus.yml")
    config_path = host_path_for(prometheus, config_in_container)
    if not config_path:
        report(False, f"prometheus mounts its config {config_in_container}")
    else:
        with open(config_path) as f:
            prometheus_config = yaml.safe_load(f) or {}
        rule_files, unmapped = [], []
        for pattern in prometheus_config.get("rule_files") or []:
            host = host_path_for(prometheus, pattern)
            if host:
                rule_files.append(host)
            else:
                unmapped.append(pattern)
        report(not unmapped, "every rule_files entry is a directory prometheus mounts",
               ", ".join(unmapped))
        matched = sum(len(glob.glob(p)) for p in rule_files)
        report(matched > 0, f"rule_files match {matched} rule files in the repository")
        prometheus_config["rule_files"] = rule_files
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            yaml.safe_dump(prometheus_config, f, sort_keys=False)
PY
while IFS=$'\t' read -r status description detail; do
  if [ "$status" = ok ]; then
    pass "$description"
  else
    fail "$description"
    [ -z "$detail" ] || echo "      $detail"
  fi
done <"$work/checks.tsv"

# --- the sidecar's config, with the real binary ---
# --check-config checks that password_file is an absolute path; it does not open it (the
# agent reads it at every connect), so the container paths /run/secrets/... need no
# rewriting here.
if [ -f "$work/sidecar-config.path" ]; then
  sidecar_config="$(cat "$work/sidecar-config.path")"
  label="covet-sidecar --check-config ${sidecar_config#"$root"/}"
  if [ ! -x "$binary" ]; then
    fail "$label: no binary at $binary (set COVET_BINARY)"
  elif "$binary" --check-config "$sidecar_config" >"$work/check-config.log" 2>&1; then
    pass "$label"
  else
    fail "$label"
    show "$work/check-config.log"
  fi
fi

# --- the Prometheus config and the rules it loads, with promtool ---
if [ -f "$work/prometheus.yml" ]; then
  label="promtool check config monitoring/prometheus/prometheus.yml (rules from the repository)"
  if ! command -v promtool >/dev/null; then
    fail "$label: promtool is not installed (Debian package prometheus)"
  elif promtool check config "$work/prometheus.yml" >"$work/promtool.log" 2>&1; then
    pass "$label"
  else
    fail "$label"
    show "$work/promtool.log"
  fi
fi

# --- the Dockerfiles ---
# Instructions one per line (continuations joined, comments dropped), each prefixed with
# the number of its stage (0 for the first FROM).
instructions() {
  "$python" - "$1" <<'PY'
import re
import sys

lines, current = [], ""
with open(sys.argv[1]) as f:
    for raw in f:
        line = raw.rstrip("\n")
        if not current and re.match(r"\s*#", line):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            lines.append(" ".join(current.split()))
        current = ""
if current.strip():
    lines.append(" ".join(current.split()))
stage = -1
for line in lines:
    if line.upper().startswith("FROM "):
        stage += 1
    print(f"{stage} {line}")
PY
}

dockerfile_checks() {  # path role: role "sidecar" adds the ports and the build-stage scripts
  local file="$1" role="$2" parsed last user
  parsed="$(instructions "$file")"
  last="$(tail -n 1 <<<"$parsed" | cut -d' ' -f1)"
  if grep -Eq "^$last HEALTHCHECK( --[a-z-]+=[^ ]+)* CMD " <<<"$parsed"; then
    pass "$file: HEALTHCHECK in the final stage"
  else
    fail "$file: HEALTHCHECK in the final stage"
  fi
  user="$(grep -E "^$last USER " <<<"$parsed" | tail -n 1 | cut -d' ' -f3 || true)"
  if [ -n "$user" ] && ! grep -Eq '^(root|0)(:|$)' <<<"$user"; then
    pass "$file: runs as a non-root USER ($user)"
  else
    fail "$file: runs as a non-root USER (${user:-none})"
  fi
  [ "$role" = sidecar ] || return 0
  local port
  for port in 8099 4317 4318; do
    if grep -E "^$last EXPOSE " <<<"$parsed" | grep -Eqw "$port(/tcp)?"; then
      pass "$file: EXPOSE $port"
    else
      fail "$file: EXPOSE $port"
    fi
  done
  local script
  for script in scripts/install-deps.sh scripts/build.sh; do
    if grep -E '^[0-9]+ RUN ' <<<"$parsed" | grep -v "^$last " | grep -q "bash $script"; then
      pass "$file: the build stage runs $script"
    else
      fail "$file: the build stage runs $script"
    fi
  done
}

dockerfile_checks Dockerfile sidecar
dockerfile_checks examples/app/Dockerfile app

if command -v hadolint >/dev/null; then
  for file in Dockerfile examples/app/Dockerfile; do
    if hadolint "$file" >"$work/hadolint.log" 2>&1; then
      pass "hadolint $file"
    else
      fail "hadolint $file"
      show "$work/hadolint.log"
    fi
  done
else
  echo "note: hadolint is not installed; the Dockerfiles are checked by the rules above only"
fi

finish
