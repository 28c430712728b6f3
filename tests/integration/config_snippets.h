#pragma once
// Configs the integration tests start the real binary with. {PORT} and {DIR} are filled in
// by SidecarProcess.

namespace covet::testing {

// A disk probe on the test's own temp dir and the machine's memory probe, both able to pass
// on any test machine (thresholds at 0: the probe runs for real, only the verdict is fixed).
inline constexpr const char* kPassingConfig = R"(
listen: 127.0.0.1:{PORT}
log: { format: json, level: debug }
shutdown: { drain_delay: 500ms, grace_period: 5s }
server: { max_connections: 64, idle_timeout: 5s, request_timeout: 2s }
probes:
  - name: data
    type: disk
    path: {DIR}
    interval: 300ms
    timeout: 300ms
    warn_free_percent: 0
    fail_free_percent: 0
    warn_free_inodes_percent: 0
    fail_free_inodes_percent: 0
    write_check: true
  - name: memory
    type: memory
    interval: 300ms
    timeout: 300ms
    warn_percent: 100
    fail_percent: 100
    roles: []
)";

}  // namespace covet::testing
