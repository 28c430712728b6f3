#pragma once
// Response bodies of the health endpoints, as pure functions of the model's state.

#include <chrono>
#include <string>
#include <string_view>

#include "agent/health/model.h"
#include "agent/time_format.h"

namespace covet::health {

// kube-apiserver style: "[+]db ok\n[-]cache failed: ...\nready check failed\n".
// With only_failures, the passing lines are left out (the short answer on a failure).
std::string render_verdict_text(const Verdict& verdict, std::string_view endpoint_word,
                                bool only_failures);

struct HealthDocumentInfo {
  std::string_view version;
  std::chrono::system_clock::time_point now;
  std::chrono::steady_clock::duration uptime;
};
// The /health JSON document.
std::string render_health_json(const HealthModel& model, const HealthDocumentInfo& info);

}  // namespace covet::health
