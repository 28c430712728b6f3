#include "agent/health/render.h"

#include <fmt/format.h>

#include <ctime>

#include "agent/json.h"

namespace covet::health {
namespace {

using probes::Status;

void append_key(std::string& out, std::string_view key) {
  json::append_string(out, key);
  out.push_back(':');
}

void append_roles(std::string& out, unsigned roles) {
  out.push_back('[');
  bool first = true;
  auto add = [&](unsigned bit, std::string_view name) {
    if ((roles & bit) == 0) return;
    if (!first) out.push_back(',');
    first = false;
    json::append_string(out, name);
  };
  add(config::kReadiness, "readiness");
  add(config::kStartup, "startup");
  add(config::kLiveness, "liveness");
  out.push_back(']');
}

std::string seconds(std::chrono::nanoseconds d) {
  return fmt::format("{:.6f}", std::chrono::duration<double>(d).count());
}

}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  const std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

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
  out += "{";
  append_key(out, "status");
  json::append_string(out, to_string(model.overall()));
  out += ",";
  append_key(out, "version");
  json::append_string(out, info.version);
  out += ",";
  append_key(out, "timestamp");
  json::append_string(out, format_rfc3339(info.now));
  out +=
      fmt::format(",\"uptime_seconds\":{:.3f}", std::chrono::duration<double>(info.uptime).count());
  out += fmt::format(",\"draining\":{}", model.draining() ? "true" : "false");
  out += ",\"checks\":{";
  bool first = true;
  for (const CheckState& check : model.checks()) {
    if (!first) out.push_back(',');
    first = false;
    append_key(out, check.spec.name);
    out += "{";
    append_key(out, "type");
    json::append_string(out, check.spec.type);
    out += ",";
    append_key(out, "status");
    json::append_string(out, probes::to_string(check.effective));
    out += ",\"roles\":";
    append_roles(out, check.spec.roles);
    out += fmt::format(",\"stale\":{}", check.stale ? "true" : "false");
    out += ",";
    append_key(out, "since");
    json::append_string(out, format_rfc3339(check.since));
    if (check.has_result) {
      out += ",\"latency_seconds\":" + seconds(check.last.latency);
      out += ",";
      append_key(out, "last_result");
      json::append_string(out, probes::to_string(check.last.status));
    } else {
      out += ",\"latency_seconds\":null,\"last_result\":null";
    }
    out += ",\"detail\":{";
    bool first_detail = true;
    for (const auto& [key, value] : check.last.detail) {
      if (!first_detail) out.push_back(',');
      first_detail = false;
      append_key(out, key);
      json::append_string(out, value);
    }
    out += "}";
    out += fmt::format(",\"consecutive_failures\":{}", check.consecutive_failures);
    if (check.last_error.empty()) {
      out += ",\"last_error\":null";
    } else {
      out += ",\"last_error\":{";
      append_key(out, "message");
      json::append_string(out, check.last_error);
      out += ",";
      append_key(out, "at");
      json::append_string(out, format_rfc3339(check.last_error_at));
      out += "}";
    }
    out += "}";
  }
  out += "}}\n";
  return out;
}

}  // namespace covet::health
