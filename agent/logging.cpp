#include "agent/logging.h"

#include "agent/json.h"
#include "agent/time_format.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>

namespace covet {
namespace {

std::string_view level_name(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::trace:
      return "trace";
    case config::LogLevel::debug:
      return "debug";
    case config::LogLevel::info:
      return "info";
    case config::LogLevel::warn:
      return "warn";
    case config::LogLevel::error:
      return "error";
  }
  return "info";
}

// Text values are quoted only when they would otherwise be ambiguous.
void append_text_value(std::string& out, std::string_view s) {
  bool plain = !s.empty();
  for (unsigned char c : s) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\') plain = false;
  }
  if (plain) {
    out.append(s);
  } else {
    json::append_string(out, s);
  }
}

std::shared_ptr<spdlog::logger> make_stderr_logger() {
  // Not registered in spdlog's global registry: the logger belongs to whoever owns Logger.
  auto logger =
      std::make_shared<spdlog::logger>("covet", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

}  // namespace

Logger::Logger(config::LogFormat format, config::LogLevel level)
    : Logger(format, level, make_stderr_logger()) {}

Logger::Logger(config::LogFormat format, config::LogLevel level,
               std::shared_ptr<spdlog::logger> sink)
    : json_(format == config::LogFormat::json ||
            (format == config::LogFormat::automatic && !isatty(STDERR_FILENO))),
      level_(level),
      sink_(std::move(sink)) {}

Logger::~Logger() = default;

void Logger::set_level(config::LogLevel level) { level_ = level; }
void Logger::debug(std::string_view msg, Fields f) { write(config::LogLevel::debug, msg, f); }
void Logger::info(std::string_view msg, Fields f) { write(config::LogLevel::info, msg, f); }
void Logger::warn(std::string_view msg, Fields f) { write(config::LogLevel::warn, msg, f); }
void Logger::error(std::string_view msg, Fields f) { write(config::LogLevel::error, msg, f); }

std::string Logger::render(config::LogLevel level, std::string_view msg, Fields fields) const {
  std::string line;
  if (json_) {
    line += "{\"level\":";
    json::append_string(line, level_name(level));
    line += ",\"msg\":";
    json::append_string(line, msg);
    for (const auto& [key, value] : fields) {
      line.push_back(',');
      json::append_string(line, key);
      line.push_back(':');
      json::append_string(line, value);
    }
    line.push_back('}');
  } else {
    line += fmt::format("{:<5} {}", level_name(level), msg);
    for (const auto& [key, value] : fields) {
      line.push_back(' ');
      line.append(key);
      line.push_back('=');
      append_text_value(line, value);
    }
  }
  return line;
}

void Logger::write(config::LogLevel level, std::string_view msg, Fields fields) {
  if (level < level_) return;
  std::string body = render(level, msg, fields);
  std::string ts = format_rfc3339(std::chrono::system_clock::now());
  if (json_) {
    // Put the timestamp first: {"ts":"...",<rest>
    sink_->info("{{\"ts\":\"{}\",{}", ts, std::string_view(body).substr(1));
  } else {
    sink_->info("{} {}", ts, body);
  }
}

}  // namespace covet
