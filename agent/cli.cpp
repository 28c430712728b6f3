#include "agent/cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <optional>

#include "agent/agent.h"
#include "agent/healthcheck_client.h"
#include "agent/logging.h"
#include "agent/probe_once.h"
#include "config/duration.h"
#include "config/loader.h"
#include "config/printer.h"
#include "covet/version.h"

namespace covet {
namespace {

constexpr std::string_view kUsage =
    "usage: covet-sidecar [--config FILE]           run the agent\n"
    "       covet-sidecar --check-config FILE       validate FILE, print the effective config\n"
    "       covet-sidecar probe [--config FILE]     run every probe once, print, exit 0/1\n"
    "       covet-sidecar healthcheck URL [--timeout 5s]   exit 0 when URL answers 2xx\n"
    "       covet-sidecar --version\n"
    "\n"
    "Without --config, "
    "/etc/covet-sidecar/config.yaml is used when it exists, else a\n"
    "default: listener on 0.0.0.0:8099, a disk probe on / and a memory probe.\n";

struct ConfigChoice {
  std::optional<config::Config> config;
  std::string source;  // "FILE" or "built-in default"
};

ConfigChoice load(const std::optional<std::string>& path, std::ostream& err) {
  ConfigChoice choice;
  std::string file;
  if (path) {
    file = *path;
  } else if (access(kDefaultConfigPath, F_OK) == 0) {
    file = kDefaultConfigPath;
  } else {
    choice.config = config::default_config();
    choice.source = "built-in default";
    return choice;
  }
  config::LoadResult result = config::load_config_file(file, config::process_env());
  for (const config::ConfigError& error : result.errors) err << error.to_string(file) << "\n";
  if (!result.errors.empty()) {
    err << fmt::format("{}: {} error{}\n", file, result.errors.size(),
                       result.errors.size() == 1 ? "" : "s");
  }
  choice.config = std::move(result.config);
  choice.source = file;
  return choice;
}

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::optional<std::string> config_path;
  std::optional<std::string> check_path;
  std::string command = "run";
  std::string healthcheck_url;
  config::Duration healthcheck_timeout{5000};

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string_view flag) -> std::optional<std::string> {
      if (i + 1 >= args.size()) {
        err << fmt::format("covet-sidecar: {} needs a value\n{}", flag, kUsage);
        return std::nullopt;
      }
      return args[++i];
    };
    if (arg == "--version" || arg == "version") {
      out << fmt::format("covet-sidecar {} ({})\n", kVersion, kGitRevision);
      return 0;
    } else if (arg == "--help" || arg == "-h" || arg == "help") {
      out << kUsage;
      return 0;
    } else if (arg == "--config" || arg == "-c") {
      config_path = value(arg);
      if (!config_path) return 2;
    } else if (arg == "--check-config") {
      check_path = value(arg);
      if (!check_path) return 2;
      command = "check-config";
    } else if (arg == "probe" && command == "run") {
      command = "probe";
    } else if (arg == "healthcheck" && command == "run") {
      command = "healthcheck";
      auto url = value(arg);
      if (!url) return 2;
      healthcheck_url = *url;
    } else if (arg == "--timeout" && command == "healthcheck") {
      auto text = value(arg);
      if (!text) return 2;
      auto parsed = config::parse_duration(*text);
      if (!parsed.value) {
        err << "covet-sidecar: --timeout: " << parsed.error << "\n";
        return 2;
      }
      healthcheck_timeout = *parsed.value;
    } else {
      err << fmt::format("covet-sidecar: unknown argument \"{}\"\n{}", arg, kUsage);
      return 2;
    }
  }

  if (command == "healthcheck") {
    HealthcheckOutcome outcome = run_healthcheck(healthcheck_url, healthcheck_timeout);
    (outcome.exit_code == 0 ? out : err) << outcome.message << "\n";
    return outcome.exit_code;
  }
  if (command == "check-config") {
    ConfigChoice choice = load(check_path, err);
    if (!choice.config) return 1;
    out << config::print_effective_config(*choice.config);
    return 0;
  }
  ConfigChoice choice = load(config_path, err);
  if (!choice.config) return 1;
  if (command == "probe") return run_probes_once(*choice.config, out);

  Logger log(choice.config->log.format, choice.config->log.level);
  log.info("configuration loaded", {{"source", choice.source}});
  SystemClock clock;
  Agent agent(std::move(*choice.config), log, clock);
  return agent.run();
}

}  // namespace covet
