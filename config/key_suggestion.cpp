#include "config/key_suggestion.h"

#include <algorithm>
#include <vector>

namespace covet::config::detail {
namespace {

// Keys longer than this are not typos of our (short) key names; bounding the length keeps
// the quadratic distance below cheap even on hostile input.
constexpr std::size_t kMaxComparedLength = 64;

// Levenshtein distance with one rolling row: O(|a|*|b|) time, O(|b|) memory.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

}  // namespace

std::optional<std::string_view> suggest_key(std::string_view key,
                                            std::span<const std::string_view> candidates) {
  if (key.empty() || key.size() > kMaxComparedLength) return std::nullopt;
  constexpr std::size_t kMaxEdits = 2;
  std::optional<std::string_view> best;
  std::size_t best_distance = kMaxEdits + 1;
  for (std::string_view candidate : candidates) {
    const std::size_t distance = edit_distance(key, candidate);
    if (distance < best_distance && distance * 2 < key.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace covet::config::detail
