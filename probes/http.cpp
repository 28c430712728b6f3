#include "probes/http.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <string_view>
#include <utility>

#include "agent/curl_failure.h"
#include "config/http_status.h"

namespace covet::probes {
namespace {

// blackbox_exporter's name, so its dashboards read ours. 0 when no response arrived.
constexpr std::string_view kStatusCodeName = "probe_http_status_code";
constexpr std::string_view kStatusCodeHelp = "Response HTTP status code.";

// `text` in double quotes, with quotes and backslashes escaped, for messages.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

HttpProbe::HttpProbe(uv_loop_t* loop, config::HttpProbeConfig config)
    : config_(std::move(config)), what_(config_.method + " " + config_.url), multi_(loop) {
  easy_ = curl_easy_init();
  assert(easy_ != nullptr);  // fails only when out of memory
  curl_easy_setopt(easy_, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_);
  curl_easy_setopt(easy_, CURLOPT_USERAGENT, "covet-sidecar");
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &HttpProbe::on_body);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &HttpProbe::on_header);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  if (config_.method == "HEAD") {
    curl_easy_setopt(easy_, CURLOPT_NOBODY, 1L);
  } else if (config_.method == "POST") {
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE, 0L);
  }
  if (!config_.tls_verify) {
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  for (const auto& [name, value] : config_.headers) {
    // "Name;" is curl's spelling of a header with an empty value ("Name:" would remove it).
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    headers_ = curl_slist_append(headers_, line.c_str());
  }
  if (headers_ != nullptr) curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
}

HttpProbe::~HttpProbe() {
  cancel();
  // Idle (the only state the scheduler destroys us in), this closes at once; it also
  // closes the cached keep-alive connection.
  multi_.close(nullptr);
  curl_easy_cleanup(easy_);
  curl_slist_free_all(headers_);
}

void HttpProbe::start(Completion done) {
  done_ = std::move(done);
  body_.clear();
  body_truncated_ = false;
  reason_phrase_.clear();
  error_buffer_[0] = '\0';
  if (!multi_.add(easy_, [this](CURLcode code) { on_done(code); })) {
    ProbeResult result;
    result.status = Status::failing;
    result.reason = "io_error";
    result.error = what_ + ": cannot start the request";
    std::exchange(done_, nullptr)(std::move(result));
  }
}

void HttpProbe::cancel() {
  done_ = nullptr;
  // Removing a transfer mid-flight closes its connection: the next check starts fresh.
  multi_.remove(easy_);
}

std::size_t HttpProbe::on_body(char* data, std::size_t size, std::size_t count, void* userp) {
  auto* self = static_cast<HttpProbe*>(userp);
  const std::size_t bytes = size * count;
  // Past the bound the rest is read and dropped rather than failing the transfer: an app
  // with a large health page is not unhealthy, and the connection stays reusable.
  const std::size_t room = kMaxBodyBytes - self->body_.size();
  if (bytes > room) self->body_truncated_ = true;
  self->body_.append(data, std::min(bytes, room));
  return bytes;
}

std::size_t HttpProbe::on_header(char* data, std::size_t size, std::size_t count, void* userp) {
  auto* self = static_cast<HttpProbe*>(userp);
  const std::size_t bytes = size * count;
  std::string_view line(data, bytes);
  // The status line of each response (a 100 Continue or a redirect comes first): keep the
  // last one's reason phrase. "HTTP/1.1 500 Internal Server Error\r\n"
  if (line.starts_with("HTTP/")) {
    self->reason_phrase_.clear();
    const std::size_t code_at = line.find(' ');
    if (code_at != std::string_view::npos) {
      const std::size_t phrase_at = line.find(' ', code_at + 1);
      if (phrase_at != std::string_view::npos) {
        std::string_view phrase = line.substr(phrase_at + 1);
        while (!phrase.empty() && (phrase.back() == '\r' || phrase.back() == '\n')) {
          phrase.remove_suffix(1);
        }
        self->reason_phrase_.assign(phrase.substr(0, 100));
      }
    }
  }
  return bytes;
}

void HttpProbe::on_done(CURLcode code) {
  ProbeResult result = judge(code);
  // Last, moved out: the scheduler may start the next check from inside.
  if (Completion done = std::exchange(done_, nullptr)) done(std::move(result));
}

ProbeResult HttpProbe::judge(CURLcode code) {
  ProbeResult result;
  result.detail.emplace_back("url", config_.url);
  long status = 0;
  if (code == CURLE_OK) curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
  result.readings.push_back(Reading{std::string(kStatusCodeName),
                                    std::string(kStatusCodeHelp),
                                    {},
                                    static_cast<double>(status),
                                    false});
  if (code != CURLE_OK) {
    result.status = Status::failing;
    result.reason = std::string(net::failure_reason(code));
    const char* message = error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(code);
    result.error = what_ + ": " + message;
    return result;
  }
  result.detail.emplace_back("status_code", std::to_string(status));
  if (!config::status_matches(config_.expected_status, status)) {
    result.status = Status::failing;
    result.reason = "status";
    result.error =
        fmt::format("{}: {}{}{}, expected {}", what_, status, reason_phrase_.empty() ? "" : " ",
                    reason_phrase_, config::format_status_ranges(config_.expected_status));
    return result;
  }
  if (!config_.body_contains.empty() && body_.find(config_.body_contains) == std::string::npos) {
    result.status = Status::failing;
    result.reason = "body";
    result.error = fmt::format(
        "{}: response body{} does not contain {}", what_,
        body_truncated_ ? fmt::format(" (first {} bytes)", kMaxBodyBytes) : std::string(),
        quoted(config_.body_contains));
    return result;
  }
  result.status = Status::passing;
  return result;
}

}  // namespace covet::probes
