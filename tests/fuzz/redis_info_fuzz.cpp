// libFuzzer target for the INFO parser (probes/redis_info.h): arbitrary bytes as if a server
// (or something pretending to be one) had sent them as INFO's reply.
//
// Properties checked, beyond "no crash, no sanitizer report, no exception":
//  - every field is a view inside the input, with a non-empty key and no line break;
//  - every reading has a name, help text, a finite value, and no series appears twice.
//
//   ./redis_info_fuzz -max_total_time=60 tests/fuzz/corpus/redis_info

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "probes/redis_info.h"

namespace {

using namespace covet::probes;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "redis_info_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const RedisInfo info = parse_redis_info(text);
  for (const auto& [key, value] : info.fields) {
    if (key.empty()) fail("empty key", text);
    if (!inside(key, text) || !inside(value, text)) fail("field outside the input", text);
    if (key.find('\n') != std::string_view::npos || value.find('\n') != std::string_view::npos) {
      fail("field spans a line break", text);
    }
  }
  std::set<std::string> series;
  for (const Reading& reading : redis_info_readings(info)) {
    if (reading.name.empty() || reading.help.empty()) fail("reading without name or help", text);
    if (!std::isfinite(reading.value)) fail("non-finite reading", reading.name);
    std::string key = reading.name;
    for (const auto& [name, value] : reading.labels) key += "," + name + "=" + value;
    if (!series.insert(key).second) fail("duplicate series", key);
  }
  (void)parse_redis_number(text);
  (void)parse_keyspace_keys(text);
  return 0;
}
