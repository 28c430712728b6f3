#pragma once
// curl's result as our failure class, shared by every outbound HTTP client (the http probe,
// scraping) so a reason means the same everywhere.

#include <curl/curl.h>

#include <string_view>

namespace covet::net {

// refused, dns, tls, timeout; io_error for anything else on a connection that did open
// (reset, empty reply, protocol error).
std::string_view failure_reason(CURLcode code);

}  // namespace covet::net
