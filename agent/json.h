#pragma once
// The little JSON this agent writes (log lines, /health) needs only correct string escaping.

#include <string>
#include <string_view>

namespace covet::json {

// Appends `s` as a JSON string literal, quotes included. Control characters are escaped;
// bytes >= 0x80 pass through (callers hand in UTF-8).
void append_string(std::string& out, std::string_view s);

}  // namespace covet::json
