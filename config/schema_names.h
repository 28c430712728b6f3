#pragma once
// How enum-like settings are spelled in YAML. Shared by the loader and the printer, so what
// is printed always loads back.

#include <array>
#include <span>
#include <string_view>

#include "config/config.h"

namespace covet::config::detail {

template <typename T>
struct Choice {
  std::string_view name;
  T value;
};

// "auto" is the default (text on a TTY, json otherwise); accepted so that the printed
// effective config loads back.
inline constexpr std::array<Choice<LogFormat>, 3> kLogFormats{{
    {"json", LogFormat::json},
    {"text", LogFormat::text},
    {"auto", LogFormat::automatic},
}};

inline constexpr std::array<Choice<LogLevel>, 5> kLogLevels{{
    {"trace", LogLevel::trace},
    {"debug", LogLevel::debug},
    {"info", LogLevel::info},
    {"warn", LogLevel::warn},
    {"error", LogLevel::error},
}};

// In the order they are printed.
inline constexpr std::array<Choice<Role>, 3> kRoles{{
    {"readiness", kReadiness},
    {"startup", kStartup},
    {"liveness", kLiveness},
}};

inline constexpr std::array<Choice<ScrapeRuleAction>, 3> kScrapeRuleActions{{
    {"keep", ScrapeRuleAction::keep},
    {"drop", ScrapeRuleAction::drop},
    {"rename_label", ScrapeRuleAction::rename_label},
}};

// The spelling of `value`; every enumerator is in its table, "?" would mean one is missing.
template <typename T>
std::string_view name_of(std::span<const Choice<T>> choices, T value) {
  for (const Choice<T>& choice : choices) {
    if (choice.value == value) return choice.name;
  }
  return "?";
}

}  // namespace covet::config::detail
