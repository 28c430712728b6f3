#include "config/loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "config/printer.h"

namespace covet::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

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
  EXPECT_TRUE(result.config.has_value());
  return result.config.value_or(Config{});
}

// Every error as the user sees it: "config.yaml:LINE:COLUMN: KEY: MESSAGE".
std::vector<std::string> errors_of(std::string_view yaml, const EnvLookup& env = env_of()) {
  const LoadResult result = load_config_text(yaml, env);
  EXPECT_FALSE(result.config.has_value()) << "config loaded despite errors";
  std::vector<std::string> lines;
  for (const ConfigError& error : result.errors) lines.push_back(error.to_string("config.yaml"));
  return lines;
}

using Lines = std::vector<std::string>;

// --- defaults ---------------------------------------------------------------------------

TEST(DefaultConfig, ListensOnAllInterfacesWithRootDiskAndMemoryProbes) {
  const Config config = default_config();
  EXPECT_EQ(config.listen.host, "0.0.0.0");
  EXPECT_EQ(config.listen.port, 8099);
  EXPECT_EQ(config.log.format, LogFormat::automatic);
  EXPECT_EQ(config.log.level, LogLevel::info);
  EXPECT_EQ(config.shutdown.drain_delay, seconds(5));
  EXPECT_EQ(config.shutdown.grace_period, seconds(25));
  EXPECT_EQ(config.server.max_connections, 1024u);
  ASSERT_EQ(config.probes.size(), 2u);
  EXPECT_EQ(config.probes[0].name, "root");
  EXPECT_EQ(config.probes[0].type, "disk");
  ASSERT_TRUE(std::holds_alternative<DiskProbeConfig>(config.probes[0].settings));
  EXPECT_EQ(std::get<DiskProbeConfig>(config.probes[0].settings).path, "/");
  EXPECT_EQ(config.probes[1].name, "memory");
  EXPECT_EQ(config.probes[1].type, "memory");
  EXPECT_TRUE(std::holds_alternative<MemoryProbeConfig>(config.probes[1].settings));
  for (const ProbeConfig& probe : config.probes) {
    EXPECT_EQ(probe.interval, seconds(10));
    EXPECT_EQ(probe.timeout, seconds(2));
    EXPECT_EQ(probe.failure_threshold, 3u);
    EXPECT_EQ(probe.success_threshold, 1u);
    EXPECT_EQ(probe.roles, kReadiness | kStartup);
  }
}

TEST(LoadConfig, EmptyOrCommentOnlyDocumentIsTheDefaultConfig) {
  EXPECT_EQ(loaded(""), default_config());
  EXPECT_EQ(loaded("# nothing here\n\n   # still nothing\n"), default_config());
  EXPECT_EQ(loaded("---\n"), default_config());
  EXPECT_EQ(loaded("~\n"), default_config());
}

TEST(LoadConfig, OmittedKeysKeepDefaultsIncludingTheDefaultProbes) {
  Config expected = default_config();
  expected.log.level = LogLevel::debug;
  EXPECT_EQ(loaded("log: { level: debug }\n"), expected);
}

TEST(LoadConfig, EmptySectionMeansAllDefaults) {
  EXPECT_EQ(loaded("log:\nshutdown:\nserver:\n"), default_config());
}

TEST(LoadConfig, ProbesReplaceTheDefaultList) {
  EXPECT_TRUE(loaded("probes: []\n").probes.empty());
  const Config config = loaded("probes:\n  - { name: m, type: memory }\n");
  ASSERT_EQ(config.probes.size(), 1u);
  EXPECT_EQ(config.probes[0].name, "m");
}

TEST(LoadConfig, EveryKey) {
  const Config config = loaded(R"(listen: 127.0.0.1:9000
log:
  format: text
  level: warn
shutdown:
  drain_delay: 1s500ms
  grace_period: 1m
server:
  max_connections: 1000000
  idle_timeout: 1h
  request_timeout: 500ms
probes:
  - name: data
    type: disk
    interval: 100ms
    timeout: 100ms
    failure_threshold: 100
    success_threshold: 5
    roles: [liveness]
    path: /var/lib/app
    warn_free_percent: 20.5
    fail_free_percent: 0
    warn_free_inodes_percent: 100
    fail_free_inodes_percent: 50
    write_check: true
  - name: mem
    type: memory
    roles: []
    warn_percent: 0.5
    fail_percent: 100
    cgroup_root: /host/cgroup
    proc_root: /host/proc
)");
  EXPECT_EQ(config.listen.host, "127.0.0.1");
  EXPECT_EQ(config.listen.port, 9000);
  EXPECT_EQ(config.log.format, LogFormat::text);
  EXPECT_EQ(config.log.level, LogLevel::warn);
  EXPECT_EQ(config.shutdown.drain_delay, milliseconds(1500));
  EXPECT_EQ(config.shutdown.grace_period, seconds(60));
  EXPECT_EQ(config.server.max_connections, 1000000u);
  EXPECT_EQ(config.server.idle_timeout, seconds(3600));
  EXPECT_EQ(config.server.request_timeout, milliseconds(500));
  ASSERT_EQ(config.probes.size(), 2u);

  const ProbeConfig& disk_probe = config.probes[0];
  EXPECT_EQ(disk_probe.interval, milliseconds(100));
  EXPECT_EQ(disk_probe.timeout, milliseconds(100));
  EXPECT_EQ(disk_probe.failure_threshold, 100u);
  EXPECT_EQ(disk_probe.success_threshold, 5u);
  EXPECT_EQ(disk_probe.roles, unsigned{kLiveness});
  const auto& disk = std::get<DiskProbeConfig>(disk_probe.settings);
  EXPECT_EQ(disk.path, "/var/lib/app");
  EXPECT_EQ(disk.warn_free_percent, 20.5);
  EXPECT_EQ(disk.fail_free_percent, 0);
  EXPECT_EQ(disk.warn_free_inodes_percent, 100);
  EXPECT_EQ(disk.fail_free_inodes_percent, 50);
  EXPECT_TRUE(disk.write_check);

  const ProbeConfig& memory_probe = config.probes[1];
  EXPECT_EQ(memory_probe.type, "memory");
  EXPECT_EQ(memory_probe.roles, 0u);
  const auto& memory = std::get<MemoryProbeConfig>(memory_probe.settings);
  EXPECT_EQ(memory.warn_percent, 0.5);
  EXPECT_EQ(memory.fail_percent, 100);
  EXPECT_EQ(memory.cgroup_root, "/host/cgroup");
  EXPECT_EQ(memory.proc_root, "/host/proc");
}

TEST(LoadConfig, ProbeDefaults) {
  const Config config =
      loaded("probes:\n  - { name: d, type: disk }\n  - { name: m, type: memory }\n");
  ASSERT_EQ(config.probes.size(), 2u);
  ProbeConfig disk = default_config().probes[0];
  disk.name = "d";
  EXPECT_EQ(config.probes[0], disk);
  ProbeConfig memory = default_config().probes[1];
  memory.name = "m";
  EXPECT_EQ(config.probes[1], memory);
}

TEST(LoadConfig, ShortIntervalShortensTheDefaultTimeout) {
  const Config config = loaded("probes:\n  - { name: d, type: disk, interval: 500ms }\n");
  ASSERT_EQ(config.probes.size(), 1u);
  EXPECT_EQ(config.probes[0].timeout, milliseconds(500));
}

TEST(LoadConfig, IPv6Listen) {
  const Config config = loaded("listen: \"[::1]:8099\"\n");
  EXPECT_EQ(config.listen.host, "::1");
  EXPECT_EQ(config.listen.port, 8099);
  EXPECT_EQ(loaded("listen: '[::]:1'\n").listen.host, "::");
}

TEST(LoadConfig, QuotedScalarsAreStringsToo) {
  const Config config = loaded("server: { max_connections: \"12\", idle_timeout: '5s' }\n");
  EXPECT_EQ(config.server.max_connections, 12u);
  EXPECT_EQ(config.server.idle_timeout, seconds(5));
}

// --- environment expansion -------------------------------------------------------------

TEST(LoadConfig, EnvironmentExpansionInValues) {
  const EnvLookup env = env_of({{"PORT", "9100"}, {"LEVEL", "debug"}, {"DATA", "/data"}});
  const Config config = loaded(R"(listen: 0.0.0.0:${PORT}
log: { level: "${LEVEL}", format: "${FORMAT:-json}" }
probes:
  - { name: d, type: disk, path: "${DATA}/app", interval: "${INTERVAL:-30s}" }
)",
                               env);
  EXPECT_EQ(config.listen.port, 9100);
  EXPECT_EQ(config.log.level, LogLevel::debug);
  EXPECT_EQ(config.log.format, LogFormat::json);
  ASSERT_EQ(config.probes.size(), 1u);
  EXPECT_EQ(std::get<DiskProbeConfig>(config.probes[0].settings).path, "/data/app");
  EXPECT_EQ(config.probes[0].interval, seconds(30));
}

TEST(LoadConfig, ExpandedValueThatLooksLikeYamlStaysAString) {
  const EnvLookup env = env_of({{"EVIL", "a: [b"}, {"LIST", "[x, y]"}});
  const Config config = loaded("probes:\n  - name: d\n    type: disk\n    path: /x/${EVIL}\n", env);
  ASSERT_EQ(config.probes.size(), 1u);
  EXPECT_EQ(std::get<DiskProbeConfig>(config.probes[0].settings).path, "/x/a: [b");
  // An expanded "[x, y]" is not a list: it is checked as the string it is.
  EXPECT_EQ(errors_of("probes:\n  - { name: d, type: disk, roles: \"${LIST}\" }\n", env),
            Lines{"config.yaml:2:35: probes[0].roles: expected a list of roles, e.g. [readiness, "
                  "startup], or [] to only report"});
}

TEST(LoadConfig, KeysAreNotExpanded) {
  EXPECT_EQ(errors_of("${KEY}: 1\n", env_of({{"KEY", "listen"}})),
            Lines{"config.yaml:1:1: ${KEY}: unknown key"});
}

TEST(LoadConfig, ExpansionErrorIsReportedAtTheScalar) {
  EXPECT_EQ(errors_of("log:\n  level: ${LOG_LEVEL}\n"),
            Lines{"config.yaml:2:10: log.level: environment variable LOG_LEVEL is not set (use "
                  "${LOG_LEVEL:-default} for a default)"});
  EXPECT_EQ(errors_of("listen: \"${PORT\"\n"),
            Lines{"config.yaml:1:9: listen: unterminated \"${\": expected ${NAME} or "
                  "${NAME:-default}"});
}

TEST(LoadConfig, ErrorsShowWhatWasWrittenNotTheExpandedValue) {
  const EnvLookup env = env_of({{"SECRETISH", "hunter2"}});
  EXPECT_EQ(errors_of("server: { max_connections: \"${SECRETISH}\" }\n", env),
            Lines{"config.yaml:1:28: server.max_connections: expected an integer, got "
                  "\"${SECRETISH}\" (after environment expansion)"});
  EXPECT_EQ(errors_of("server: { idle_timeout: \"${SECRETISH}\" }\n", env),
            Lines{"config.yaml:1:25: server.idle_timeout: invalid duration \"${SECRETISH}\" (after "
                  "environment expansion): expected a number with a unit (ms, s, m, h), e.g. 500ms "
                  "or 10s"});
  EXPECT_EQ(errors_of("listen: \"${SECRETISH}\"\n", env),
            Lines{"config.yaml:1:9: listen: invalid listen address \"${SECRETISH}\" (after "
                  "environment expansion): expected host:port, e.g. 0.0.0.0:8099 or [::1]:8099"});
  for (const std::string& line :
       errors_of("log: { level: \"x${SECRETISH}\" }\nprobes:\n  - { name: \"${SECRETISH}!\", type: "
                 "\"${SECRETISH}\", path: \"${SECRETISH}\" }\n",
                 env)) {
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
  }
}

// --- syntax and document-level errors --------------------------------------------------

TEST(LoadConfig, SyntaxErrorIsOneErrorWithItsPosition) {
  const LoadResult result =
      load_config_text("listen: 0.0.0.0:8099\nlog: { level: info\n", env_of());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_FALSE(result.config.has_value());
  EXPECT_GT(result.errors[0].line, 0);
  EXPECT_EQ(result.errors[0].key, "");
  EXPECT_FALSE(result.errors[0].message.empty());

  EXPECT_EQ(errors_of("a: b\n  c: d\n"), Lines{"config.yaml:2:4: illegal map value"});
  EXPECT_EQ(errors_of("probes:\n  - name: x\n - name: y\n"),
            Lines{"config.yaml:3:2: end of map not found"});
}

TEST(LoadConfig, TopLevelMustBeAMapping) {
  EXPECT_EQ(errors_of("just text\n"),
            Lines{"config.yaml:1:1: expected a mapping of settings (listen, log, shutdown, server, "
                  "probes, scrape, otlp)"});
  EXPECT_EQ(errors_of("- listen\n"),
            Lines{"config.yaml:1:1: expected a mapping of settings (listen, log, shutdown, server, "
                  "probes, scrape, otlp)"});
}

TEST(LoadConfig, MoreThanOneDocument) {
  EXPECT_EQ(errors_of("log: { level: info }\n---\nlog: { level: debug }\n"),
            Lines{"config.yaml:2:1: expected one YAML document, found more (a \"---\" line?)"});
}

TEST(LoadConfig, MalformedInputThatMakesYamlCppReportEndlessDocumentsIsAnError) {
  // Found by tests/fuzz/config_fuzz.cpp: yaml-cpp 0.7 accepts this, returns a null first
  // document, then reports empty documents forever (YAML::LoadAll never returned).
  const std::string input =
      ",isten: \"[::1]:${PORT:-8099}\"\nlog: { format: text, "
      "level\xff\xff\xff\xff\xff\xff\xff\x0e: debug }\n";
  const LoadResult result = load_config_text(input, env_of());
  EXPECT_FALSE(result.config.has_value());
  ASSERT_FALSE(result.errors.empty());
  EXPECT_EQ(result.errors[0].message, "expected one YAML document, found more (a \"---\" line?)");
}

// --- unknown, duplicate and unsupported keys -------------------------------------------

TEST(LoadConfig, UnknownKeysWithSuggestion) {
  EXPECT_EQ(errors_of(R"(lisen: 0.0.0.0:1
log: { levle: info, colour: true }
probes:
  - name: a
    type: memory
  - name: b
    type: disk
    intervall: 5s
)"),
            (Lines{
                "config.yaml:1:1: lisen: unknown key (did you mean \"listen\"?)",
                "config.yaml:2:8: log.levle: unknown key (did you mean \"level\"?)",
                "config.yaml:2:21: log.colour: unknown key",
                "config.yaml:8:5: probes[1].intervall: unknown key (did you mean \"interval\"?)",
            }));
}

TEST(LoadConfig, KeyOfAnotherProbeTypeIsUnknown) {
  EXPECT_EQ(errors_of("probes:\n  - { name: m, type: memory, path: / }\n  - { name: d, type: "
                      "disk, warn_percent: 5 }\n"),
            (Lines{"config.yaml:2:30: probes[0].path: unknown key",
                   "config.yaml:3:28: probes[1].warn_percent: unknown key"}));
}

TEST(LoadConfig, DuplicateKeys) {
  EXPECT_EQ(errors_of("log:\n  level: info\n  level: debug\n"),
            Lines{"config.yaml:3:3: log.level: duplicate key (first at line 2, column 3)"});
  EXPECT_EQ(errors_of("listen: 0.0.0.0:1\nlisten: 0.0.0.0:2\n"),
            Lines{"config.yaml:2:1: listen: duplicate key (first at line 1, column 1)"});
}

TEST(LoadConfig, OtlpWithoutAnExporterIsRefused) {
  // The rest of otlp: is tested in tests/unit/config/otlp_config_test.cpp.
  EXPECT_EQ(errors_of("scrape:\n  - name: app\n    url: http://x\notlp:\n  http: {}\n"),
            (Lines{"config.yaml:4:1: otlp: at least one exporter is needed (e.g. name: jaeger, "
                   "endpoint: http://jaeger:4318/v1/traces): received spans must go somewhere"}));
}

TEST(LoadConfig, NonStringKey) {
  EXPECT_EQ(errors_of("log:\n  ? [a]\n  : b\n"),
            Lines{"config.yaml:2:5: log: keys must be plain strings"});
}

// --- wrong types -------------------------------------------------------------------------

TEST(LoadConfig, WrongTypes) {
  EXPECT_EQ(errors_of(R"(listen: [0.0.0.0, 8099]
log: json
shutdown:
  drain_delay: { seconds: 5 }
server:
  max_connections: abc
  idle_timeout: 10
probes:
  - name: d
    type: disk
    write_check: yes
    warn_free_percent: ten
    failure_threshold: 2.5
    roles: readiness
)"),
            (Lines{
                "config.yaml:1:9: listen: expected host:port, got a list",
                "config.yaml:2:6: log: expected a mapping, got a value",
                "config.yaml:4:16: shutdown.drain_delay: expected a duration, got a mapping",
                "config.yaml:6:20: server.max_connections: expected an integer, got \"abc\"",
                "config.yaml:7:17: server.idle_timeout: invalid duration \"10\": missing unit (ms, "
                "s, m, h), e.g. 10s or 10ms",
                "config.yaml:11:18: probes[0].write_check: expected true or false, got \"yes\"",
                "config.yaml:12:24: probes[0].warn_free_percent: expected a number, got \"ten\"",
                "config.yaml:13:24: probes[0].failure_threshold: expected an integer, got \"2.5\"",
                "config.yaml:14:12: probes[0].roles: expected a list of roles, e.g. [readiness, "
                "startup], or [] to only report",
            }));
}

TEST(LoadConfig, EmptyValueIsReportedAtItsKey) {
  EXPECT_EQ(errors_of("probes:\n  - name: d\n    type: disk\n    interval:\n    timeout: 1s\n"),
            Lines{"config.yaml:4:5: probes[0].interval: expected a duration, got nothing"});
  EXPECT_EQ(errors_of("probes:\n"),
            Lines{"config.yaml:1:1: probes: expected a list of probes (use [] for none)"});
}

// --- out of range ------------------------------------------------------------------------

TEST(LoadConfig, ListenAddressErrors) {
  const auto listen_error = [](std::string_view value) {
    const Lines lines = errors_of("listen: \"" + std::string(value) + "\"\n");
    return lines.size() == 1 ? lines[0] : "(" + std::to_string(lines.size()) + " errors)";
  };
  EXPECT_EQ(listen_error("0.0.0.0"),
            "config.yaml:1:9: listen: invalid listen address \"0.0.0.0\": expected host:port, "
            "e.g. 0.0.0.0:8099 or [::1]:8099");
  EXPECT_EQ(listen_error("0.0.0.0:0"),
            "config.yaml:1:9: listen: invalid listen address \"0.0.0.0:0\": port must be between 1 "
            "and 65535");
  EXPECT_EQ(listen_error("0.0.0.0:65536"),
            "config.yaml:1:9: listen: invalid listen address \"0.0.0.0:65536\": port must be "
            "between 1 and 65535");
  EXPECT_EQ(listen_error("::1:8099"),
            "config.yaml:1:9: listen: invalid listen address \"::1:8099\": an IPv6 address needs "
            "brackets, e.g. [::1]:8099");
  EXPECT_EQ(
      listen_error("localhost:8099"),
      "config.yaml:1:9: listen: invalid listen address \"localhost:8099\": host must be an IP "
      "address, e.g. 0.0.0.0, 127.0.0.1 or [::1]");
  EXPECT_EQ(listen_error(":8099"),
            "config.yaml:1:9: listen: invalid listen address \":8099\": missing host; use 0.0.0.0 "
            "for every IPv4 address");
  EXPECT_EQ(listen_error("[1.2.3.4]:80"),
            "config.yaml:1:9: listen: invalid listen address \"[1.2.3.4]:80\": expected an IPv6 "
            "address between the brackets, e.g. [::1]:8099");
  EXPECT_EQ(listen_error("0.0.0.0:-1"),
            "config.yaml:1:9: listen: invalid listen address \"0.0.0.0:-1\": expected host:port, "
            "e.g. 0.0.0.0:8099 or [::1]:8099");
}

TEST(LoadConfig, OutOfRangeValues) {
  EXPECT_EQ(errors_of(R"(log: { level: verbose }
server:
  max_connections: 1000001
  idle_timeout: 0s
  request_timeout: -1s
probes:
  - name: d
    type: disk
    interval: 99ms
    timeout: 0ms
    failure_threshold: 0
    success_threshold: 101
    warn_free_percent: 100.5
    fail_free_percent: -1
    path: relative/dir
  - name: m
    type: memory
    warn_percent: 0
    fail_percent: inf
    proc_root: proc
)"),
            (Lines{
                "config.yaml:1:15: log.level: expected one of trace, debug, info, warn, error, got "
                "\"verbose\"",
                "config.yaml:3:20: server.max_connections: must be between 1 and 1000000, got "
                "\"1000001\"",
                "config.yaml:4:17: server.idle_timeout: must be greater than 0s, got \"0s\"",
                "config.yaml:5:20: server.request_timeout: invalid duration \"-1s\": must not be "
                "negative",
                "config.yaml:9:15: probes[0].interval: must be at least 100ms, got \"99ms\"",
                "config.yaml:10:14: probes[0].timeout: must be greater than 0s, got \"0ms\"",
                "config.yaml:11:24: probes[0].failure_threshold: must be between 1 and 100, got "
                "\"0\"",
                "config.yaml:12:24: probes[0].success_threshold: must be between 1 and 100, got "
                "\"101\"",
                "config.yaml:13:24: probes[0].warn_free_percent: must be between 0 and 100, got "
                "\"100.5\"",
                "config.yaml:14:24: probes[0].fail_free_percent: must be between 0 and 100, got "
                "\"-1\"",
                "config.yaml:15:11: probes[0].path: expected an absolute path, got "
                "\"relative/dir\"",
                "config.yaml:18:19: probes[1].warn_percent: must be greater than 0 and at most "
                "100, got \"0\"",
                "config.yaml:19:19: probes[1].fail_percent: expected a number, got \"inf\"",
                "config.yaml:20:16: probes[1].proc_root: expected an absolute path, got \"proc\"",
            }));
}

TEST(LoadConfig, HugeIntegerIsOutOfRangeNotGarbage) {
  EXPECT_EQ(errors_of("server: { max_connections: 99999999999999999999999 }\n"),
            Lines{"config.yaml:1:28: server.max_connections: must be between 1 and 1000000, got "
                  "\"99999999999999999999999\""});
}

// --- settings that must be in order ------------------------------------------------------

TEST(LoadConfig, GracePeriodMustCoverTheDrainDelay) {
  EXPECT_EQ(
      errors_of("shutdown:\n  drain_delay: 10s\n  grace_period: 5s\n"),
      Lines{"config.yaml:3:17: shutdown.grace_period: must be at least shutdown.drain_delay"});
  EXPECT_EQ(errors_of("shutdown:\n  grace_period: 5s\n  drain_delay: 10s\n"),
            Lines{"config.yaml:3:16: shutdown.drain_delay: must not exceed shutdown.grace_period"});
  EXPECT_EQ(errors_of("shutdown: { drain_delay: 30s }\n"),
            Lines{"config.yaml:1:26: shutdown.drain_delay: must not exceed shutdown.grace_period "
                  "(25s by default)"});
  EXPECT_EQ(errors_of("shutdown: { grace_period: 1s }\n"),
            Lines{"config.yaml:1:27: shutdown.grace_period: must be at least shutdown.drain_delay "
                  "(5s by default)"});
  EXPECT_EQ(loaded("shutdown: { drain_delay: 0s, grace_period: 0s }\n").shutdown.grace_period,
            Duration{0});
}

TEST(LoadConfig, TimeoutMustNotExceedInterval) {
  EXPECT_EQ(errors_of("probes:\n  - name: d\n    type: disk\n    interval: 1s\n    timeout: 2s\n"),
            Lines{"config.yaml:5:14: probes[0].timeout: must not exceed probes[0].interval"});
  EXPECT_EQ(errors_of("probes:\n  - { name: d, type: disk, timeout: 11s }\n"),
            Lines{"config.yaml:2:37: probes[0].timeout: must not exceed probes[0].interval (10s "
                  "by default)"});
}

TEST(LoadConfig, FailThresholdsMustNotPassWarnThresholds) {
  EXPECT_EQ(
      errors_of("probes:\n"
                "  - { name: d, type: disk, warn_free_percent: 10, fail_free_percent: 20 }\n"
                "  - { name: i, type: disk, fail_free_inodes_percent: 11 }\n"
                "  - { name: m, type: memory, fail_percent: 80 }\n"),
      (Lines{
          "config.yaml:2:70: probes[0].fail_free_percent: must not exceed "
          "probes[0].warn_free_percent",
          "config.yaml:3:54: probes[1].fail_free_inodes_percent: must not exceed "
          "probes[1].warn_free_inodes_percent (10 by default)",
          "config.yaml:4:44: probes[2].fail_percent: must be at least probes[2].warn_percent (85 "
          "by default)",
      }));
}

// --- probes ------------------------------------------------------------------------------

TEST(LoadConfig, ProbeNameAndTypeAreRequired) {
  EXPECT_EQ(errors_of("probes:\n  - type: disk\n  - name: x\n  - just-a-string\n  -\n"),
            (Lines{
                // An empty item has no position of its own in yaml-cpp: the list's is used.
                "config.yaml:2:3: probes[3]: expected a probe: a mapping with at least name and "
                "type",
                "config.yaml:2:5: probes[0]: missing required key \"name\"",
                "config.yaml:3:5: probes[1]: missing required key \"type\" (supported: disk, "
                "memory, postgres, redis, http, tcp, process, tls)",
                "config.yaml:4:5: probes[2]: expected a probe: a mapping with at least name and "
                "type",
            }));
}

TEST(LoadConfig, ProbeNames) {
  EXPECT_EQ(
      errors_of("probes:\n"
                "  - { name: db, type: disk }\n"
                "  - { name: db, type: memory }\n"
                "  - { name: \"has space\", type: memory }\n"
                "  - { name: \"" +
                std::string(64, 'n') + "\", type: memory }\n"),
      (Lines{
          "config.yaml:3:13: probes[1].name: duplicate probe name \"db\" (first at line 2)",
          "config.yaml:4:13: probes[2].name: invalid probe name \"has space\": use 1 to 63 "
          "letters, digits, '_', '.' or '-' (it is used as a metric label and in ?exclude=NAME)",
          "config.yaml:5:13: probes[3].name: invalid probe name \"" + std::string(64, 'n') +
              "\": use 1 to 63 letters, digits, '_', '.' or '-' (it is used as a metric label and "
              "in ?exclude=NAME)",
      }));
  EXPECT_EQ(loaded("probes: [{ name: \"" + std::string(63, 'n') + "\", type: memory }]\n")
                .probes.at(0)
                .name,
            std::string(63, 'n'));
  EXPECT_EQ(loaded("probes: [{ name: A-z_0.9, type: memory }]\n").probes.at(0).name, "A-z_0.9");
}

TEST(LoadConfig, ProbeTypes) {
  EXPECT_EQ(errors_of("probes:\n"
                      "  - { name: c, type: Disk }\n"
                      "  - { name: d, type: [disk] }\n"),
            (Lines{
                "config.yaml:2:22: probes[0].type: unknown probe type \"Disk\" (supported: disk, "
                "memory, postgres, redis, http, tcp, process, tls)",
                "config.yaml:3:22: probes[1].type: expected a probe type, got a list",
            }));
}

TEST(LoadConfig, Roles) {
  const auto roles_of = [](std::string_view roles) {
    const Config config =
        loaded("probes: [{ name: a, type: memory, roles: " + std::string(roles) + " }]\n");
    return config.probes.empty() ? ~0u : config.probes[0].roles;
  };
  EXPECT_EQ(roles_of("[]"), 0u);
  EXPECT_EQ(roles_of("[liveness]"), unsigned{kLiveness});
  EXPECT_EQ(roles_of("[startup, readiness, liveness]"), kReadiness | kStartup | kLiveness);

  EXPECT_EQ(errors_of("probes:\n  - name: a\n    type: memory\n    roles:\n      - readiness\n   "
                      "   - ready\n      - readiness\n      - {x: y}\n"),
            (Lines{
                "config.yaml:6:9: probes[0].roles[1]: expected one of readiness, startup, "
                "liveness, got \"ready\"",
                "config.yaml:7:9: probes[0].roles[2]: duplicate role \"readiness\"",
                "config.yaml:8:9: probes[0].roles[3]: expected a string, got a mapping",
            }));
}

// --- many errors at once -----------------------------------------------------------------

TEST(LoadConfig, AllErrorsAreReportedInFileOrder) {
  const LoadResult result = load_config_text(R"(listen: nowhere
probes:
  - name: a
    type: disk
    interval: 5
    failure_threshold: 0
  - name: a
    type: memory
    warn_percent: 200
server: { max_connections: -3 }
bogus: 1
)",
                                             env_of());
  EXPECT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), 7u);
  const std::vector<std::pair<int, int>> positions = {{1, 9},  {5, 15},  {6, 24}, {7, 11},
                                                      {9, 19}, {10, 28}, {11, 1}};
  const std::vector<std::string> keys = {
      "listen",         "probes[0].interval",     "probes[0].failure_threshold",
      "probes[1].name", "probes[1].warn_percent", "server.max_connections",
      "bogus"};
  for (std::size_t i = 0; i < result.errors.size(); ++i) {
    EXPECT_EQ(result.errors[i].line, positions[i].first) << i;
    EXPECT_EQ(result.errors[i].column, positions[i].second) << i;
    EXPECT_EQ(result.errors[i].key, keys[i]) << i;
  }
}

// --- ConfigError::to_string --------------------------------------------------------------

TEST(ConfigError, ToString) {
  EXPECT_EQ((ConfigError{3, 7, "probes[0].interval", "bad"}).to_string("c.yaml"),
            "c.yaml:3:7: probes[0].interval: bad");
  EXPECT_EQ((ConfigError{3, 7, "", "bad"}).to_string("c.yaml"), "c.yaml:3:7: bad");
  EXPECT_EQ((ConfigError{0, 0, "", "read c.yaml: No such file or directory"}).to_string("c.yaml"),
            "c.yaml: read c.yaml: No such file or directory");
  EXPECT_EQ((ConfigError{3, 0, "k", "bad"}).to_string("c.yaml"), "c.yaml:3: k: bad");
  EXPECT_EQ((ConfigError{3, 7, "k", "bad"}).to_string(""), "3:7: k: bad");
  EXPECT_EQ((ConfigError{0, 0, "", "bad"}).to_string(""), "bad");
}

// --- files -------------------------------------------------------------------------------

TEST(LoadConfigFile, MissingFile) {
  const LoadResult result = load_config_file("/nonexistent/covet.yaml", env_of());
  EXPECT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 0);
  EXPECT_EQ(result.errors[0].to_string("/nonexistent/covet.yaml"),
            "/nonexistent/covet.yaml: read /nonexistent/covet.yaml: No such file or directory");
}

TEST(LoadConfigFile, DirectoryIsNotAConfig) {
  const LoadResult result = load_config_file("/tmp", env_of());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].message, "read /tmp: Is a directory");
}

TEST(LoadConfigFile, ExampleConfigIsValid) {
  const std::string path = COVET_FIXTURES_DIR "/../../config/examples/config.yaml";
  const LoadResult result = load_config_file(path, env_of());
  for (const ConfigError& error : result.errors) ADD_FAILURE() << error.to_string(path);
  ASSERT_TRUE(result.config.has_value());
  EXPECT_EQ(result.config->listen.port, 8099);
  ASSERT_EQ(result.config->probes.size(), 2u);
  EXPECT_EQ(result.config->probes[0].type, "disk");
  EXPECT_EQ(result.config->probes[1].type, "memory");
  // The disk probe's path must exist on any Linux box, so --check-config and a first run
  // of the copied example both succeed.
  EXPECT_EQ(
      ::access(std::get<DiskProbeConfig>(result.config->probes[0].settings).path.c_str(), F_OK), 0);
}

TEST(LoadConfigFile, ExampleConfigRoundTripsThroughThePrinter) {
  const std::string path = COVET_FIXTURES_DIR "/../../config/examples/config.yaml";
  const LoadResult first = load_config_file(path, env_of({{"COVET_LISTEN", "127.0.0.1:9999"}}));
  ASSERT_TRUE(first.config.has_value());
  EXPECT_EQ(first.config->listen.host, "127.0.0.1");
  const LoadResult again = load_config_text(print_effective_config(*first.config), env_of());
  ASSERT_TRUE(again.config.has_value());
  EXPECT_EQ(*again.config, *first.config);
}

TEST(ProcessEnv, ReadsTheRealEnvironment) {
  ASSERT_EQ(::setenv("COVET_CONFIG_TEST_VAR", "value", 1), 0);
  const EnvLookup env = process_env();
  EXPECT_EQ(env("COVET_CONFIG_TEST_VAR"), "value");
  EXPECT_EQ(env("COVET_CONFIG_TEST_UNSET_VAR"), std::nullopt);
  ::unsetenv("COVET_CONFIG_TEST_VAR");
}

}  // namespace
}  // namespace covet::config
