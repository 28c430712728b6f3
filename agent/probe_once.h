#pragma once
// `covet-sidecar probe`: every configured probe run once on a private loop, printed as a
// table. Exit 0 when every probe passed or warned.

#include <ostream>

#include "config/config.h"

namespace covet {

int run_probes_once(const config::Config& config, std::ostream& out);

}  // namespace covet
