// The `http` and `tcp` probe types' keys: defaults, every key, and errors with positions.

#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/printer.h"

namespace covet::config {
namespace {

using Lines = std::vector<std::string>;

EnvLookup no_env() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

Config loaded(std::string_view yaml) {
  const LoadResult result = load_config_text(yaml, no_env());
  for (const ConfigError& error : result.errors) ADD_FAILURE() << error.to_string("config.yaml");
  EXPECT_TRUE(result.config.has_value());
  return result.config.value_or(Config{});
}

Lines errors_of(std::string_view yaml) {
  const LoadResult result = load_config_text(yaml, no_env());
  EXPECT_FALSE(result.config.has_value()) << "config loaded despite errors";
  Lines lines;
  for (const ConfigError& error : result.errors) lines.push_back(error.to_string("config.yaml"));
  return lines;
}

TEST(HttpProbeConfig, Defaults) {
  const Config config =
      loaded("probes: [{ name: app, type: http, url: \"http://127.0.0.1:8000/health/live\" }]\n");
  const ProbeConfig& probe = config.probes.at(0);
  EXPECT_EQ(probe.type, "http");
  const auto& http = std::get<HttpProbeConfig>(probe.settings);
  EXPECT_EQ(http.url, "http://127.0.0.1:8000/health/live");
  EXPECT_EQ(http.method, "GET");
  EXPECT_EQ(http.expected_status, (std::vector<StatusRange>{{200, 399}}));
  EXPECT_EQ(http.body_contains, "");
  EXPECT_TRUE(http.headers.empty());
  EXPECT_TRUE(http.tls_verify);
}

TEST(HttpProbeConfig, EveryKey) {
  const Config config = loaded(
      "probes:\n"
      "  - name: app\n"
      "    type: http\n"
      "    url: https://app.internal/ready\n"
      "    method: HEAD\n"
      "    expected_status: [200, \"204-206\"]\n"
      "    body_contains: UP\n"
      "    headers: { Host: app.example, X-Probe: \"1\" }\n"
      "    tls_verify: false\n"
      "    roles: [liveness]\n");
  const auto& http = std::get<HttpProbeConfig>(config.probes.at(0).settings);
  EXPECT_EQ(http.url, "https://app.internal/ready");
  EXPECT_EQ(http.method, "HEAD");
  EXPECT_EQ(http.expected_status, (std::vector<StatusRange>{{200, 200}, {204, 206}}));
  EXPECT_EQ(http.body_contains, "UP");
  EXPECT_EQ(http.headers, (std::vector<std::pair<std::string, std::string>>{{"Host", "app.example"},
                                                                            {"X-Probe", "1"}}));
  EXPECT_FALSE(http.tls_verify);
  EXPECT_EQ(config.probes.at(0).roles, kLiveness);
  EXPECT_EQ(
      std::get<HttpProbeConfig>(
          loaded("probes: [{ name: a, type: http, url: \"http://a\", expected_status: 204 }]\n")
              .probes.at(0)
              .settings)
          .expected_status,
      (std::vector<StatusRange>{{204, 204}}));
}

TEST(HttpProbeConfig, Errors) {
  EXPECT_EQ(
      errors_of("probes:\n"
                "  - { name: a, type: http }\n"
                "  - { name: b, type: http, url: \"ftp://x/\" }\n"
                "  - { name: c, type: http, url: \"http://\" }\n"
                "  - { name: d, type: http, url: \"http://x\", method: PUT }\n"
                "  - { name: e, type: http, url: \"http://x\", expected_status: \"399-200\" }\n"
                "  - { name: f, type: http, url: \"http://x\", expected_status: [200, 7] }\n"
                "  - { name: g, type: http, url: \"http://x\", expected_status: [] }\n"
                "  - { name: h, type: http, url: \"http://x\", headers: [a] }\n"
                "  - { name: i, type: http, url: \"http://x\", headers: { \"a b\": c } }\n"
                "  - { name: j, type: http, url: \"http://x\", tls_verify: maybe }\n"
                "  - { name: k, type: http, url: \"http://x\", urls: y }\n"),
      (Lines{
          "config.yaml:2:22: probes[0]: missing required key \"url\" (e.g. "
          "http://127.0.0.1:8000/health/live)",
          "config.yaml:3:33: probes[1].url: invalid URL \"ftp://x/\": expected http:// or "
          "https://",
          "config.yaml:4:33: probes[2].url: invalid URL \"http://\": expected a host after "
          "the scheme",
          "config.yaml:5:53: probes[3].method: expected one of GET, HEAD, POST, got \"PUT\"",
          "config.yaml:6:62: probes[4].expected_status: invalid status range \"399-200\": "
          "the first code is greater than the second",
          "config.yaml:7:68: probes[5].expected_status[1]: invalid status range \"7\": "
          "expected a status code from 100 to 599 or a range like 200-399",
          "config.yaml:8:62: probes[6].expected_status: expected at least one status code "
          "or range",
          "config.yaml:9:54: probes[7].headers: expected a mapping of header names to values",
          "config.yaml:10:56: probes[8].headers: invalid header name \"a b\"",
          "config.yaml:11:57: probes[9].tls_verify: expected true or false, got \"maybe\"",
          "config.yaml:12:45: probes[10].urls: unknown key (did you mean \"url\"?)",
      }));
}

TEST(TcpProbeConfig, AddressIsRequiredAndChecked) {
  const Config config = loaded(
      "probes:\n"
      "  - { name: a, type: tcp, address: \"127.0.0.1:8000\" }\n"
      "  - { name: b, type: tcp, address: \"[::1]:8000\" }\n"
      "  - { name: c, type: tcp, address: \"app:8000\" }\n");
  EXPECT_EQ(std::get<TcpProbeConfig>(config.probes.at(0).settings).address, "127.0.0.1:8000");
  EXPECT_EQ(std::get<TcpProbeConfig>(config.probes.at(1).settings).address, "[::1]:8000");
  EXPECT_EQ(std::get<TcpProbeConfig>(config.probes.at(2).settings).address, "app:8000");
  EXPECT_EQ(errors_of("probes:\n"
                      "  - { name: a, type: tcp }\n"
                      "  - { name: b, type: tcp, address: \"app\" }\n"
                      "  - { name: c, type: tcp, address: \"app:70000\" }\n"
                      "  - { name: d, type: tcp, address: x:1, url: y }\n"),
            (Lines{
                "config.yaml:2:22: probes[0]: missing required key \"address\" (host:port, e.g. "
                "127.0.0.1:8000)",
                "config.yaml:3:36: probes[1].address: invalid address \"app\": expected host:port, "
                "e.g. 127.0.0.1:8000, [::1]:8000 or app:8000",
                "config.yaml:4:36: probes[2].address: invalid address \"app:70000\": the port "
                "must be a number from 1 to 65535",
                "config.yaml:5:41: probes[3].url: unknown key",
            }));
}

TEST(AppProbesConfig, PrintedConfigLoadsBackWithHeaderValuesRedacted) {
  const Config config = loaded(
      "probes:\n"
      "  - name: app\n"
      "    type: http\n"
      "    url: http://127.0.0.1:8000/health\n"
      "    expected_status: [200, 500-503]\n"
      "    body_contains: \"ok: $$HOME\"\n"
      "    headers: { Authorization: Bearer secret-token }\n"
      "  - { name: port, type: tcp, address: \"[::1]:8000\" }\n");
  const std::string printed = print_effective_config(config);
  EXPECT_EQ(printed.find("secret-token"), std::string::npos) << printed;
  EXPECT_NE(printed.find("expected_status: [200, 500-503]"), std::string::npos) << printed;
  EXPECT_NE(printed.find("Authorization: \"<redacted>\""), std::string::npos) << printed;
  Config reloaded = loaded(printed);
  auto& http = std::get<HttpProbeConfig>(reloaded.probes.at(0).settings);
  EXPECT_EQ(http.headers.at(0).second, "<redacted>");
  http.headers = std::get<HttpProbeConfig>(config.probes.at(0).settings).headers;
  EXPECT_EQ(reloaded, config);
}

}  // namespace
}  // namespace covet::config
