#pragma once
// "did you mean ...?" for misspelled config keys.

#include <optional>
#include <span>
#include <string_view>

namespace covet::config::detail {

// The candidate closest to `key` by edit distance, if it is close enough to be a likely
// typo (at most 2 edits, and fewer than half of the key's length). Ties go to the first.
std::optional<std::string_view> suggest_key(std::string_view key,
                                            std::span<const std::string_view> candidates);

}  // namespace covet::config::detail
