// The `tls` probe type's keys: defaults, every key, errors with positions, printing.

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

TEST(TlsProbeConfig, DefaultsTakeTheServerNameFromTheAddress) {
  const Config config = loaded("probes: [{ name: cert, type: tls, address: \"db.test:5432\" }]\n");
  const ProbeConfig& probe = config.probes.at(0);
  EXPECT_EQ(probe.type, "tls");
  const auto& tls = std::get<TlsProbeConfig>(probe.settings);
  EXPECT_EQ(tls.address, "db.test:5432");
  EXPECT_EQ(tls.server_name, "db.test");
  EXPECT_EQ(tls.ca_file, "");
  EXPECT_EQ(tls.starttls, StartTls::none);
  EXPECT_EQ(tls.warn_days, 14);
  EXPECT_EQ(tls.fail_days, 3);

  const Config v6 = loaded("probes: [{ name: cert, type: tls, address: \"[::1]:443\" }]\n");
  EXPECT_EQ(std::get<TlsProbeConfig>(v6.probes.at(0).settings).server_name, "::1");
}

TEST(TlsProbeConfig, EveryKeyAndPrintedBack) {
  const std::string yaml =
      "probes:\n"
      "  - name: cert\n"
      "    type: tls\n"
      "    address: 127.0.0.1:5432\n"
      "    server_name: db.example.com\n"
      "    ca_file: /etc/ssl/db-ca.pem\n"
      "    starttls: postgres\n"
      "    warn_days: 30\n"
      "    fail_days: 7.5\n";
  const Config config = loaded(yaml);
  const auto& tls = std::get<TlsProbeConfig>(config.probes.at(0).settings);
  EXPECT_EQ(tls.server_name, "db.example.com");
  EXPECT_EQ(tls.ca_file, "/etc/ssl/db-ca.pem");
  EXPECT_EQ(tls.starttls, StartTls::postgres);
  EXPECT_EQ(tls.warn_days, 30);
  EXPECT_EQ(tls.fail_days, 7.5);

  const std::string printed = print_effective_config(config);
  EXPECT_NE(printed.find("    address: 127.0.0.1:5432\n"
                         "    server_name: db.example.com\n"
                         "    ca_file: /etc/ssl/db-ca.pem\n"
                         "    starttls: postgres\n"
                         "    warn_days: 30\n"
                         "    fail_days: 7.5\n"),
            std::string::npos)
      << printed;
  EXPECT_EQ(loaded(printed), config);  // what is printed loads back the same
}

TEST(TlsProbeConfig, Errors) {
  EXPECT_EQ(errors_of("probes:\n"
                      "  - name: cert\n"
                      "    type: tls\n"
                      "    server_name: \"db.test:443\"\n"
                      "    ca_file: certs/ca.pem\n"
                      "    starttls: mysql\n"
                      "    warn_days: -1\n"
                      "    fail_days: 10\n"
                      "    sni: x\n"),
            (Lines{
                "config.yaml:3:11: probes[0]: missing required key \"address\" (host:port, e.g. "
                "127.0.0.1:443)",
                "config.yaml:4:18: probes[0].server_name: invalid server name \"db.test:443\": "
                "expected a host name such as db.example.com, without a port",
                "config.yaml:5:14: probes[0].ca_file: expected an absolute path, got "
                "\"certs/ca.pem\"",
                "config.yaml:6:15: probes[0].starttls: expected one of none, postgres, got "
                "\"mysql\"",
                "config.yaml:7:16: probes[0].warn_days: must be between 0 and 3650, got \"-1\"",
                "config.yaml:9:5: probes[0].sni: unknown key",
            }));
  EXPECT_EQ(errors_of("probes: [{ name: c, type: tls, address: x:1, warn_days: 2 }]\n"),
            Lines{"config.yaml:1:57: probes[0].warn_days: must be at least probes[0].fail_days "
                  "(3 by default)"});
  EXPECT_EQ(errors_of("probes: [{ name: c, type: tls, address: x:1, fail_days: 20 }]\n"),
            Lines{"config.yaml:1:57: probes[0].fail_days: must not exceed probes[0].warn_days "
                  "(14 by default)"});
}

}  // namespace
}  // namespace covet::config
