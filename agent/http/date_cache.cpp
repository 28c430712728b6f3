#include "agent/http/date_cache.h"

#include <fmt/format.h>

#include <array>
#include <iterator>

namespace covet::http {
namespace {

// IMF-fixdate names are fixed English tokens (RFC 9110 §5.6.7): strftime's %a/%b would
// follow the locale.
constexpr std::array<std::string_view, 7> kDayNames = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonthNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Appends the date to `out`; false (and nothing appended) for a time gmtime cannot express.
bool append_imf_fixdate(std::string& out, std::time_t t) {
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return false;
  if (tm.tm_wday < 0 || tm.tm_wday >= 7 || tm.tm_mon < 0 || tm.tm_mon >= 12) return false;
  fmt::format_to(std::back_inserter(out), "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
                 kDayNames[static_cast<std::size_t>(tm.tm_wday)], tm.tm_mday,
                 kMonthNames[static_cast<std::size_t>(tm.tm_mon)], tm.tm_year + 1900, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
  return true;
}

}  // namespace

std::string format_imf_fixdate(std::time_t t) {
  std::string out;
  append_imf_fixdate(out, t);
  return out;
}

std::string_view DateCache::header_line(std::time_t now) {
  if (now == cached_second_) return line_;
  // Reformatted in place: the string keeps its capacity, so this never allocates after
  // the first call.
  line_.clear();
  line_ += "Date: ";
  if (append_imf_fixdate(line_, now)) {
    line_ += "\r\n";
  } else {
    line_.clear();  // no Date header beats a malformed one
  }
  cached_second_ = now;
  return line_;
}

}  // namespace covet::http
