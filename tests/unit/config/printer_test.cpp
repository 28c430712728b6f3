#include "config/printer.h"

#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/yaml_writer.h"

namespace covet::config {
namespace {

EnvLookup no_env() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

Config reload(const std::string& printed) {
  const LoadResult result = load_config_text(printed, no_env());
  for (const ConfigError& error : result.errors) ADD_FAILURE() << error.to_string("printed");
  EXPECT_TRUE(result.config.has_value()) << printed;
  return result.config.value_or(Config{});
}

TEST(PrintEffectiveConfig, DefaultConfigSpellsOutEveryDefault) {
  EXPECT_EQ(print_effective_config(default_config()),
            R"(# covet-sidecar effective configuration: every setting, defaults included
listen: 0.0.0.0:8099
log:
  format: auto
  level: info
shutdown:
  drain_delay: 5s
  grace_period: 25s
server:
  max_connections: 1024
  idle_timeout: 1m
  request_timeout: 10s
probes:
  - name: root
    type: disk
    interval: 10s
    timeout: 2s
    failure_threshold: 3
    success_threshold: 1
    roles: [readiness, startup]
    path: /
    warn_free_percent: 15
    fail_free_percent: 5
    warn_free_inodes_percent: 10
    fail_free_inodes_percent: 2
    write_check: false
  - name: memory
    type: memory
    interval: 10s
    timeout: 2s
    failure_threshold: 3
    success_threshold: 1
    roles: [readiness, startup]
    warn_percent: 85
    fail_percent: 95
    cgroup_root: /sys/fs/cgroup
    proc_root: /proc
scrape: []
)");
}

TEST(PrintEffectiveConfig, DefaultConfigRoundTrips) {
  EXPECT_EQ(reload(print_effective_config(default_config())), default_config());
}

TEST(PrintEffectiveConfig, EveryFieldChangedRoundTrips) {
  Config config;
  config.listen = {"::1", 9000};
  config.log = {LogFormat::text, LogLevel::trace};
  config.shutdown = {Duration{1500}, Duration{90'000}};
  config.server = {7, Duration{3'600'000}, Duration{251}};
  ProbeConfig disk;
  disk.name = "data.v2_x-y";
  disk.type = "disk";
  disk.interval = Duration{100};
  disk.timeout = Duration{100};
  disk.failure_threshold = 100;
  disk.success_threshold = 2;
  disk.roles = kLiveness | kStartup;
  disk.settings = DiskProbeConfig{"/var/lib/my app/#data: [x]", 12.5, 0.1, 100, 0, true};
  ProbeConfig memory;
  memory.name = "mem";
  memory.type = "memory";
  memory.roles = 0;
  memory.settings = MemoryProbeConfig{1e-05, 100, "/sys/fs/cgroup/$HOME/${X}", "/host/proc"};
  config.probes = {disk, memory};
  ScrapeTargetConfig scrape;
  scrape.name = "app";
  scrape.url = "https://127.0.0.1:8443/metrics";
  scrape.timeout = Duration{250};
  scrape.min_interval = Duration{0};
  scrape.labels = {{"pod", "web-0"}, {"cost", "$5"}};
  scrape.basic_auth_username = "scraper";
  scrape.basic_auth_password_file = "/run/secrets/p";
  scrape.tls = {"/ca.pem", "/c.pem", "/k.pem", "app.internal", true};
  scrape.max_series = 7;
  scrape.max_body_bytes = 3 << 20;
  scrape.rules = {{ScrapeRuleAction::drop, "go_.*", "", "", ""},
                  {ScrapeRuleAction::keep, "", "code", "2..", ""},
                  {ScrapeRuleAction::rename_label, "", "code", "", "status"}};
  config.scrape = {scrape};

  const std::string printed = print_effective_config(config);
  EXPECT_NE(printed.find("listen: \"[::1]:9000\"\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("roles: [startup, liveness]\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("roles: []\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("drain_delay: 1s500ms\n"), std::string::npos) << printed;
  // "$" is doubled: the loader expands ${...}, and the value must not be expanded again.
  EXPECT_NE(printed.find("cgroup_root: \"/sys/fs/cgroup/$$HOME/$${X}\"\n"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("max_body_bytes: 3MiB\n"), std::string::npos) << printed;
  EXPECT_EQ(reload(printed), config);
}

TEST(PrintEffectiveConfig, NoProbesPrintsAnEmptyList) {
  Config config = default_config();
  config.probes.clear();
  const std::string printed = print_effective_config(config);
  EXPECT_NE(printed.find("\nprobes: []\n"), std::string::npos) << printed;
  EXPECT_EQ(reload(printed), config);
}

TEST(PrintEffectiveConfig, StringsThatAreNotPlainYamlAreQuoted) {
  Config config = default_config();
  auto& disk = std::get<DiskProbeConfig>(config.probes[0].settings);
  for (std::string path : {std::string("/a: b"), std::string("/a #b"), std::string("/\"q\"\\"),
                           std::string("/tab\there"), std::string("/new\nline"),
                           std::string("/nul\0byte", 9), std::string("/ünïcödé"),
                           std::string("/trailing:"), std::string("/ lead"), std::string("/x'y")}) {
    disk.path = path;
    EXPECT_EQ(reload(print_effective_config(config)), config) << path;
  }
}

TEST(YamlWriter, SecretIsAlwaysRedacted) {
  detail::YamlWriter out;
  out.begin_mapping("db");
  out.secret("password");
  out.end_mapping();
  EXPECT_EQ(out.text(), "db:\n  password: \"<redacted>\"\n");
}

TEST(YamlWriter, ScalarQuoting) {
  EXPECT_EQ(detail::yaml_scalar("/var/lib"), "/var/lib");
  EXPECT_EQ(detail::yaml_scalar("0.0.0.0:8099"), "0.0.0.0:8099");
  EXPECT_EQ(detail::yaml_scalar(""), "\"\"");
  EXPECT_EQ(detail::yaml_scalar("null"), "\"null\"");
  EXPECT_EQ(detail::yaml_scalar("~"), "\"~\"");
  EXPECT_EQ(detail::yaml_scalar("-x"), "\"-x\"");
  EXPECT_EQ(detail::yaml_scalar("a: b"), "\"a: b\"");
  EXPECT_EQ(detail::yaml_scalar("say \"hi\"\n"), "\"say \\\"hi\\\"\\x0a\"");
}

}  // namespace
}  // namespace covet::config
