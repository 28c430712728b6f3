#pragma once
// Structured logs on stderr through spdlog: one JSON object per line, or "key=value" text
// for people at a terminal. Callers pass a message and fields; nothing here knows about
// secrets, so callers must never pass one (DSNs are redacted before they get here).

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "config/config.h"

namespace spdlog {
class logger;
}

namespace covet {

class Logger {
 public:
  using Field = std::pair<std::string_view, std::string_view>;
  using Fields = std::initializer_list<Field>;

  // format automatic resolves to text when stderr is a TTY, json otherwise.
  Logger(config::LogFormat format, config::LogLevel level);
  // For tests: lines go to `sink` instead of stderr.
  Logger(config::LogFormat format, config::LogLevel level, std::shared_ptr<spdlog::logger> sink);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void set_level(config::LogLevel level);
  void debug(std::string_view msg, Fields fields = {});
  void info(std::string_view msg, Fields fields = {});
  void warn(std::string_view msg, Fields fields = {});
  void error(std::string_view msg, Fields fields = {});

  // The line as it would be written, without the timestamp (tests use this).
  std::string render(config::LogLevel level, std::string_view msg, Fields fields) const;

 private:
  void write(config::LogLevel level, std::string_view msg, Fields fields);

  bool json_;
  config::LogLevel level_;
  std::shared_ptr<spdlog::logger> sink_;
};

}  // namespace covet
