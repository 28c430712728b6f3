#pragma once
// The effective configuration: what config/loader.cpp produces from YAML, with every
// default filled in. Names mirror the YAML keys in DESIGN.md ("The config file's shape").

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace covet::config {

using Duration = std::chrono::milliseconds;

struct ListenAddress {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8099;

  bool operator==(const ListenAddress&) const = default;
};

enum class LogFormat { automatic, json, text };  // automatic: text on a TTY, json otherwise
enum class LogLevel { trace, debug, info, warn, error };

struct LogConfig {
  LogFormat format = LogFormat::automatic;
  LogLevel level = LogLevel::info;

  bool operator==(const LogConfig&) const = default;
};

struct ShutdownConfig {
  // After SIGTERM: /health/ready answers 503 at once; the listener keeps serving for
  // drain_delay (so the endpoints controller can remove the pod), then stops accepting.
  Duration drain_delay{5000};
  // Hard limit from SIGTERM to exit: in-flight requests still open by then are cut.
  Duration grace_period{25000};

  bool operator==(const ShutdownConfig&) const = default;
};

struct ServerConfig {
  std::uint32_t max_connections = 1024;
  Duration idle_timeout{60000};     // keep-alive connection with no request in progress
  Duration request_timeout{10000};  // first byte of a request to its last (slowloris)

  bool operator==(const ServerConfig&) const = default;
};

// Bit flags: a probe may feed several endpoints.
enum Role : unsigned { kReadiness = 1u << 0, kStartup = 1u << 1, kLiveness = 1u << 2 };
inline constexpr unsigned kDefaultRoles = kReadiness | kStartup;

struct DiskProbeConfig {
  std::string path = "/";
  double warn_free_percent = 15;
  double fail_free_percent = 5;
  double warn_free_inodes_percent = 10;
  double fail_free_inodes_percent = 2;
  bool write_check = false;  // create, fsync and delete a small file under `path`

  bool operator==(const DiskProbeConfig&) const = default;
};

struct MemoryProbeConfig {
  double warn_percent = 85;
  double fail_percent = 95;
  std::string cgroup_root = "/sys/fs/cgroup";  // injectable for tests and unusual mounts
  std::string proc_root = "/proc";

  bool operator==(const MemoryProbeConfig&) const = default;
};

// The password is read from `password_file` at each connect (so a rotated Secret is picked
// up) and is not kept here; a password written inside `dsn` is accepted, and the DSN is
// only ever printed through redact_dsn (config/postgres_dsn.h).
struct PostgresProbeConfig {
  std::string dsn;            // libpq URI or key=value string; sslmode and friends go here
  std::string password_file;  // empty: none (or the DSN's own password)
  std::string query = "SELECT 1";
  bool require_primary = false;  // fail with in_recovery on a standby
  // How often the database metrics (pg_stat_database, ...) are read; 0: never. They are
  // read during a check, never per scrape.
  Duration stats_interval{30000};
  // After a failed connect or a broken connection, the next connect waits this long,
  // doubling up to the max; a passing check resets it.
  Duration reconnect_backoff{1000};
  Duration reconnect_backoff_max{30000};

  bool operator==(const PostgresProbeConfig&) const = default;
};

// One accepted HTTP status or range of them: "200", "200-399".
struct StatusRange {
  int low = 200;
  int high = 399;

  bool operator==(const StatusRange&) const = default;
};

struct HttpProbeConfig {
  std::string url;             // http:// or https://
  std::string method = "GET";  // GET, HEAD or POST
  std::vector<StatusRange> expected_status{StatusRange{200, 399}};
  std::string body_contains;  // empty: the body is not checked
  // In file order. Values are never printed: they may carry credentials.
  std::vector<std::pair<std::string, std::string>> headers;
  bool tls_verify = true;

  bool operator==(const HttpProbeConfig&) const = default;
};

struct TcpProbeConfig {
  std::string address;  // host:port; an IP literal ("[::1]:80") or a name resolved per check

  bool operator==(const TcpProbeConfig&) const = default;
};

// Exactly one of address, unix_socket or sentinels (+ master_name) is set. The password is
// read from `password_file` at each connect and not kept here.
struct RedisProbeConfig {
  std::string address;      // host:port; an IP literal (hiredis resolves names blocking)
  std::string unix_socket;  // absolute path
  std::string username;     // ACL user (Redis 6+); empty: AUTH with the password only
  std::string password_file;
  std::int64_t db = 0;                 // SELECTed on each new connection when not 0
  bool require_master = false;         // fail with not_master on a replica
  std::vector<std::string> sentinels;  // host:port of each sentinel, asked in turn
  std::string master_name;             // the master's name in the sentinels' config
  Duration stats_interval{30000};      // INFO metrics at most this often; 0: never
  Duration reconnect_backoff{1000};    // as for postgres
  Duration reconnect_backoff_max{30000};

  bool operator==(const RedisProbeConfig&) const = default;
};

// Selects the app's process by exactly one of pid_file, cmdline or cgroup (the loader
// rejects none or several); the others stay empty.
struct ProcessProbeConfig {
  std::string pid_file;         // absolute path of a file holding the PID
  std::string cmdline;          // ECMAScript regex searched in the command line (NULs as spaces)
  std::string cgroup;           // "/system.slice/app.service": processes in it or in cgroups below
  double fd_warn_percent = 80;  // open fds against the soft RLIMIT_NOFILE
  double fd_fail_percent = 95;
  std::string proc_root = "/proc";  // injectable for tests

  bool operator==(const ProcessProbeConfig&) const = default;
};

// How the connection turns into TLS before the handshake.
enum class StartTls { none, postgres };  // postgres: the SSLRequest message first

// A TLS handshake to report the certificate's dates; the chain and name are verified
// after the handshake, so an expired or untrusted certificate is still described.
struct TlsProbeConfig {
  std::string address;      // host:port
  std::string server_name;  // SNI and the name checked; the loader fills in the host part
  std::string ca_file;      // absolute path; empty: the system store
  StartTls starttls = StartTls::none;
  double warn_days = 14;  // warning when the earliest certificate expires within this
  double fail_days = 3;   // failing within this

  bool operator==(const TlsProbeConfig&) const = default;
};

struct ProbeConfig {
  std::string name;
  std::string type;  // "disk", "memory"; the variant below holds the type's own keys
  Duration interval{10000};
  Duration timeout{2000};
  std::uint32_t failure_threshold = 3;
  std::uint32_t success_threshold = 1;
  unsigned roles = kDefaultRoles;
  std::variant<DiskProbeConfig, MemoryProbeConfig, PostgresProbeConfig, HttpProbeConfig,
               TcpProbeConfig, RedisProbeConfig, ProcessProbeConfig, TlsProbeConfig>
      settings;

  bool operator==(const ProbeConfig&) const = default;
};

// One rule of a scrape target's `rules:`, applied in order to the app's page. Rules act on
// whole families for `metric` alone (a family matches when the regex matches its name or the
// name of one of its samples, so `http_requests_total` names an OpenMetrics counter too) and
// on series when `label` is set. Regexes are anchored at both ends, as in Prometheus.
enum class ScrapeRuleAction {
  keep,          // drop every family (or series) the rule does not match
  drop,          // drop every family (or series) the rule matches
  rename_label,  // rename label `label` to `to` (on the families `metric` matches, or all)
};

struct ScrapeRule {
  ScrapeRuleAction action = ScrapeRuleAction::drop;
  std::string metric;  // ECMAScript regex on family/sample names; empty: every family
  std::string label;   // keep/drop: the label whose value `regex` is matched against
  std::string regex;   // keep/drop with `label`: regex on its value (a missing label is "")
  std::string to;      // rename_label: the new label name

  bool operator==(const ScrapeRule&) const = default;
};

// TLS towards an https:// target. Files are absolute paths; empty: not used.
struct ScrapeTlsConfig {
  std::string ca_file;    // empty: the system store
  std::string cert_file;  // client certificate (with key_file)
  std::string key_file;
  std::string server_name;  // checked instead of the URL's host
  bool insecure_skip_verify = false;

  bool operator==(const ScrapeTlsConfig&) const = default;
};

// One app metrics page the sidecar fetches when /metrics is read and re-exports.
// Credentials are read from their files at each fetch (a rotated Secret is picked up) and
// are never kept here or printed.
struct ScrapeTargetConfig {
  std::string name;  // the `target` label of covet_sidecar_scrape_*; unique
  std::string url;   // http:// or https://
  // Below Prometheus' default 10 s scrape timeout, so our /metrics answers in time.
  Duration timeout{5000};
  Duration min_interval{1000};  // a fetch younger than this is served again
  // Added to every re-exported series, in file order; an app label of the same name is
  // kept as exported_NAME.
  std::vector<std::pair<std::string, std::string>> labels;
  std::string bearer_token_file;
  std::string basic_auth_username;  // basic_auth: { username, password_file }
  std::string basic_auth_password_file;
  ScrapeTlsConfig tls;
  std::uint32_t max_series = 50000;            // samples kept per fetch; the rest dropped
  std::uint64_t max_body_bytes = 64ull << 20;  // decompressed page size; more fails the fetch
  std::vector<ScrapeRule> rules;

  bool operator==(const ScrapeTargetConfig&) const = default;
};

// OTLP traces: the receivers the app's SDK sends to, the resource attributes added to what
// it sends, and where spans are forwarded. Present in the file means enabled.
enum class OnFull {
  backpressure,  // refuse new requests with 503 / UNAVAILABLE: the SDK retries, nothing lost
  drop_oldest,   // make room by dropping the oldest queued spans (counted)
  drop_newest,   // accept, drop the new request's spans (counted, partial success)
};
enum class SpoolFsync { always, interval, never };

struct OtlpReceiverConfig {
  bool enabled = true;
  ListenAddress listen;
  std::uint64_t max_body_bytes = 20ull << 20;  // after decompression
  bool operator==(const OtlpReceiverConfig&) const = default;
};

struct OtlpSpoolConfig {
  std::string dir;  // empty: no spool
  std::uint64_t max_bytes = 1ull << 30;
  SpoolFsync fsync = SpoolFsync::always;
  Duration fsync_interval{1000};
  bool operator==(const OtlpSpoolConfig&) const = default;
};

struct OtlpExporterConfig {
  std::string name;      // the `destination` label
  std::string endpoint;  // OTLP/HTTP URL, e.g. http://jaeger:4318/v1/traces
  Duration timeout{10000};
  bool gzip = true;
  // Sent with every export; a value from `header_files` is read at each export (a rotated
  // token is picked up) and never printed.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> header_files;
  ScrapeTlsConfig tls;
  std::uint32_t max_batch_spans = 8192;
  std::uint64_t max_batch_bytes = 4ull << 20;
  Duration batch_timeout{200};  // a batch waits at most this long to fill up
  std::uint32_t max_concurrent_exports = 4;
  Duration initial_backoff{1000};
  Duration max_backoff{30000};
  std::uint64_t queue_max_bytes = 64ull << 20;
  OnFull on_full = OnFull::backpressure;
  OtlpSpoolConfig spool;
  bool operator==(const OtlpExporterConfig&) const = default;
};

struct OtlpConfig {
  bool enabled = false;  // the `otlp:` section is present
  OtlpReceiverConfig http{true, ListenAddress{"0.0.0.0", 4318}, 20ull << 20};
  OtlpReceiverConfig grpc{true, ListenAddress{"0.0.0.0", 4317}, 20ull << 20};
  // Added to each resource that does not set them; empty values are not added.
  std::vector<std::pair<std::string, std::string>> resource;
  std::vector<OtlpExporterConfig> exporters;
  unsigned check_roles = 0;  // the `traces` check in /health: report-only by default
  bool operator==(const OtlpConfig&) const = default;
};

struct Config {
  ListenAddress listen;
  LogConfig log;
  ShutdownConfig shutdown;
  ServerConfig server;
  std::vector<ProbeConfig> probes;
  std::vector<ScrapeTargetConfig> scrape;
  OtlpConfig otlp;

  bool operator==(const Config&) const = default;
};

// What runs when no config file is given and the default path does not exist.
Config default_config();

}  // namespace covet::config
