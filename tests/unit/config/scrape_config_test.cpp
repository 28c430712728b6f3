// The `scrape:` section: defaults, every key, errors with positions, environment expansion,
// printing and reloading.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "config/loader.h"
#include "config/printer.h"

namespace covet::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Lines = std::vector<std::string>;
using Labels = std::vector<std::pair<std::string, std::string>>;

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

// The errors of one target written in flow style on line 2: "scrape:\n  - { ... }\n".
Lines target_errors(std::string_view keys) {
  return errors_of("scrape:\n  - { " + std::string(keys) + " }\n");
}

constexpr std::string_view kApp = "name: app, url: \"http://127.0.0.1:8000/metrics\"";
constexpr std::string_view kAppTls = "name: app, url: \"https://app.test/metrics\"";

// --- defaults ---------------------------------------------------------------------------

TEST(ScrapeConfig, NoneByDefault) {
  EXPECT_TRUE(default_config().scrape.empty());
  EXPECT_TRUE(loaded("log: { level: info }\n").scrape.empty());
  const Config none = loaded("scrape: []\n");
  EXPECT_TRUE(none.scrape.empty());
  // A scrape section leaves the default probes alone.
  EXPECT_EQ(none.probes, default_config().probes);
}

TEST(ScrapeConfig, Defaults) {
  const Config config = loaded("scrape:\n  - name: app\n    url: http://127.0.0.1:8000/metrics\n");
  ASSERT_EQ(config.scrape.size(), 1u);
  const ScrapeTargetConfig& target = config.scrape[0];
  EXPECT_EQ(target.name, "app");
  EXPECT_EQ(target.url, "http://127.0.0.1:8000/metrics");
  EXPECT_EQ(target.timeout, seconds(5));
  EXPECT_EQ(target.min_interval, seconds(1));
  EXPECT_TRUE(target.labels.empty());
  EXPECT_EQ(target.bearer_token_file, "");
  EXPECT_EQ(target.basic_auth_username, "");
  EXPECT_EQ(target.basic_auth_password_file, "");
  EXPECT_EQ(target.tls, ScrapeTlsConfig{});
  EXPECT_EQ(target.max_series, 50000u);
  EXPECT_EQ(target.max_body_bytes, 64u * 1024 * 1024);
  EXPECT_TRUE(target.rules.empty());

  ScrapeTargetConfig expected;
  expected.name = "app";
  expected.url = "http://127.0.0.1:8000/metrics";
  EXPECT_EQ(target, expected);
}

TEST(ScrapeConfig, EmptyOptionalSectionsAreEmpty) {
  const Config config = loaded(
      "scrape:\n  - name: app\n    url: https://a.test/\n    labels:\n"
      "    tls:\n    rules:\n");
  ASSERT_EQ(config.scrape.size(), 1u);
  EXPECT_TRUE(config.scrape[0].labels.empty());
  EXPECT_EQ(config.scrape[0].tls, ScrapeTlsConfig{});
  EXPECT_TRUE(config.scrape[0].rules.empty());
}

// --- every key ----------------------------------------------------------------------------

TEST(ScrapeConfig, EveryKey) {
  const Config config = loaded(R"(server: { request_timeout: 2m }
scrape:
  - name: app.v2_x-y
    url: https://app.test:8443/metrics?format=prometheus
    timeout: 1m
    min_interval: 0s
    labels: { pod: web-0, namespace: prod, container: app }
    basic_auth: { username: scraper, password_file: /run/secrets/p }
    tls:
      ca_file: /etc/ssl/app-ca.pem
      cert_file: /run/secrets/client.pem
      key_file: /run/secrets/client.key
      server_name: app.internal
      insecure_skip_verify: true
    max_series: 4294967295
    max_body_bytes: 512KiB
    rules:
      - { action: drop, metric: "go_.*" }
      - { action: keep, metric: "http_.*|db_.*" }
      - { action: drop, label: route, regex: "/debug/.*" }
      - { action: keep, metric: "http_.*", label: code, regex: "" }
      - { action: rename_label, label: code, to: status }
      - { action: rename_label, metric: "db_.*", label: db, to: database }
  - name: other
    url: http://[::1]:9000/metrics
    min_interval: 1h
    timeout: 1ms
    bearer_token_file: /run/secrets/token
    max_body_bytes: 1000
)");
  ASSERT_EQ(config.scrape.size(), 2u);
  const ScrapeTargetConfig& app = config.scrape[0];
  EXPECT_EQ(app.name, "app.v2_x-y");
  EXPECT_EQ(app.url, "https://app.test:8443/metrics?format=prometheus");
  EXPECT_EQ(app.timeout, seconds(60));
  EXPECT_EQ(app.min_interval, milliseconds(0));
  EXPECT_EQ(app.labels, (Labels{{"pod", "web-0"}, {"namespace", "prod"}, {"container", "app"}}));
  EXPECT_EQ(app.bearer_token_file, "");
  EXPECT_EQ(app.basic_auth_username, "scraper");
  EXPECT_EQ(app.basic_auth_password_file, "/run/secrets/p");
  EXPECT_EQ(app.tls.ca_file, "/etc/ssl/app-ca.pem");
  EXPECT_EQ(app.tls.cert_file, "/run/secrets/client.pem");
  EXPECT_EQ(app.tls.key_file, "/run/secrets/client.key");
  EXPECT_EQ(app.tls.server_name, "app.internal");
  EXPECT_TRUE(app.tls.insecure_skip_verify);
  EXPECT_EQ(app.max_series, 4294967295u);
  EXPECT_EQ(app.max_body_bytes, 512u * 1024);
  ASSERT_EQ(app.rules.size(), 6u);
  EXPECT_EQ(app.rules[0], (ScrapeRule{ScrapeRuleAction::drop, "go_.*", "", "", ""}));
  EXPECT_EQ(app.rules[1], (ScrapeRule{ScrapeRuleAction::keep, "http_.*|db_.*", "", "", ""}));
  EXPECT_EQ(app.rules[2], (ScrapeRule{ScrapeRuleAction::drop, "", "route", "/debug/.*", ""}));
  EXPECT_EQ(app.rules[3], (ScrapeRule{ScrapeRuleAction::keep, "http_.*", "code", "", ""}));
  EXPECT_EQ(app.rules[4], (ScrapeRule{ScrapeRuleAction::rename_label, "", "code", "", "status"}));
  EXPECT_EQ(app.rules[5],
            (ScrapeRule{ScrapeRuleAction::rename_label, "db_.*", "db", "", "database"}));

  const ScrapeTargetConfig& other = config.scrape[1];
  EXPECT_EQ(other.url, "http://[::1]:9000/metrics");
  EXPECT_EQ(other.min_interval, seconds(3600));
  EXPECT_EQ(other.timeout, milliseconds(1));
  EXPECT_EQ(other.bearer_token_file, "/run/secrets/token");
  EXPECT_EQ(other.max_body_bytes, 1000u);
}

TEST(ScrapeConfig, SizesInEveryUnit) {
  const auto size_of = [](std::string_view size) {
    const Config config = loaded(
        "scrape: [{ name: a, url: \"http://a\", max_body_bytes: " + std::string(size) + " }]\n");
    return config.scrape.empty() ? std::uint64_t{0} : config.scrape[0].max_body_bytes;
  };
  EXPECT_EQ(size_of("1"), 1u);
  EXPECT_EQ(size_of("65536"), 65536u);
  EXPECT_EQ(size_of("64KiB"), 64u << 10);
  EXPECT_EQ(size_of("64MiB"), 64u << 20);
  EXPECT_EQ(size_of("2GiB"), 2ull << 30);
  EXPECT_EQ(size_of("1MB"), 1000000u);
  EXPECT_EQ(size_of("1.5KiB"), 1536u);
}

TEST(ScrapeConfig, LabelsKeepFileOrder) {
  const Config config = loaded(
      "scrape:\n  - name: app\n    url: http://a\n    labels:\n      zone: z\n"
      "      app: a\n      Mid_1: m\n      _x: \"\"\n      empty:\n");
  ASSERT_EQ(config.scrape.size(), 1u);
  EXPECT_EQ(config.scrape[0].labels,
            (Labels{{"zone", "z"}, {"app", "a"}, {"Mid_1", "m"}, {"_x", ""}, {"empty", ""}}));
}

// --- environment expansion -----------------------------------------------------------------

TEST(ScrapeConfig, EnvironmentExpansionInValues) {
  const std::string yaml = R"(scrape:
  - name: "${TARGET:-app}"
    url: "http://127.0.0.1:${APP_PORT:-8000}/metrics"
    timeout: "${SCRAPE_TIMEOUT:-5s}"
    labels: { pod: "${POD_NAME:-}", namespace: "${POD_NAMESPACE:-default}", cost: "$$5" }
    bearer_token_file: "${SECRETS:-/run/secrets}/token"
    rules:
      - { action: drop, label: pod, regex: "${DROP_POD:-none}" }
)";
  const Config set = loaded(yaml, env_of({{"POD_NAME", "web-7d9f-abcde"},
                                          {"POD_NAMESPACE", "shop"},
                                          {"APP_PORT", "9100"},
                                          {"SECRETS", "/var/run/s"},
                                          {"DROP_POD", "canary-.*"}}));
  ASSERT_EQ(set.scrape.size(), 1u);
  EXPECT_EQ(set.scrape[0].name, "app");
  EXPECT_EQ(set.scrape[0].url, "http://127.0.0.1:9100/metrics");
  EXPECT_EQ(set.scrape[0].timeout, seconds(5));
  EXPECT_EQ(set.scrape[0].labels,
            (Labels{{"pod", "web-7d9f-abcde"}, {"namespace", "shop"}, {"cost", "$5"}}));
  EXPECT_EQ(set.scrape[0].bearer_token_file, "/var/run/s/token");
  EXPECT_EQ(set.scrape[0].rules.at(0).regex, "canary-.*");

  // Outside a pod the downward API variables are unset: the defaults apply.
  const Config unset = loaded(yaml);
  ASSERT_EQ(unset.scrape.size(), 1u);
  EXPECT_EQ(unset.scrape[0].labels,
            (Labels{{"pod", ""}, {"namespace", "default"}, {"cost", "$5"}}));
  EXPECT_EQ(unset.scrape[0].url, "http://127.0.0.1:8000/metrics");
}

TEST(ScrapeConfig, LabelNamesAreNotExpanded) {
  EXPECT_EQ(errors_of("scrape:\n  - name: a\n    url: http://a\n    labels: { \"${L}\": x }\n",
                      env_of({{"L", "pod"}})),
            Lines{"config.yaml:4:15: scrape[0].labels: invalid label name \"${L}\": expected a "
                  "letter or '_', then letters, digits or '_'"});
}

TEST(ScrapeConfig, ErrorsShowWhatWasWrittenNotTheExpandedValue) {
  const EnvLookup env = env_of({{"SECRETISH", "hunter2"}});
  EXPECT_EQ(
      errors_of(
          "scrape:\n  - { name: a, url: \"${SECRETISH}\", max_body_bytes: \"${SECRETISH}\" }\n",
          env),
      (Lines{"config.yaml:2:21: scrape[0].url: invalid URL \"${SECRETISH}\" (after environment "
             "expansion): expected http:// or https://",
             "config.yaml:2:53: scrape[0].max_body_bytes: invalid size \"${SECRETISH}\" (after "
             "environment expansion): expected a number of bytes or a number with a unit (B, KB, "
             "MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 64MiB"}));
  for (const std::string& line :
       errors_of("scrape:\n  - { name: \"${SECRETISH}!\", url: \"http://a\", labels: { x: [] }, "
                 "timeout: \"${SECRETISH}\", rules: [{ action: \"${SECRETISH}\" }] }\n",
                 env)) {
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
  }
  EXPECT_EQ(errors_of("scrape:\n  - { name: a, url: \"http://a\", labels: { pod: \"${POD}\" } }\n"),
            Lines{"config.yaml:2:48: scrape[0].labels.pod: environment variable POD is not set "
                  "(use ${POD:-default} for a default)"});
}

// --- the list and its targets ----------------------------------------------------------------

TEST(ScrapeConfig, TheSectionIsAListOfMappings) {
  EXPECT_EQ(errors_of("scrape: app\n"),
            Lines{"config.yaml:1:9: scrape: expected a list of scrape targets (use [] for none)"});
  EXPECT_EQ(errors_of("scrape:\n"),
            Lines{"config.yaml:1:1: scrape: expected a list of scrape targets (use [] for none)"});
  EXPECT_EQ(errors_of("scrape:\n  - app\n  - [a]\n"),
            (Lines{"config.yaml:2:5: scrape[0]: expected a scrape target: a mapping with at least "
                   "name and url",
                   "config.yaml:3:5: scrape[1]: expected a scrape target: a mapping with at least "
                   "name and url"}));
}

TEST(ScrapeConfig, NameAndUrlAreRequired) {
  EXPECT_EQ(errors_of("scrape:\n  - url: http://a\n  - name: b\n"),
            (Lines{"config.yaml:2:5: scrape[0]: missing required key \"name\"",
                   "config.yaml:3:5: scrape[1]: missing required key \"url\" (e.g. "
                   "http://127.0.0.1:8000/metrics)"}));
}

TEST(ScrapeConfig, Names) {
  EXPECT_EQ(errors_of("scrape:\n"
                      "  - { name: app, url: \"http://a\" }\n"
                      "  - { name: app, url: \"http://b\" }\n"
                      "  - { name: \"has space\", url: \"http://c\" }\n"
                      "  - { name: \"\", url: \"http://d\" }\n"
                      "  - { name: [x], url: \"http://e\" }\n"),
            (Lines{
                "config.yaml:3:13: scrape[1].name: duplicate target name \"app\" (first at line 2)",
                "config.yaml:4:13: scrape[2].name: invalid target name \"has space\": use letters, "
                "digits, '_', '.' or '-' (it is the target label of covet_sidecar_scrape_*)",
                "config.yaml:5:13: scrape[3].name: invalid target name \"\": use letters, digits, "
                "'_', '.' or '-' (it is the target label of covet_sidecar_scrape_*)",
                "config.yaml:6:13: scrape[4].name: expected a target name, got a list",
            }));
  // Target names are their own namespace: a probe may share one.
  EXPECT_EQ(loaded("probes: [{ name: app, type: memory }]\nscrape: [{ name: app, url: "
                   "\"http://a\" }]\n")
                .scrape.at(0)
                .name,
            "app");
}

TEST(ScrapeConfig, Urls) {
  EXPECT_EQ(errors_of("scrape:\n"
                      "  - { name: a, url: \"ftp://a/metrics\" }\n"
                      "  - { name: b, url: \"http://\" }\n"
                      "  - { name: c, url: \"127.0.0.1:8000/metrics\" }\n"
                      "  - { name: d, url: {} }\n"),
            (Lines{
                "config.yaml:2:21: scrape[0].url: invalid URL \"ftp://a/metrics\": expected "
                "http:// or https://",
                "config.yaml:3:21: scrape[1].url: invalid URL \"http://\": expected a host after "
                "the scheme",
                "config.yaml:4:21: scrape[2].url: invalid URL \"127.0.0.1:8000/metrics\": expected "
                "http:// or https://",
                "config.yaml:5:21: scrape[3].url: expected a URL, got a mapping",
            }));
}

TEST(ScrapeConfig, UnknownKeysWithSuggestion) {
  EXPECT_EQ(
      errors_of(R"(scrape:
  - name: app
    url: https://a
    timout: 5s
    label: { a: b }
    basic_auth: { user: u, password_file: /p }
    tls: { ca: /ca.pem }
    rules:
      - { action: drop, metrc: "x" }
)"),
      (Lines{
          "config.yaml:4:5: scrape[0].timout: unknown key (did you mean \"timeout\"?)",
          "config.yaml:5:5: scrape[0].label: unknown key (did you mean \"labels\"?)",
          "config.yaml:6:5: scrape[0].basic_auth: missing required key \"username\"",
          "config.yaml:6:19: scrape[0].basic_auth.user: unknown key",
          "config.yaml:7:12: scrape[0].tls.ca: unknown key",
          "config.yaml:9:19: scrape[0].rules[0]: a drop rule needs \"metric\" (a regex on metric "
          "names) or \"label\" with \"regex\"",
          "config.yaml:9:25: scrape[0].rules[0].metrc: unknown key (did you mean \"metric\"?)",
      }));
}

TEST(ScrapeConfig, CredentialsInTheUrlAreRefusedWithoutRepeatingThem) {
  const Lines errors =
      target_errors("name: app, url: \"http://user:hunter2@127.0.0.1:8000/metrics\"");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "config.yaml:2:23: scrape[0].url: credentials in a URL are not accepted (they would "
            "show in logs): use a password or token file");
  // An @ in the path or query is not userinfo.
  EXPECT_EQ(
      loaded("scrape:\n  - { name: app, url: \"http://127.0.0.1/m?to=a@b\" }\n").scrape.at(0).url,
      "http://127.0.0.1/m?to=a@b");
}

TEST(ScrapeConfig, TimeoutMustBeBelowTheServersRequestTimeout) {
  // /metrics waits for the fetch; the server cuts the request at request_timeout.
  EXPECT_EQ(errors_of("scrape:\n  - { name: app, url: \"http://127.0.0.1/m\", timeout: 10s }\n"),
            Lines{"config.yaml:2:54: scrape[0].timeout: timeout 10s must be below "
                  "server.request_timeout (10s): /metrics waits for this fetch and is cut at "
                  "request_timeout"});
  EXPECT_EQ(errors_of("server: { request_timeout: 3s }\n"
                      "scrape:\n  - { name: app, url: \"http://127.0.0.1/m\" }\n"),
            Lines{"config.yaml:3:5: scrape[0]: timeout 5s must be below server.request_timeout "
                  "(3s): /metrics waits for this fetch and is cut at request_timeout"});
  EXPECT_EQ(loaded("server: { request_timeout: 30s }\n"
                   "scrape:\n  - { name: app, url: \"http://127.0.0.1/m\", timeout: 20s }\n")
                .scrape.at(0)
                .timeout,
            Duration{20000});
}

// --- durations, bounds ---------------------------------------------------------------------

TEST(ScrapeConfig, TimeoutAndMinInterval) {
  EXPECT_EQ(target_errors(std::string(kApp) + ", timeout: 0s"),
            Lines{"config.yaml:2:65: scrape[0].timeout: must be greater than 0s, got \"0s\""});
  EXPECT_EQ(target_errors(std::string(kApp) + ", timeout: 1m1ms"),
            Lines{"config.yaml:2:65: scrape[0].timeout: must be at most 1m, got \"1m1ms\""});
  EXPECT_EQ(target_errors(std::string(kApp) + ", timeout: 5"),
            Lines{"config.yaml:2:65: scrape[0].timeout: invalid duration \"5\": missing unit (ms, "
                  "s, m, h), e.g. 5s or 5ms"});
  EXPECT_EQ(target_errors(std::string(kApp) + ", min_interval: -1s"),
            Lines{"config.yaml:2:70: scrape[0].min_interval: invalid duration \"-1s\": must not be "
                  "negative"});
  EXPECT_EQ(target_errors(std::string(kApp) + ", min_interval: 1h1s"),
            Lines{"config.yaml:2:70: scrape[0].min_interval: must be at most 1h, got \"1h1s\""});
}

TEST(ScrapeConfig, MaxSeriesAndMaxBodyBytes) {
  EXPECT_EQ(target_errors(std::string(kApp) + ", max_series: 0"),
            Lines{"config.yaml:2:68: scrape[0].max_series: must be between 1 and 4294967295, got "
                  "\"0\""});
  EXPECT_EQ(target_errors(std::string(kApp) + ", max_series: 4294967296"),
            Lines{"config.yaml:2:68: scrape[0].max_series: must be between 1 and 4294967295, got "
                  "\"4294967296\""});
  EXPECT_EQ(
      target_errors(std::string(kApp) + ", max_body_bytes: 0"),
      Lines{"config.yaml:2:72: scrape[0].max_body_bytes: must be greater than 0B, got \"0\""});
  EXPECT_EQ(target_errors(std::string(kApp) + ", max_body_bytes: 0MiB"),
            Lines{"config.yaml:2:72: scrape[0].max_body_bytes: must be greater than 0B, got "
                  "\"0MiB\""});
  EXPECT_EQ(
      target_errors(std::string(kApp) + ", max_body_bytes: 64M"),
      Lines{"config.yaml:2:72: scrape[0].max_body_bytes: invalid size \"64M\": expected a "
            "number of bytes or a number with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), "
            "e.g. 64MiB"});
  EXPECT_EQ(target_errors(std::string(kApp) + ", max_body_bytes: -1"),
            Lines{"config.yaml:2:72: scrape[0].max_body_bytes: invalid size \"-1\": must not be "
                  "negative"});
  EXPECT_EQ(target_errors(std::string(kApp) + ", max_body_bytes: [1]"),
            Lines{"config.yaml:2:72: scrape[0].max_body_bytes: expected a size, got a list"});
}

// --- labels ---------------------------------------------------------------------------------

TEST(ScrapeConfig, LabelErrors) {
  EXPECT_EQ(
      errors_of(R"(scrape:
  - name: app
    url: http://a
    labels:
      1pod: x
      __name__: x
      pod-name: x
      pod: a
      pod: b
      list: [a]
      ok: fine
      ? [k]
      : v
  - { name: b, url: "http://b", labels: [pod] }
)"),
      (Lines{
          "config.yaml:5:7: scrape[0].labels: invalid label name \"1pod\": expected a letter or "
          "'_', then letters, digits or '_'",
          "config.yaml:6:7: scrape[0].labels: invalid label name \"__name__\": names starting "
          "with \"__\" are reserved for Prometheus",
          "config.yaml:7:7: scrape[0].labels: invalid label name \"pod-name\": expected a letter "
          "or '_', then letters, digits or '_'",
          "config.yaml:9:7: scrape[0].labels.pod: duplicate label (first at line 8)",
          "config.yaml:10:13: scrape[0].labels.list: expected a string, got a list",
          "config.yaml:12:9: scrape[0].labels: keys must be plain strings",
          "config.yaml:14:41: scrape[1].labels: expected a mapping of label names to values",
      }));
}

// --- credentials ----------------------------------------------------------------------------

TEST(ScrapeConfig, BearerTokenFile) {
  EXPECT_EQ(target_errors(std::string(kApp) + ", bearer_token_file: token"),
            Lines{"config.yaml:2:75: scrape[0].bearer_token_file: expected an absolute path, got "
                  "\"token\""});
}

TEST(ScrapeConfig, BasicAuth) {
  EXPECT_EQ(errors_of(R"(scrape:
  - name: a
    url: http://a
    basic_auth:
  - name: b
    url: http://b
    basic_auth: { username: "", password_file: p }
  - name: c
    url: http://c
    basic_auth: { username: "u:x", password_file: /p }
  - name: d
    url: http://d
    basic_auth: /p
  - name: e
    url: http://e
    basic_auth: { password_file: /p }
)"),
            (Lines{
                "config.yaml:4:5: scrape[0].basic_auth: missing required key \"username\"",
                "config.yaml:4:5: scrape[0].basic_auth: missing required key \"password_file\" "
                "(the file holding the password)",
                "config.yaml:7:29: scrape[1].basic_auth.username: expected a non-empty user name",
                "config.yaml:7:48: scrape[1].basic_auth.password_file: expected an absolute path, "
                "got \"p\"",
                "config.yaml:10:29: scrape[2].basic_auth.username: a basic auth user name cannot "
                "contain ':'",
                "config.yaml:13:17: scrape[3].basic_auth: expected a mapping, got a value",
                "config.yaml:16:5: scrape[4].basic_auth: missing required key \"username\"",
            }));
}

TEST(ScrapeConfig, BearerTokenAndBasicAuthAreExclusive) {
  EXPECT_EQ(errors_of(R"(scrape:
  - name: a
    url: http://a
    bearer_token_file: /t
    basic_auth: { username: u, password_file: /p }
  - name: b
    url: http://b
    basic_auth: { username: u, password_file: /p }
    bearer_token_file: /t
)"),
            (Lines{
                "config.yaml:5:5: scrape[0]: set only one of \"bearer_token_file\" and "
                "\"basic_auth\"",
                "config.yaml:9:24: scrape[1]: set only one of \"bearer_token_file\" and "
                "\"basic_auth\"",
            }));
}

// --- tls --------------------------------------------------------------------------------------

TEST(ScrapeConfig, TlsErrors) {
  EXPECT_EQ(errors_of(R"(scrape:
  - name: a
    url: http://a/metrics
    tls: { insecure_skip_verify: true }
  - name: b
    url: https://b/metrics
    tls:
      ca_file: ca.pem
      cert_file: /c.pem
      server_name: "b:443"
      insecure_skip_verify: yes
  - name: c
    url: https://c/metrics
    tls: { key_file: /k.pem }
  - name: d
    url: https://d/metrics
    tls: [x]
)"),
            (Lines{
                "config.yaml:4:5: scrape[0].tls: tls is set but url is http://",
                "config.yaml:8:16: scrape[1].tls.ca_file: expected an absolute path, got "
                "\"ca.pem\"",
                "config.yaml:9:18: scrape[1].tls.cert_file: \"cert_file\" needs \"key_file\" (the "
                "client certificate's private key)",
                "config.yaml:10:20: scrape[1].tls.server_name: invalid server name \"b:443\": "
                "expected a host name such as app.example.com, without a port",
                "config.yaml:11:29: scrape[1].tls.insecure_skip_verify: expected true or false, "
                "got \"yes\"",
                "config.yaml:14:22: scrape[2].tls.key_file: \"key_file\" needs \"cert_file\" (the "
                "client certificate)",
                "config.yaml:17:10: scrape[3].tls: expected a mapping, got a list",
            }));
  // An IP literal is a server name too.
  EXPECT_EQ(loaded("scrape: [{ " + std::string(kAppTls) + ", tls: { server_name: \"::1\" } }]\n")
                .scrape.at(0)
                .tls.server_name,
            "::1");
}

// --- rules ------------------------------------------------------------------------------------

TEST(ScrapeConfig, RuleShapes) {
  EXPECT_EQ(errors_of(R"(scrape:
  - name: a
    url: http://a
    rules:
      - drop
      - { metric: "go_.*" }
      - { action: remove, metric: "go_.*" }
      - { action: keep }
      - { action: drop, label: route }
      - { action: drop, regex: "/x" }
      - { action: drop, metric: "x", to: y }
  - { name: b, url: "http://b", rules: { action: drop } }
)"),
            (Lines{
                "config.yaml:5:9: scrape[0].rules[0]: expected a rule: a mapping with at least "
                "action",
                "config.yaml:6:9: scrape[0].rules[1]: missing required key \"action\" (keep, drop "
                "or rename_label)",
                "config.yaml:7:19: scrape[0].rules[2].action: expected one of keep, drop, "
                "rename_label, got \"remove\"",
                "config.yaml:8:19: scrape[0].rules[3]: a keep rule needs \"metric\" (a regex on "
                "metric names) or \"label\" with \"regex\"",
                "config.yaml:9:32: scrape[0].rules[4].label: \"label\" needs \"regex\" (matched "
                "against the label's value)",
                "config.yaml:10:32: scrape[0].rules[5].regex: \"regex\" needs \"label\" (the label "
                "whose value it matches)",
                "config.yaml:11:42: scrape[0].rules[6].to: \"to\" is only used by rename_label",
                "config.yaml:12:40: scrape[1].rules: expected a list of rules (use [] for none)",
            }));
}

TEST(ScrapeConfig, RenameLabelRules) {
  EXPECT_EQ(errors_of(R"(scrape:
  - name: a
    url: http://a
    rules:
      - { action: rename_label, to: status }
      - { action: rename_label, label: code }
      - { action: rename_label, label: code, to: status, regex: "5.." }
      - { action: rename_label, label: le, to: bucket }
      - { action: rename_label, label: q, to: quantile }
      - { action: rename_label, label: code, to: code }
      - { action: rename_label, label: code, to: "__code" }
      - { action: rename_label, label: "a-b", to: ab }
      - { action: rename_label, label: quantile, to: quantile }
)"),
            (Lines{
                "config.yaml:5:19: scrape[0].rules[0]: a rename_label rule needs \"label\" (the "
                "label to rename)",
                "config.yaml:6:19: scrape[0].rules[1]: a rename_label rule needs \"to\" (the new "
                "name)",
                "config.yaml:7:65: scrape[0].rules[2].regex: \"regex\" is not used by "
                "rename_label (use \"metric\" to choose families)",
                "config.yaml:8:40: scrape[0].rules[3].label: cannot rename \"le\": histograms and "
                "summaries need it",
                "config.yaml:9:47: scrape[0].rules[4].to: cannot rename to \"quantile\": "
                "histograms and summaries need it",
                "config.yaml:10:50: scrape[0].rules[5].to: \"to\" is the same as \"label\"",
                "config.yaml:11:50: scrape[0].rules[6].to: invalid label name \"__code\": names "
                "starting with \"__\" are reserved for Prometheus",
                "config.yaml:12:40: scrape[0].rules[7].label: invalid label name \"a-b\": expected "
                "a letter or '_', then letters, digits or '_'",
                // One mistake, not also "the same as label".
                "config.yaml:13:40: scrape[0].rules[8].label: cannot rename \"quantile\": "
                "histograms and summaries need it",
                "config.yaml:13:54: scrape[0].rules[8].to: cannot rename to \"quantile\": "
                "histograms and summaries need it",
            }));
}

TEST(ScrapeConfig, RegexesMustCompile) {
  EXPECT_EQ(errors_of(R"(scrape:
  - name: a
    url: http://a
    rules:
      - { action: drop, metric: "go_(" }
      - { action: drop, label: route, regex: "[a-" }
      - { action: keep, metric: "" }
      - { action: keep, metric: [x] }
)"),
            (Lines{
                "config.yaml:5:33: scrape[0].rules[0].metric: invalid regular expression "
                "\"go_(\": Mismatched '(' and ')' in regular expression",
                "config.yaml:6:46: scrape[0].rules[1].regex: invalid regular expression \"[a-\": "
                "Invalid end of '[x-x]' range in regular expression",
                "config.yaml:7:33: scrape[0].rules[2].metric: expected a non-empty regular "
                "expression (leave metric out to match every metric)",
                "config.yaml:8:33: scrape[0].rules[3].metric: expected a regular expression, got "
                "a list",
            }));
}

// --- many targets: the valid ones are not blamed ---------------------------------------------

TEST(ScrapeConfig, ErrorsOfSeveralTargetsInFileOrder) {
  const LoadResult result = load_config_text(R"(scrape:
  - { name: a, url: "http://a", timeout: 2m }
  - { name: ok, url: "http://ok" }
  - { name: c, url: "https://c", max_series: 0 }
)",
                                             env_of());
  EXPECT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.errors[0].key, "scrape[0].timeout");
  EXPECT_EQ(result.errors[1].key, "scrape[2].max_series");
}

// --- printing ---------------------------------------------------------------------------------

Config reload(const std::string& printed) {
  const LoadResult result = load_config_text(printed, env_of());
  for (const ConfigError& error : result.errors) ADD_FAILURE() << error.to_string("printed");
  EXPECT_TRUE(result.config.has_value()) << printed;
  return result.config.value_or(Config{});
}

std::string scrape_section(const std::string& printed) {
  const std::size_t start = printed.find("\nscrape:");
  return start == std::string::npos ? std::string() : printed.substr(start + 1);
}

TEST(ScrapeConfig, PrintsTheDefaultsOfATarget) {
  const Config config = loaded("scrape: [{ name: app, url: \"http://127.0.0.1:8000/metrics\" }]\n");
  EXPECT_EQ(scrape_section(print_effective_config(config)), R"(scrape:
  - name: app
    url: http://127.0.0.1:8000/metrics
    timeout: 5s
    min_interval: 1s
    labels: {}
    max_series: 50000
    max_body_bytes: 64MiB
    rules: []
)");
  EXPECT_EQ(scrape_section(print_effective_config(default_config())), "scrape: []\n");
}

TEST(ScrapeConfig, PrintsEverySettingAndNoFileContents) {
  const std::string yaml = R"(scrape:
  - name: app
    url: https://app.test/metrics
    labels: { pod: "${POD_NAME:-}", namespace: prod, "null": "$$HOME" }
    basic_auth: { username: scraper, password_file: /run/secrets/p }
    tls: { ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, server_name: app.internal }
    max_body_bytes: 1000
    rules:
      - { action: keep, metric: "http_.*|db_.*" }
      - { action: drop, label: route, regex: "" }
      - { action: rename_label, metric: "x$", label: code, to: status }
  - { name: other, url: "https://o.test/", bearer_token_file: /t }
)";
  const Config config = loaded(yaml, env_of({{"POD_NAME", "web-0"}}));
  const std::string printed = print_effective_config(config);
  EXPECT_EQ(scrape_section(printed), R"(scrape:
  - name: app
    url: https://app.test/metrics
    timeout: 5s
    min_interval: 1s
    labels:
      pod: web-0
      namespace: prod
      "null": "$$HOME"
    basic_auth:
      username: scraper
      password_file: /run/secrets/p
    tls:
      ca_file: /ca.pem
      cert_file: /c.pem
      key_file: /k.pem
      server_name: app.internal
      insecure_skip_verify: false
    max_series: 50000
    max_body_bytes: 1000B
    rules:
      - action: keep
        metric: "http_.*|db_.*"
      - action: drop
        label: route
        regex: ""
      - action: rename_label
        metric: "x$$"
        label: code
        to: status
  - name: other
    url: https://o.test/
    timeout: 5s
    min_interval: 1s
    labels: {}
    bearer_token_file: /t
    tls:
      insecure_skip_verify: false
    max_series: 50000
    max_body_bytes: 64MiB
    rules: []
)") << printed;
  EXPECT_EQ(reload(printed), config);
}

TEST(ScrapeConfig, EveryFieldChangedRoundTrips) {
  ScrapeTargetConfig target;
  target.name = "a.b_c-d";
  target.url = "https://[::1]:8443/metrics?x=1&y=${Z}";
  target.timeout = Duration{1};
  target.min_interval = Duration{0};
  target.labels = {{"pod", "p: #1 \"q\""}, {"ns", ""}, {"_u", "ünï"}};
  target.bearer_token_file = "/run/secrets/my token";
  target.tls = {"/a/ca.pem", "/a/c.pem", "/a/k.pem", "::1", true};
  target.max_series = 1;
  target.max_body_bytes = 1;
  target.rules = {{ScrapeRuleAction::keep, "a|b", "", "", ""},
                  {ScrapeRuleAction::drop, "", "l", "\\d+$", ""},
                  {ScrapeRuleAction::keep, "m", "l", "", ""},
                  {ScrapeRuleAction::rename_label, "", "from", "", "to"}};
  ScrapeTargetConfig second;
  second.name = "b";
  second.url = "http://b";
  second.basic_auth_username = "u";
  second.basic_auth_password_file = "/p";
  Config config = default_config();
  config.scrape = {target, second};
  EXPECT_EQ(reload(print_effective_config(config)), config);
}

// --- the shipped example ------------------------------------------------------------------------

// The example config's scrape section is commented out (scraping an app that is not there would
// only log errors); uncommented, it must load.
TEST(ScrapeConfig, TheExampleConfigsScrapeSectionIsValidWhenUncommented) {
  const std::string path = COVET_FIXTURES_DIR "/../../config/examples/config.yaml";
  std::ifstream file(path);
  ASSERT_TRUE(file) << path;
  std::string section;
  std::string line;
  bool inside = false;
  while (std::getline(file, line)) {
    if (line == "# scrape:") inside = true;
    if (!inside) continue;
    if (!line.starts_with("#")) break;  // the first line that is not commented ends it
    // "#   - name: app" -> "  - name: app"; "# scrape:" -> "scrape:"; prose ("# # ...") stays
    // a comment.
    section += line.size() > 1 ? line.substr(2) : std::string();
    section += '\n';
  }
  ASSERT_FALSE(section.empty()) << "no \"# scrape:\" line in " << path;
  const Config config = loaded(section, env_of({{"POD_NAME", "web-0"}, {"POD_NAMESPACE", "shop"}}));
  ASSERT_FALSE(config.scrape.empty()) << section;
  const ScrapeTargetConfig& app = config.scrape[0];
  EXPECT_EQ(app.url, "http://127.0.0.1:8000/metrics");
  const auto has_label = [&](const std::string& name, const std::string& value) {
    return std::find(app.labels.begin(), app.labels.end(), std::pair(name, value)) !=
           app.labels.end();
  };
  EXPECT_TRUE(has_label("pod", "web-0")) << section;
  EXPECT_TRUE(has_label("namespace", "shop")) << section;
  EXPECT_TRUE(has_label("container", "app")) << section;
  EXPECT_EQ(reload(print_effective_config(config)), config);
}

}  // namespace
}  // namespace covet::config
