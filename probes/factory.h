#pragma once
// Builds the probe a config entry describes.

#include <uv.h>

#include <memory>

#include "config/config.h"
#include "probes/probe.h"

namespace covet::probes {

std::unique_ptr<Probe> make_probe(uv_loop_t* loop, const config::ProbeConfig& config);

}  // namespace covet::probes
