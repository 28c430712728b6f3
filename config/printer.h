#pragma once
// The effective configuration as YAML, every default spelled out, secrets redacted.

#include <string>

#include "config/config.h"

namespace covet::config {

std::string print_effective_config(const Config& config);

}  // namespace covet::config
