#pragma once
// What to do after an export attempt, as the OTLP specification says
// (opentelemetry-proto docs/specification.md, "Failures" and "Throttling"): 429, 502, 503
// and 504 and connection failures are retried with exponential backoff and jitter, a
// Retry-After the destination sent is honoured, and every other 4xx or 5xx is not retried.
// Pure: the random draw and the clock are passed in.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace covet::otlp {

enum class AfterExport { delivered, retry, drop };

// For an HTTP status (2xx delivered); 0 stands for "no answer" (connect failure, timeout,
// reset), which is retried.
AfterExport after_status(long status);

// Retry-After as delta-seconds ("2") or an HTTP-date ("Wed, 25 Nov 2026 04:00:00 GMT"),
// as the delay from `now`; nullopt when unreadable. A date in the past is 0.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

// The delay before retry number `attempt` (1 for the first retry): initial * 2^(attempt-1)
// capped at max, then spread by jitter to between half and all of it, so senders that
// failed together do not retry together. `random01` is uniform in [0, 1).
std::chrono::milliseconds backoff_delay(std::uint32_t attempt, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double random01);

}  // namespace covet::otlp
