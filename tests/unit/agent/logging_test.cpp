#include "agent/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace covet {
namespace {

using config::LogFormat;
using config::LogLevel;

std::shared_ptr<spdlog::logger> capture(std::ostringstream& out) {
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  logger->set_pattern("%v");
  return logger;
}

TEST(Logger, JsonLinesEscapeEverything) {
  std::ostringstream out;
  Logger log(LogFormat::json, LogLevel::info, capture(out));
  log.warn("probe \"db\" failed\n", {{"error", "a\tb\\c\x01"}});
  const std::string line = out.str();
  EXPECT_EQ(line.rfind("{\"ts\":\"", 0), 0u) << line;
  EXPECT_NE(line.find(",\"level\":\"warn\",\"msg\":\"probe \\\"db\\\" "
                      "failed\\n\",\"error\":\"a\\tb\\\\c\\u0001\"}"),
            std::string::npos)
      << line;
}

TEST(Logger, TextQuotesOnlyWhenNeeded) {
  std::ostringstream out;
  Logger log(LogFormat::text, LogLevel::info, capture(out));
  EXPECT_EQ(log.render(LogLevel::info, "probe state changed",
                       {{"probe", "db"}, {"error", "connect: refused"}}),
            "info  probe state changed probe=db error=\"connect: refused\"");
}

TEST(Logger, LevelFilters) {
  std::ostringstream out;
  Logger log(LogFormat::json, LogLevel::warn, capture(out));
  log.info("hidden");
  log.debug("hidden");
  EXPECT_TRUE(out.str().empty());
  log.error("shown");
  EXPECT_NE(out.str().find("shown"), std::string::npos);
}

}  // namespace
}  // namespace covet
