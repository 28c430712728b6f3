#include "agent/health/render.h"

#include <fmt/format.h>

#include "agent/json.h"

namespace covet::health {
namespace {

std::string roles_json(unsigned roles) {
  std::string out = "[";
  for (auto [bit, name] :
       {std::pair{config::kReadiness, "\"readiness\""}, std::pair{config::kStartup, "\"startup\""},
        std::pair{config::kLiveness, "\"liveness\""}}) {
    if ((roles & bit) == 0) continue;
    if (out.size() > 1) out.push_back(',');
    out += name;
  }
  out.push_back(']');
  return out;
}

const char* json_bool(bool b) { return b ? "true" : "false"; }

void write_check(json::ObjectWriter& o, const CheckState& check) {
  o.string("type", check.spec.type);
  o.string("status", probes::to_string(check.effective));
  o.raw("roles", roles_json(check.spec.roles));
  o.raw("stale", json_bool(check.stale));
  o.string("since", format_rfc3339(check.since));
  if (check.has_result) {
    o.raw("latency_seconds",
          fmt::format("{:.6f}", std::chrono::duration<double>(check.last.latency).count()));
    o.string("last_result", probes::to_string(check.last.status));
  } else {
    o.raw("latency_seconds", "null");
    o.raw("last_result", "null");
  }
  json::ObjectWriter detail = o.begin_object("detail");
  for (const auto& [key, value] : check.last.detail) detail.string(key, value);
  detail.end();
  o.raw("consecutive_failures", std::to_string(check.consecutive_failures));
  if (check.last_error.empty()) {
    o.raw("last_error", "null");
  } else {
    json::ObjectWriter error = o.begin_object("last_error");
    error.string("message", check.last_error);
    error.string("at", format_rfc3339(check.last_error_at));
    error.end();
  }
}

}  // namespace

std::string render_verdict_text(const Verdict& verdict, std::string_view endpoint_word,
                                bool only_failures) {
  std::string out;
  for (const VerdictLine& line : verdict.lines) {
    if (only_failures && line.ok) continue;
    out += line.ok ? "[+]" : "[-]";
    out += line.name;
    out.push_back(' ');
    out += line.text;
    out.push_back('\n');
  }
  out += fmt::format("{} check {}\n", endpoint_word, verdict.ok ? "passed" : "failed");
  return out;
}

std::string render_health_json(const HealthModel& model, const HealthDocumentInfo& info) {
  std::string out;
  out.reserve(512 + model.checks().size() * 512);
  json::ObjectWriter document(out);
  document.string("status", to_string(model.overall()));
  document.string("version", info.version);
  document.string("timestamp", format_rfc3339(info.now));
  document.raw("uptime_seconds",
               fmt::format("{:.3f}", std::chrono::duration<double>(info.uptime).count()));
  document.raw("draining", json_bool(model.draining()));
  json::ObjectWriter checks = document.begin_object("checks");
  for (const CheckState& check : model.checks()) {
    json::ObjectWriter entry = checks.begin_object(check.spec.name);
    write_check(entry, check);
    entry.end();
  }
  checks.end();
  document.end();
  out.push_back('\n');
  return out;
}

}  // namespace covet::health
