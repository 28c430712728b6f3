#pragma once
// Command line: what to run, and the exit code.

#include <ostream>
#include <string>
#include <vector>

namespace covet {

// Where the config comes from when --config is not given.
inline constexpr const char* kDefaultConfigPath = "/etc/covet-sidecar/config.yaml";

// Exit codes: 0 success, 1 failure (probe failed, config invalid, cannot start), 2 usage.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace covet
