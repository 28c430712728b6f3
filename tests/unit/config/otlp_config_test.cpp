// The `otlp:` section: defaults, every key, errors with positions, the resource from the
// environment, printing and reloading.

#include <gtest/gtest.h>

#include <map>

#include "config/loader.h"
#include "config/printer.h"

namespace covet::config {
namespace {

using std::chrono::milliseconds;
using Lines = std::vector<std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;

EnvLookup env_of(std::map<std::string, std::string, std::less<>> values = {}) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

Config loaded(std::string_view yaml, const EnvLookup& env = env_of()) {
  const LoadResult result = load_config_text(yaml, env);
  for (const ConfigError& error : result.errors) ADD_FAILURE() << error.to_string("config.yaml");
  EXPECT_TRUE(result.config.has_value()) << yaml;
  return result.config.value_or(Config{});
}

Lines errors_of(std::string_view yaml, const EnvLookup& env = env_of()) {
  const LoadResult result = load_config_text(yaml, env);
  EXPECT_FALSE(result.config.has_value()) << "config loaded despite errors";
  Lines lines;
  for (const ConfigError& error : result.errors) lines.push_back(error.to_string("config.yaml"));
  return lines;
}

constexpr std::string_view kJaeger =
    "otlp:\n  exporters:\n    - { name: jaeger, endpoint: "
    "\"http://jaeger:4318/v1/traces\"";

Lines exporter_errors(std::string_view keys) {
  return errors_of(std::string(kJaeger) + ", " + std::string(keys) + " }\n");
}

TEST(OtlpConfig, OffUnlessTheSectionIsThere) {
  EXPECT_FALSE(default_config().otlp.enabled);
  EXPECT_FALSE(loaded("log: { level: info }\n").otlp.enabled);
}

TEST(OtlpConfig, DefaultsAreTheSdkPortsAndABackpressuredQueue) {
  const Config config = loaded(std::string(kJaeger) + " }\n");
  const OtlpConfig& otlp = config.otlp;
  ASSERT_TRUE(otlp.enabled);
  EXPECT_TRUE(otlp.http.enabled);
  EXPECT_EQ(otlp.http.listen, (ListenAddress{"0.0.0.0", 4318}));
  EXPECT_EQ(otlp.grpc.listen, (ListenAddress{"0.0.0.0", 4317}));
  EXPECT_EQ(otlp.http.max_body_bytes, 20u << 20);
  EXPECT_EQ(otlp.check_roles, 0u);  // report-only
  ASSERT_EQ(otlp.exporters.size(), 1u);
  const OtlpExporterConfig& jaeger = otlp.exporters[0];
  EXPECT_EQ(jaeger.name, "jaeger");
  EXPECT_EQ(jaeger.endpoint, "http://jaeger:4318/v1/traces");
  EXPECT_EQ(jaeger.queue_max_bytes, 64u << 20);
  EXPECT_EQ(jaeger.on_full, OnFull::backpressure);
  EXPECT_TRUE(jaeger.gzip);
  EXPECT_TRUE(jaeger.spool.dir.empty());
}

TEST(OtlpConfig, ResourceDefaultsComeFromTheDownwardApiVariables) {
  const Config with_env = loaded(std::string(kJaeger) + " }\n",
                                 env_of({{"POD_NAME", "web-1"}, {"POD_NAMESPACE", "shop"}}));
  EXPECT_EQ(
      with_env.otlp.resource,
      (Pairs{{"k8s.pod.name", "web-1"}, {"k8s.namespace.name", "shop"}, {"k8s.node.name", ""}}));
  const Config listed = loaded(
      "otlp:\n  resource: { service.instance.id: \"${POD_UID:-x}\", team: payments }\n"
      "  exporters: [{ name: j, endpoint: \"http://j:4318/v1/traces\" }]\n",
      env_of({{"POD_UID", "u-1"}}));
  EXPECT_EQ(listed.otlp.resource, (Pairs{{"service.instance.id", "u-1"}, {"team", "payments"}}));
}

TEST(OtlpConfig, EveryKeyIsRead) {
  const Config config = loaded(
      "otlp:\n"
      "  http: { listen: 127.0.0.1:14318, max_body_bytes: 4MiB }\n"
      "  grpc: { enabled: false }\n"
      "  check: { roles: [readiness] }\n"
      "  exporters:\n"
      "    - name: jaeger\n"
      "      endpoint: https://jaeger:4318/v1/traces\n"
      "      timeout: 3s\n"
      "      compression: none\n"
      "      headers: { X-Tenant: shop }\n"
      "      header_files: { Authorization: /run/secrets/token }\n"
      "      tls: { ca_file: /etc/ca.pem, server_name: jaeger.internal }\n"
      "      batch: { max_spans: 100, max_bytes: 1MiB, timeout: 50ms }\n"
      "      max_concurrent_exports: 2\n"
      "      retry: { initial_backoff: 100ms, max_backoff: 5s }\n"
      "      queue: { max_bytes: 8MiB, on_full: drop_oldest }\n"
      "      spool: { dir: /var/lib/covet/spool, max_bytes: 256MiB, fsync: interval, "
      "fsync_interval: 2s }\n");
  const OtlpConfig& otlp = config.otlp;
  EXPECT_EQ(otlp.http.listen, (ListenAddress{"127.0.0.1", 14318}));
  EXPECT_EQ(otlp.http.max_body_bytes, 4u << 20);
  EXPECT_FALSE(otlp.grpc.enabled);
  EXPECT_EQ(otlp.check_roles, static_cast<unsigned>(kReadiness));
  const OtlpExporterConfig& e = otlp.exporters.at(0);
  EXPECT_EQ(e.timeout, milliseconds(3000));
  EXPECT_FALSE(e.gzip);
  EXPECT_EQ(e.headers, (Pairs{{"X-Tenant", "shop"}}));
  EXPECT_EQ(e.header_files, (Pairs{{"Authorization", "/run/secrets/token"}}));
  EXPECT_EQ(e.tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(e.tls.server_name, "jaeger.internal");
  EXPECT_EQ(e.max_batch_spans, 100u);
  EXPECT_EQ(e.max_batch_bytes, 1u << 20);
  EXPECT_EQ(e.batch_timeout, milliseconds(50));
  EXPECT_EQ(e.max_concurrent_exports, 2u);
  EXPECT_EQ(e.initial_backoff, milliseconds(100));
  EXPECT_EQ(e.max_backoff, milliseconds(5000));
  EXPECT_EQ(e.queue_max_bytes, 8u << 20);
  EXPECT_EQ(e.on_full, OnFull::drop_oldest);
  EXPECT_EQ(e.spool.dir, "/var/lib/covet/spool");
  EXPECT_EQ(e.spool.max_bytes, 256u << 20);
  EXPECT_EQ(e.spool.fsync, SpoolFsync::interval);
  EXPECT_EQ(e.spool.fsync_interval, milliseconds(2000));

  // Printed and loaded again, it is the same configuration.
  const std::string printed = print_effective_config(config);
  EXPECT_EQ(loaded(printed), config) << printed;
  // The header file's path is printed, as any path; what it holds is never read here.
  EXPECT_NE(printed.find("Authorization: /run/secrets/token"), std::string::npos) << printed;
}

TEST(OtlpConfig, ASpoolDirectoryGetsAReportOnlyDiskProbe) {
  const Config config =
      loaded("probes: []\n" + std::string(kJaeger) + ", spool: { dir: /var/lib/covet/spool } }\n");
  ASSERT_EQ(config.probes.size(), 1u);
  const ProbeConfig& probe = config.probes[0];
  EXPECT_EQ(probe.name, "spool-jaeger");
  EXPECT_EQ(probe.type, "disk");
  EXPECT_EQ(probe.roles, 0u);
  EXPECT_EQ(std::get<DiskProbeConfig>(probe.settings).path, "/var/lib/covet/spool");
  // Printed and loaded again: still one probe.
  EXPECT_EQ(loaded(print_effective_config(config)), config);
  // A disk probe the user put on that path is left as it is.
  const Config own = loaded("probes: [{ name: d, type: disk, path: /var/lib/covet/spool }]\n" +
                            std::string(kJaeger) + ", spool: { dir: /var/lib/covet/spool } }\n");
  ASSERT_EQ(own.probes.size(), 1u);
  EXPECT_EQ(own.probes[0].name, "d");
}

TEST(OtlpConfig, MistakesAreReportedWhereTheyAre) {
  EXPECT_EQ(exporter_errors("on_full: drop_oldest"),
            Lines{"config.yaml:3:65: otlp.exporters[0].on_full: unknown key"});
  EXPECT_EQ(exporter_errors("queue: { on_full: drop }"),
            Lines{"config.yaml:3:83: otlp.exporters[0].queue.on_full: expected one of "
                  "backpressure, drop_oldest, drop_newest, got \"drop\""});
  EXPECT_EQ(exporter_errors("spool: { max_bytes: 1GiB }"),
            Lines{"config.yaml:3:65: otlp.exporters[0].spool: missing required key \"dir\" (a "
                  "directory only this sidecar writes to)"});
  EXPECT_EQ(exporter_errors("header_files: { Authorization: token.txt }"),
            Lines{"config.yaml:3:79: otlp.exporters[0].header_files: header_files.Authorization: "
                  "expected an absolute path to the file holding the value"});
  EXPECT_EQ(exporter_errors("retry: { initial_backoff: 10s, max_backoff: 1s }").size(), 1u);
  EXPECT_EQ(exporter_errors("tls: { ca_file: /ca.pem }"),
            Lines{"config.yaml:3:65: otlp.exporters[0].tls: tls is set but endpoint is http://"});
  EXPECT_EQ(
      errors_of("otlp:\n  exporters:\n    - { name: j, endpoint: \"http://u:p@j/v1\" }\n").size(),
      1u);
  EXPECT_EQ(errors_of("otlp:\n  exporters:\n    - { name: j, endpoint: \"http://j/v1\" }\n    - "
                      "{ name: j, endpoint: \"http://k/v1\" }\n"),
            Lines{"config.yaml:4:15: otlp.exporters[1].name: duplicate exporter name \"j\" (first "
                  "at line 3)"});
  EXPECT_EQ(errors_of("listen: 0.0.0.0:4318\n" + std::string(kJaeger) + " }\n"),
            Lines{"config.yaml:2:1: otlp: an OTLP receiver listens on the same address as listen "
                  "(0.0.0.0:4318)"});
  EXPECT_EQ(errors_of("otlp:\n  http: { listen: 0.0.0.0:9 }\n  grpc: { listen: 0.0.0.0:9 }\n"
                      "  exporters: [{ name: j, endpoint: \"http://j/v1\" }]\n"),
            Lines{"config.yaml:1:1: otlp: http.listen and grpc.listen are the same address"});
}

}  // namespace
}  // namespace covet::config
