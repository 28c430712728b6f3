#include "agent/healthcheck_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <memory>

namespace covet {
namespace {

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

std::size_t discard_body(char*, std::size_t size, std::size_t count, void*) { return size * count; }

}  // namespace

HealthcheckOutcome run_healthcheck(const std::string& url, std::chrono::milliseconds timeout) {
  HealthcheckOutcome outcome;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    outcome.message = fmt::format("healthcheck {}: URL must start with http:// or https://", url);
    return outcome;
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    outcome.message = "healthcheck: curl_easy_init failed";
    return outcome;
  }
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    outcome.message =
        fmt::format("GET {}: {}", url, error[0] != '\0' ? error : curl_easy_strerror(rc));
    return outcome;
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  outcome.exit_code = status >= 200 && status < 300 ? 0 : 1;
  outcome.message = fmt::format("GET {}: {}", url, status);
  return outcome;
}

}  // namespace covet
