#pragma once
// Numbers as config text: shortest form that reads back to the same double.

#include <string>

namespace covet::config::detail {

std::string format_number(double value);  // 15 -> "15", 2.5 -> "2.5"

}  // namespace covet::config::detail
