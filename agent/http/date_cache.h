#pragma once
// The IMF-fixdate for the Date header, formatted at most once a second.

#include <ctime>
#include <string>
#include <string_view>

namespace covet::http {

class DateCache {
 public:
  // "Date: Tue, 24 Nov 2026 19:42:04 GMT\r\n" for the given wall-clock second.
  std::string_view header_line(std::time_t now);

 private:
  std::time_t cached_second_ = -1;
  std::string line_;
};

std::string format_imf_fixdate(std::time_t t);

}  // namespace covet::http
