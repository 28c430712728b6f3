#include "config/printer.h"

#include <variant>
#include <vector>

#include "config/duration.h"
#include "config/http_status.h"
#include "config/listen_address.h"
#include "config/number_text.h"
#include "config/postgres_dsn.h"
#include "config/schema_names.h"
#include "config/tls_schema.h"
#include "config/yaml_writer.h"

namespace covet::config {
namespace detail {
namespace {

void write_disk(const DiskProbeConfig& disk, YamlWriter& out) {
  out.string("path", disk.path);
  out.plain("warn_free_percent", format_number(disk.warn_free_percent));
  out.plain("fail_free_percent", format_number(disk.fail_free_percent));
  out.plain("warn_free_inodes_percent", format_number(disk.warn_free_inodes_percent));
  out.plain("fail_free_inodes_percent", format_number(disk.fail_free_inodes_percent));
  out.plain("write_check", disk.write_check ? "true" : "false");
}

void write_memory(const MemoryProbeConfig& memory, YamlWriter& out) {
  out.plain("warn_percent", format_number(memory.warn_percent));
  out.plain("fail_percent", format_number(memory.fail_percent));
  out.string("cgroup_root", memory.cgroup_root);
  out.string("proc_root", memory.proc_root);
}

void write_postgres(const PostgresProbeConfig& postgres, YamlWriter& out) {
  // A password written inside the DSN is removed, not replaced by a marker: what is printed
  // still parses as a DSN, and password_file is the place for the secret.
  out.string("dsn", redact_dsn(postgres.dsn));
  // Absent means none; an empty path would not load back.
  if (!postgres.password_file.empty()) out.string("password_file", postgres.password_file);
  out.string("query", postgres.query);
  out.plain("require_primary", postgres.require_primary ? "true" : "false");
  out.plain("stats_interval", format_duration(postgres.stats_interval));
  out.plain("reconnect_backoff", format_duration(postgres.reconnect_backoff));
  out.plain("reconnect_backoff_max", format_duration(postgres.reconnect_backoff_max));
}

void write_http(const HttpProbeConfig& http, YamlWriter& out) {
  out.string("url", http.url);
  out.plain("method", http.method);
  std::vector<std::string> ranges;
  for (const StatusRange& range : http.expected_status) {
    ranges.push_back(format_status_range(range));
  }
  out.flow_list("expected_status", std::vector<std::string_view>(ranges.begin(), ranges.end()));
  out.string("body_contains", http.body_contains);
  if (http.headers.empty()) {
    out.plain("headers", "{}");
  } else {
    out.begin_mapping("headers");
    // Values can carry credentials ("Authorization: Bearer ..."): never printed.
    for (const auto& header : http.headers) out.secret(header.first);
    out.end_mapping();
  }
  out.plain("tls_verify", http.tls_verify ? "true" : "false");
}

void write_tcp(const TcpProbeConfig& tcp, YamlWriter& out) { out.string("address", tcp.address); }

void write_redis(const RedisProbeConfig& redis, YamlWriter& out) {
  // Only the one way to reach the server that is set: the others would not load back.
  if (!redis.address.empty()) out.string("address", redis.address);
  if (!redis.unix_socket.empty()) out.string("unix_socket", redis.unix_socket);
  if (!redis.sentinels.empty()) {
    // Items quoted as string() quotes a value ("[::1]:26379" is not a plain flow scalar).
    std::vector<std::string> items;
    for (const std::string& sentinel : redis.sentinels) {
      std::string escaped;
      for (char c : sentinel) escaped += c == '$' ? std::string("$$") : std::string(1, c);
      items.push_back(yaml_scalar(escaped));
    }
    out.flow_list("sentinels", std::vector<std::string_view>(items.begin(), items.end()));
    out.string("master_name", redis.master_name);
  }
  if (!redis.username.empty()) out.string("username", redis.username);
  // The file's path, never its contents.
  if (!redis.password_file.empty()) out.string("password_file", redis.password_file);
  out.plain("db", std::to_string(redis.db));
  out.plain("require_master", redis.require_master ? "true" : "false");
  out.plain("stats_interval", format_duration(redis.stats_interval));
  out.plain("reconnect_backoff", format_duration(redis.reconnect_backoff));
  out.plain("reconnect_backoff_max", format_duration(redis.reconnect_backoff_max));
}

void write_process(const ProcessProbeConfig& process, YamlWriter& out) {
  // Only the selector in use: an empty one would not load back (exactly one is allowed).
  if (!process.pid_file.empty()) out.string("pid_file", process.pid_file);
  if (!process.cmdline.empty()) out.string("cmdline", process.cmdline);
  if (!process.cgroup.empty()) out.string("cgroup", process.cgroup);
  out.plain("fd_warn_percent", format_number(process.fd_warn_percent));
  out.plain("fd_fail_percent", format_number(process.fd_fail_percent));
  out.string("proc_root", process.proc_root);
}

void write_probe(const ProbeConfig& probe, YamlWriter& out) {
  out.begin_item();
  out.string("name", probe.name);
  out.string("type", probe.type);
  out.plain("interval", format_duration(probe.interval));
  out.plain("timeout", format_duration(probe.timeout));
  out.plain("failure_threshold", std::to_string(probe.failure_threshold));
  out.plain("success_threshold", std::to_string(probe.success_threshold));
  std::vector<std::string_view> roles;
  for (const Choice<Role>& role : kRoles) {
    if ((probe.roles & role.value) != 0) roles.push_back(role.name);
  }
  out.flow_list("roles", roles);
  // Secret settings of future probe types (password_file's contents, a DSN's password)
  // go through out.secret(), never out.string().
  std::visit(
      [&](const auto& settings) {
        using Settings = std::decay_t<decltype(settings)>;
        if constexpr (std::is_same_v<Settings, DiskProbeConfig>) {
          write_disk(settings, out);
        } else if constexpr (std::is_same_v<Settings, HttpProbeConfig>) {
          write_http(settings, out);
        } else if constexpr (std::is_same_v<Settings, TcpProbeConfig>) {
          write_tcp(settings, out);
        } else if constexpr (std::is_same_v<Settings, PostgresProbeConfig>) {
          write_postgres(settings, out);
        } else if constexpr (std::is_same_v<Settings, RedisProbeConfig>) {
          write_redis(settings, out);
        } else if constexpr (std::is_same_v<Settings, ProcessProbeConfig>) {
          write_process(settings, out);
        } else if constexpr (std::is_same_v<Settings, TlsProbeConfig>) {
          write_tls(settings, out);
        } else {
          static_assert(std::is_same_v<Settings, MemoryProbeConfig>, "a probe type is not printed");
          write_memory(settings, out);
        }
      },
      probe.settings);
  out.end_item();
}

void write_rule(const ScrapeRule& rule, YamlWriter& out) {
  out.begin_item();
  out.plain("action", name_of<ScrapeRuleAction>(kScrapeRuleActions, rule.action));
  // Only the keys the rule uses: an empty one would not load back.
  if (!rule.metric.empty()) out.string("metric", rule.metric);
  if (!rule.label.empty()) out.string("label", rule.label);
  // With a label, an empty regex is meaningful (it matches a missing label).
  if (rule.action != ScrapeRuleAction::rename_label && !rule.label.empty()) {
    out.string("regex", rule.regex);
  }
  if (rule.action == ScrapeRuleAction::rename_label) out.string("to", rule.to);
  out.end_item();
}

void write_scrape_target(const ScrapeTargetConfig& target, YamlWriter& out) {
  out.begin_item();
  out.string("name", target.name);
  out.string("url", target.url);
  out.plain("timeout", format_duration(target.timeout));
  out.plain("min_interval", format_duration(target.min_interval));
  if (target.labels.empty()) {
    out.plain("labels", "{}");
  } else {
    out.begin_mapping("labels");
    // Label names are [a-zA-Z_][a-zA-Z0-9_]*, plain YAML keys except "null" and friends.
    for (const auto& [name, value] : target.labels) out.string(yaml_scalar(name), value);
    out.end_mapping();
  }
  // Credentials: the files' paths, never their contents (which are not kept here anyway).
  if (!target.bearer_token_file.empty()) {
    out.string("bearer_token_file", target.bearer_token_file);
  }
  if (!target.basic_auth_password_file.empty()) {
    out.begin_mapping("basic_auth");
    out.string("username", target.basic_auth_username);
    out.string("password_file", target.basic_auth_password_file);
    out.end_mapping();
  }
  // Only towards https: a tls block with an http:// URL does not load back.
  if (target.url.starts_with("https://")) {
    const ScrapeTlsConfig& tls = target.tls;
    out.begin_mapping("tls");
    // Absent means the system store, or no client certificate; an empty path would not
    // load back.
    if (!tls.ca_file.empty()) out.string("ca_file", tls.ca_file);
    if (!tls.cert_file.empty()) out.string("cert_file", tls.cert_file);
    if (!tls.key_file.empty()) out.string("key_file", tls.key_file);
    if (!tls.server_name.empty()) out.string("server_name", tls.server_name);
    out.plain("insecure_skip_verify", tls.insecure_skip_verify ? "true" : "false");
    out.end_mapping();
  }
  out.plain("max_series", std::to_string(target.max_series));
  out.plain("max_body_bytes", format_size(target.max_body_bytes));
  if (target.rules.empty()) {
    out.flow_list("rules", {});
  } else {
    out.begin_list("rules");
    for (const ScrapeRule& rule : target.rules) write_rule(rule, out);
    out.end_list();
  }
  out.end_item();
}

void write_receiver(std::string_view key, const OtlpReceiverConfig& receiver, YamlWriter& out) {
  out.begin_mapping(key);
  out.plain("enabled", receiver.enabled ? "true" : "false");
  out.string("listen", format_listen_address(receiver.listen));
  out.plain("max_body_bytes", format_size(receiver.max_body_bytes));
  out.end_mapping();
}

void write_string_map(std::string_view key,
                      const std::vector<std::pair<std::string, std::string>>& entries,
                      YamlWriter& out) {
  if (entries.empty()) {
    out.plain(key, "{}");
    return;
  }
  out.begin_mapping(key);
  for (const auto& [name, value] : entries) out.string(yaml_scalar(name), value);
  out.end_mapping();
}

void write_exporter(const OtlpExporterConfig& exporter, YamlWriter& out) {
  out.begin_item();
  out.string("name", exporter.name);
  out.string("endpoint", exporter.endpoint);
  out.plain("timeout", format_duration(exporter.timeout));
  out.plain("compression", exporter.gzip ? "gzip" : "none");
  write_string_map("headers", exporter.headers, out);
  // The files' paths, never their contents.
  write_string_map("header_files", exporter.header_files, out);
  if (exporter.endpoint.starts_with("https://")) {
    const ScrapeTlsConfig& tls = exporter.tls;
    out.begin_mapping("tls");
    if (!tls.ca_file.empty()) out.string("ca_file", tls.ca_file);
    if (!tls.cert_file.empty()) out.string("cert_file", tls.cert_file);
    if (!tls.key_file.empty()) out.string("key_file", tls.key_file);
    if (!tls.server_name.empty()) out.string("server_name", tls.server_name);
    out.plain("insecure_skip_verify", tls.insecure_skip_verify ? "true" : "false");
    out.end_mapping();
  }
  out.begin_mapping("batch");
  out.plain("max_spans", std::to_string(exporter.max_batch_spans));
  out.plain("max_bytes", format_size(exporter.max_batch_bytes));
  out.plain("timeout", format_duration(exporter.batch_timeout));
  out.end_mapping();
  out.plain("max_concurrent_exports", std::to_string(exporter.max_concurrent_exports));
  out.begin_mapping("retry");
  out.plain("initial_backoff", format_duration(exporter.initial_backoff));
  out.plain("max_backoff", format_duration(exporter.max_backoff));
  out.end_mapping();
  out.begin_mapping("queue");
  out.plain("max_bytes", format_size(exporter.queue_max_bytes));
  out.plain("on_full", exporter.on_full == OnFull::backpressure  ? "backpressure"
                       : exporter.on_full == OnFull::drop_oldest ? "drop_oldest"
                                                                 : "drop_newest");
  out.end_mapping();
  if (!exporter.spool.dir.empty()) {
    out.begin_mapping("spool");
    out.string("dir", exporter.spool.dir);
    out.plain("max_bytes", format_size(exporter.spool.max_bytes));
    out.plain("fsync", exporter.spool.fsync == SpoolFsync::always     ? "always"
                       : exporter.spool.fsync == SpoolFsync::interval ? "interval"
                                                                      : "never");
    out.plain("fsync_interval", format_duration(exporter.spool.fsync_interval));
    out.end_mapping();
  }
  out.end_item();
}

void write_otlp(const OtlpConfig& otlp, YamlWriter& out) {
  out.begin_mapping("otlp");
  write_receiver("http", otlp.http, out);
  write_receiver("grpc", otlp.grpc, out);
  write_string_map("resource", otlp.resource, out);
  out.begin_list("exporters");
  for (const OtlpExporterConfig& exporter : otlp.exporters) write_exporter(exporter, out);
  out.end_list();
  out.begin_mapping("check");
  std::vector<std::string_view> roles;
  for (const Choice<Role>& role : kRoles) {
    if ((otlp.check_roles & role.value) != 0) roles.push_back(role.name);
  }
  out.flow_list("roles", roles);
  out.end_mapping();
  out.end_mapping();
}

}  // namespace
}  // namespace detail

std::string print_effective_config(const Config& config) {
  detail::YamlWriter out;
  out.comment("covet-sidecar effective configuration: every setting, defaults included");
  out.string("listen", format_listen_address(config.listen));

  out.begin_mapping("log");
  out.plain("format", detail::name_of<LogFormat>(detail::kLogFormats, config.log.format));
  out.plain("level", detail::name_of<LogLevel>(detail::kLogLevels, config.log.level));
  out.end_mapping();

  out.begin_mapping("shutdown");
  out.plain("drain_delay", format_duration(config.shutdown.drain_delay));
  out.plain("grace_period", format_duration(config.shutdown.grace_period));
  out.end_mapping();

  out.begin_mapping("server");
  out.plain("max_connections", std::to_string(config.server.max_connections));
  out.plain("idle_timeout", format_duration(config.server.idle_timeout));
  out.plain("request_timeout", format_duration(config.server.request_timeout));
  out.end_mapping();

  if (config.probes.empty()) {
    out.flow_list("probes", {});
  } else {
    out.begin_list("probes");
    for (const ProbeConfig& probe : config.probes) detail::write_probe(probe, out);
    out.end_list();
  }

  if (config.scrape.empty()) {
    out.flow_list("scrape", {});
  } else {
    out.begin_list("scrape");
    for (const ScrapeTargetConfig& target : config.scrape) detail::write_scrape_target(target, out);
    out.end_list();
  }
  // Absent means no OTLP at all; printing the defaults would turn the receivers on.
  if (config.otlp.enabled) detail::write_otlp(config.otlp, out);
  return out.text();
}

}  // namespace covet::config
