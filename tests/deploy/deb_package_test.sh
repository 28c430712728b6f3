#!/usr/bin/env bash
# The .deb, as an administrator meets it: built by CPack from the release build, installed
# with apt on this machine, checked, then removed and purged. Also the systemd unit as
# installed: `systemd-analyze verify` prints nothing, and its hardening scores at most 2.0.
#
#   COVET_BUILD_DIR=build bash tests/deploy/deb_package_test.sh
#
# Needs root (apt, dpkg) and a machine where the package is not installed already: it
# installs and purges it. Exits 77 (skipped) when not root.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build_dir="${COVET_BUILD_DIR:-$root/build}"
unit=/lib/systemd/system/covet-sidecar.service
failures=0

pass() { echo "ok:   $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() {  # description command...
  local description="$1"
  shift
  if "$@"; then pass "$description"; else fail "$description"; fi
}

if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: installing a package needs root"
  exit 77
fi
if dpkg-query -W -f='${Status}' covet-sidecar 2>/dev/null | grep -q installed; then
  echo "FAIL: covet-sidecar is already installed here; this test installs and purges it"
  exit 1
fi

work="$(mktemp -d)"
purge() {
  if dpkg-query -W covet-sidecar >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q covet-sidecar >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap purge EXIT

# --- build ---
if ! (cd "$work" && cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work") \
     >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log"
  echo "FAIL: cpack -G DEB"
  exit 1
fi
deb="$(ls "$work"/covet-sidecar_*.deb)"
pass "cpack built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

control="$(dpkg-deb -f "$deb")"
contents="$(dpkg-deb -c "$deb")"
depends="$(dpkg-deb -f "$deb" Depends)"
echo "      Depends: $depends"
for library in libuv1 libpq5 libhiredis0.14 libcurl4 libnghttp2-14 libsystemd0 adduser; do
  check "Depends names $library" grep -q "$library" <<<"$depends"
done
for path in ./usr/bin/covet-sidecar ./lib/systemd/system/covet-sidecar.service \
            ./etc/covet-sidecar/config.yaml ./usr/share/doc/covet-sidecar/README.md \
            ./usr/share/doc/covet-sidecar/examples/config.yaml; do
  check "the package holds $path" grep -q " $path\$" <<<"$contents"
done
dpkg-deb -e "$deb" "$work/control"
check "config.yaml is a conffile" grep -qx /etc/covet-sidecar/config.yaml "$work/control/conffiles"
check "the binary is stripped" bash -c "dpkg-deb --fsys-tarfile '$deb' | tar -xO ./usr/bin/covet-sidecar >'$work/bin' && ! readelf -S '$work/bin' | grep -q debug_info"
grep -q '^Package: covet-sidecar$' <<<"$control" || fail "Package field"

# --- install ---
if DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" >"$work/install.log" 2>&1; then
  pass "apt-get install ./$(basename "$deb")"
else
  cat "$work/install.log"
  fail "apt-get install"
  exit 1
fi
check "covet-sidecar --version" /usr/bin/covet-sidecar --version
if output="$(/usr/bin/covet-sidecar --check-config /etc/covet-sidecar/config.yaml 2>&1)"; then
  pass "covet-sidecar --check-config /etc/covet-sidecar/config.yaml"
else
  echo "$output"
  fail "covet-sidecar --check-config /etc/covet-sidecar/config.yaml"
fi
check "the system user covet-sidecar exists" getent passwd covet-sidecar
check "config.yaml is root:covet-sidecar 0640" \
  test "$(stat -c '%U:%G %a' /etc/covet-sidecar/config.yaml)" = "root:covet-sidecar 640"
# As the service runs it: the user can read its config and every probe in it passes.
if output="$(runuser -u covet-sidecar -- /usr/bin/covet-sidecar probe \
               --config /etc/covet-sidecar/config.yaml 2>&1)"; then
  pass "covet-sidecar probe as user covet-sidecar"
else
  echo "$output"
  fail "covet-sidecar probe as user covet-sidecar"
fi
check "the service is enabled (multi-user.target.wants)" \
  test -L /etc/systemd/system/multi-user.target.wants/covet-sidecar.service

# --- the unit, as installed ---
verify_output="$(cd / && systemd-analyze verify "$unit" 2>&1)" && verify_rc=0 || verify_rc=$?
if [ "$verify_rc" -eq 0 ] && [ -z "$verify_output" ]; then
  pass "systemd-analyze verify $unit prints nothing"
else
  echo "$verify_output"
  fail "systemd-analyze verify $unit (exit $verify_rc)"
fi
security="$(systemd-analyze security --offline=yes "$unit" 2>&1 || true)"
score="$(grep -oE 'Overall exposure level for [^:]+: [0-9.]+' <<<"$security" | awk '{print $NF}')"
# --threshold is in tenths: 20 means an exposure of at most 2.0.
if [ -n "$score" ] && systemd-analyze security --offline=yes --threshold=20 "$unit" >/dev/null 2>&1; then
  pass "systemd-analyze security: exposure $score (at most 2.0)"
else
  grep -E '✗' <<<"$security" || true
  fail "systemd-analyze security: exposure ${score:-unknown}, above 2.0"
fi
for key in Type=notify WatchdogSec= NoNewPrivileges=yes ProtectSystem=strict \
           StateDirectory=covet-sidecar CapabilityBoundingSet= SystemCallFilter= \
           RestrictAddressFamilies= MemoryMax= User=covet-sidecar; do
  check "the unit sets $key" grep -q "^$key" "$unit"
done

# --- remove, then purge ---
if DEBIAN_FRONTEND=noninteractive apt-get remove -y -q covet-sidecar >"$work/remove.log" 2>&1; then
  pass "apt-get remove"
else
  cat "$work/remove.log"
  fail "apt-get remove"
fi
check "removed: the binary is gone" test ! -e /usr/bin/covet-sidecar
check "removed: the unit is gone" test ! -e "$unit"
check "removed: the conffile stays" test -f /etc/covet-sidecar/config.yaml
# What systemd's StateDirectory= would have made when the service ran: a spool with data.
install -d -o covet-sidecar -g covet-sidecar /var/lib/covet-sidecar/spool
echo segment >/var/lib/covet-sidecar/spool/00000000000000000001.seg
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -q covet-sidecar >"$work/purge.log" 2>&1; then
  pass "apt-get purge"
else
  cat "$work/purge.log"
  fail "apt-get purge"
fi
check "purged: dpkg knows nothing of it" bash -c "! dpkg-query -W covet-sidecar >/dev/null 2>&1"
check "purged: /etc/covet-sidecar is gone" test ! -e /etc/covet-sidecar
check "purged: /var/lib/covet-sidecar is gone" test ! -e /var/lib/covet-sidecar
# -L, not -e: with the unit gone, a leftover symlink dangles and -e would not see it.
check "purged: no enablement symlink is left" \
  test ! -L /etc/systemd/system/multi-user.target.wants/covet-sidecar.service

if [ "$failures" -eq 0 ]; then
  echo "PASS: deb package"
else
  echo "FAIL: deb package ($failures checks failed)"
  exit 1
fi
