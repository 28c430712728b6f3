// The `process` probe type's keys: defaults, every key, the one-selector rule and errors
// with positions.

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

TEST(ProcessProbeConfig, Defaults) {
  const Config config = loaded("probes: [{ name: app, type: process, cmdline: \"gunicorn\" }]\n");
  const ProbeConfig& probe = config.probes.at(0);
  EXPECT_EQ(probe.type, "process");
  const auto& process = std::get<ProcessProbeConfig>(probe.settings);
  EXPECT_EQ(process.cmdline, "gunicorn");
  EXPECT_EQ(process.pid_file, "");
  EXPECT_EQ(process.cgroup, "");
  EXPECT_EQ(process.fd_warn_percent, 80);
  EXPECT_EQ(process.fd_fail_percent, 95);
  EXPECT_EQ(process.proc_root, "/proc");
}

TEST(ProcessProbeConfig, EachSelectorAndEveryKey) {
  const Config config = loaded(
      "probes:\n"
      "  - { name: a, type: process, pid_file: /run/app.pid }\n"
      "  - { name: b, type: process, cgroup: /system.slice/app.service }\n"
      "  - name: c\n"
      "    type: process\n"
      "    cmdline: '^/usr/bin/python3 .*app\\.py( |$$)'\n"
      "    fd_warn_percent: 50\n"
      "    fd_fail_percent: 100\n"
      "    proc_root: /host/proc\n");
  EXPECT_EQ(std::get<ProcessProbeConfig>(config.probes.at(0).settings).pid_file, "/run/app.pid");
  EXPECT_EQ(std::get<ProcessProbeConfig>(config.probes.at(1).settings).cgroup,
            "/system.slice/app.service");
  const auto& c = std::get<ProcessProbeConfig>(config.probes.at(2).settings);
  EXPECT_EQ(c.cmdline, "^/usr/bin/python3 .*app\\.py( |$)");
  EXPECT_EQ(c.fd_warn_percent, 50);
  EXPECT_EQ(c.fd_fail_percent, 100);
  EXPECT_EQ(c.proc_root, "/host/proc");
}

TEST(ProcessProbeConfig, ExactlyOneSelector) {
  EXPECT_EQ(errors_of("probes:\n"
                      "  - { name: a, type: process }\n"
                      "  - { name: b, type: process, pid_file: /run/a.pid, cmdline: app }\n"
                      "  - name: c\n"
                      "    type: process\n"
                      "    cgroup: /app.service\n"
                      "    pid_file: /run/c.pid\n"
                      "    cmdline: c\n"),
            (Lines{
                "config.yaml:2:22: probes[0]: missing a process selector: set exactly one of "
                "pid_file (a file holding the PID), cmdline (a regex matched against the "
                "command line) or cgroup",
                "config.yaml:3:53: probes[1].cmdline: only one of pid_file, cmdline or cgroup "
                "may be set (pid_file is set at line 3)",
                "config.yaml:7:5: probes[2].pid_file: only one of pid_file, cmdline or cgroup "
                "may be set (cgroup is set at line 6)",
                "config.yaml:8:5: probes[2].cmdline: only one of pid_file, cmdline or cgroup "
                "may be set (cgroup is set at line 6)",
            }));
}

TEST(ProcessProbeConfig, Errors) {
  EXPECT_EQ(
      errors_of("probes:\n"
                "  - { name: a, type: process, cmdline: \"app(\" }\n"
                "  - { name: b, type: process, cmdline: \"\" }\n"
                "  - { name: c, type: process, pid_file: run/app.pid }\n"
                "  - { name: d, type: process, cgroup: app.service }\n"
                "  - { name: e, type: process, cmdline: x, fd_warn_percent: 0 }\n"
                "  - { name: f, type: process, cmdline: x, fd_fail_percent: 101 }\n"
                "  - { name: g, type: process, cmdline: x, fd_warn_percent: 96 }\n"
                "  - { name: h, type: process, cmdline: x, proc_root: proc }\n"
                "  - { name: i, type: process, cmdline: x, name_regex: y }\n"
                "  - { name: j, type: process, cmdline: [x] }\n"),
      (Lines{
          "config.yaml:2:40: probes[0].cmdline: invalid regular expression \"app(\": "
          "Mismatched '(' and ')' in regular expression",
          "config.yaml:3:40: probes[1].cmdline: expected a non-empty regular expression (it "
          "would match every process)",
          "config.yaml:4:41: probes[2].pid_file: expected an absolute path, got \"run/app.pid\"",
          "config.yaml:5:39: probes[3].cgroup: expected a cgroup path starting with '/' (as in "
          "/proc/PID/cgroup, e.g. /system.slice/app.service), got \"app.service\"",
          "config.yaml:6:60: probes[4].fd_warn_percent: must be greater than 0 and at most 100, "
          "got \"0\"",
          "config.yaml:7:60: probes[5].fd_fail_percent: must be greater than 0 and at most 100, "
          "got \"101\"",
          "config.yaml:8:60: probes[6].fd_warn_percent: must not exceed probes[6].fd_fail_percent "
          "(95 by default)",
          "config.yaml:9:54: probes[7].proc_root: expected an absolute path, got \"proc\"",
          "config.yaml:10:43: probes[8].name_regex: unknown key",
          "config.yaml:11:40: probes[9].cmdline: expected a regular expression, got a list",
      }));
}

TEST(ProcessProbeConfig, NoLongerReportedAsUnsupported) {
  const Lines errors = errors_of("probes: [{ name: a, type: process }]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].find("not supported"), std::string::npos) << errors[0];
}

TEST(ProcessProbeConfig, PrintedConfigLoadsBack) {
  const Config config = loaded(
      "probes:\n"
      "  - { name: a, type: process, pid_file: /run/app.pid, fd_warn_percent: 70 }\n"
      "  - { name: b, type: process, cgroup: /kubepods/pod1 }\n"
      "  - { name: c, type: process, cmdline: '^java .*-jar \"app\\.jar\"$$', proc_root: /p }\n");
  const std::string printed = print_effective_config(config);
  EXPECT_NE(printed.find("pid_file: /run/app.pid"), std::string::npos) << printed;
  EXPECT_NE(printed.find("fd_warn_percent: 70"), std::string::npos) << printed;
  // Only the selector in use is printed: an empty second one would not load back.
  EXPECT_EQ(printed.find("cmdline: \"\""), std::string::npos) << printed;
  EXPECT_EQ(loaded(printed), config) << printed;
}

}  // namespace
}  // namespace covet::config
