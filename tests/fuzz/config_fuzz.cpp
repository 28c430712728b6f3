// libFuzzer target for the config loader: arbitrary bytes as a config file.
//
// Properties checked, beyond "no crash, no sanitizer report, no exception":
//  - a load either yields a config or at least one error, never both or neither;
//  - no error is the loader's "internal error" (a yaml-cpp exception while walking a
//    parsed tree, which load_config_text turns into an error instead of letting it out);
//  - a loaded config, printed, loads again to an equal config.
//
//   ./config_fuzz -max_total_time=60 tests/fuzz/corpus/config

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.h"
#include "config/printer.h"

namespace {

// A fixed environment, so that inputs using ${...} reach the expanded-value paths and a
// crash reproduces without the fuzzing machine's environment.
std::optional<std::string> fuzz_env(std::string_view name) {
  if (name == "PORT") return "9000";
  if (name == "HOST") return "127.0.0.1";
  if (name == "EMPTY") return "";
  if (name == "YAML") return "a: [b, {c";
  if (name == "DOLLARS") return "$${X}$";
  if (name == "INTERVAL") return "1m30s";
  return std::nullopt;
}

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "config_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const covet::config::EnvLookup env = fuzz_env;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const covet::config::LoadResult first = covet::config::load_config_text(text, env);
  if (first.config.has_value() == !first.errors.empty()) {
    fail("a load must give a config or errors, not both or neither", std::string(text));
  }
  for (const covet::config::ConfigError& error : first.errors) {
    if (error.message.starts_with("internal error")) fail("loader bug", error.to_string("input"));
  }
  if (!first.config) return 0;

  const std::string printed = covet::config::print_effective_config(*first.config);
  const covet::config::LoadResult again = covet::config::load_config_text(printed, env);
  if (!again.config) {
    std::string detail = printed;
    for (const covet::config::ConfigError& error : again.errors) {
      detail += error.to_string("printed") + "\n";
    }
    fail("printed config does not load again", detail);
  }
  if (!(*again.config == *first.config)) fail("printed config loads differently", printed);
  return 0;
}
