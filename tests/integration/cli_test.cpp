// The subcommands of the real binary.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "tests/integration/config_snippets.h"
#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

std::string write_temp(const std::string& name, const std::string& text) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("covet-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(CliIT, VersionPrintsNameAndVersion) {
  CommandResult r = run_binary({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("covet-sidecar ", 0), 0u) << r.out;
}

TEST(CliIT, UnknownArgumentIsAUsageError) {
  CommandResult r = run_binary({"--frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown argument \"--frobnicate\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("usage:"), std::string::npos);
}

TEST(CliIT, CheckConfigPrintsTheEffectiveConfig) {
  const std::string path =
      write_temp("good.yaml", "probes:\n  - { name: root, type: disk, path: / }\n");
  CommandResult r = run_binary({"--check-config", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Defaults are spelled out.
  EXPECT_NE(r.out.find("8099"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("interval: 10s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("failure_threshold: 3"), std::string::npos) << r.out;
}

TEST(CliIT, CheckConfigReportsEveryErrorWithLineAndColumn) {
  const std::string path = write_temp("bad.yaml",
                                      "listen: 0.0.0.0:8099\n"
                                      "probes:\n"
                                      "  - name: root\n"
                                      "    type: disk\n"
                                      "    intervall: 10s\n"
                                      "    timeout: 10x\n");
  CommandResult r = run_binary({"--check-config", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path + ":5:5: probes[0].intervall: unknown key"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(path + ":6:14: probes[0].timeout: "), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(CliIT, TheShippedExampleConfigIsValid) {
  CommandResult r =
      run_binary({"--check-config", COVET_FIXTURES_DIR "/../../config/examples/config.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliIT, RunningWithABrokenConfigExitsOneBeforeListening) {
  const std::string path = write_temp("broken.yaml", "listen: [\n");
  CommandResult r = run_binary({"--config", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path + ":"), std::string::npos) << r.err;
}

TEST(CliIT, ProbeSubcommandPrintsATableAndExitsByVerdict) {
  const std::string ok = write_temp(
      "probe-ok.yaml",
      "probes:\n  - { name: tmp, type: disk, path: /tmp, warn_free_percent: 0, fail_free_percent: "
      "0, warn_free_inodes_percent: 0, fail_free_inodes_percent: 0 }\n");
  CommandResult r = run_binary({"probe", "--config", ok});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("NAME"), std::string::npos);
  EXPECT_NE(r.out.find("tmp"), std::string::npos);
  EXPECT_NE(r.out.find("passing"), std::string::npos) << r.out;

  const std::string bad = write_temp(
      "probe-bad.yaml", "probes:\n  - { name: gone, type: disk, path: /nonexistent/covet }\n");
  r = run_binary({"probe", "--config", bad});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("failing"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/covet"), std::string::npos) << r.out;
}

TEST(CliIT, HealthcheckFollowsTheStatusCode) {
  SidecarProcess sidecar(kPassingConfig);
  ASSERT_TRUE(sidecar.start()) << sidecar.logs();
  ASSERT_TRUE(sidecar.wait_for_status("/health/ready", 200, 10s));
  CommandResult r = run_binary({"healthcheck", sidecar.url("/health/ready")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_binary({"healthcheck", sidecar.url("/nope")});
  EXPECT_EQ(r.exit_code, 1);
  r = run_binary({"healthcheck", "http://127.0.0.1:1/health/live", "--timeout", "1s"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("GET http://127.0.0.1:1/health/live: "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace covet::testing
