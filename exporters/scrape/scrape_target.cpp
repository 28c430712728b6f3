#include "exporters/scrape/scrape_target.h"

#include <fmt/format.h>

#include <strings.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "agent/curl_failure.h"
#include "agent/curl_tls.h"
#include "agent/logging.h"
#include "config/duration.h"
#include "config/secret_file.h"
#include "covet/version.h"
#include "exporters/scrape/page_pipeline.h"

namespace covet::scrape {
namespace {

// OpenMetrics first: it is the only format that carries exemplars, and it says where the
// page ends. Prometheus text for every app that does not speak it.
constexpr const char* kAccept =
    "Accept: application/openmetrics-text;version=1.0.0,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

bool is_loopback_url(const std::string& url) {
  CURLU* parsed = curl_url();
  char* host = nullptr;
  bool loopback = false;
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    const std::string_view name(host);
    loopback = name == "localhost" || name == "[::1]" || name.starts_with("127.");
  }
  curl_free(host);
  curl_url_cleanup(parsed);
  return loopback;
}

bool has_line_break(const std::string& text) {
  return text.find_first_of("\r\n") != std::string::npos;
}

// A pool thread frees a whole page model after each fetch. glibc keeps freed memory in that
// thread's arena; handing it back keeps the resident size at what is served, not at the
// largest page ever parsed.
void release_freed_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

ScrapeTarget::ScrapeTarget(uv_loop_t* loop, net::CurlMulti& multi,
                           config::ScrapeTargetConfig config, Logger& log)
    : loop_(loop),
      multi_(multi),
      config_(std::move(config)),
      log_(log),
      plan_(std::make_shared<ReexportPlan>(config_)),
      processing_(loop) {
  for (auto& converting : converting_) {
    converting = std::make_unique<probes::PoolCheck<Variant>>(loop);
  }
  easy_ = curl_easy_init();
  assert(easy_ != nullptr);  // fails only when out of memory
  curl_easy_setopt(easy_, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_);
  const std::string agent = std::string("covet-sidecar/") + kVersion;
  curl_easy_setopt(easy_, CURLOPT_USERAGENT, agent.c_str());  // curl copies strings
  // Over a network, ask for every encoding this libcurl decodes (gzip, deflate; bodies arrive
  // decoded). Over loopback, the usual sidecar case, compressing costs the app and us CPU
  // and saves nothing: ask for the page as it is (a gzip answer is still decoded).
  curl_easy_setopt(easy_, CURLOPT_ACCEPT_ENCODING, is_loopback_url(config_.url) ? "identity" : "");
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &ScrapeTarget::on_body);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &ScrapeTarget::on_header);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  connect_to_ = net::apply_client_tls(easy_, config_.url, config_.tls);
}

ScrapeTarget::~ScrapeTarget() {
  close();
  curl_easy_cleanup(easy_);
  curl_slist_free_all(headers_);
  curl_slist_free_all(connect_to_);
}

void ScrapeTarget::close() {
  closed_ = true;
  if (fetching_) multi_.remove(easy_);
  fetching_ = false;
  processing_.cancel();
  for (auto& converting : converting_) converting->cancel();
  converting_busy_ = {};
  waiting_for_fetch_.clear();
  for (auto& waiting : waiting_for_variant_) waiting.clear();
}

bool ScrapeTarget::fresh() const {
  if (!result_) return false;
  return uv_now(loop_) <
         result_->finished_at_ms + static_cast<std::uint64_t>(config_.min_interval.count());
}

void ScrapeTarget::prepare(Format format, bool gzip, const OwnNamesSource& own, Ready ready) {
  if (closed_) return;
  if (fetching_ || !fresh()) {
    waiting_for_fetch_.push_back(Waiter{format, gzip, std::move(ready)});
    if (!fetching_) start_fetch(own());
    return;
  }
  serve(Waiter{format, gzip, std::move(ready)});
}

void ScrapeTarget::start_fetch(std::shared_ptr<const OwnNames> own) {
  fetching_ = true;
  fetch_started_ns_ = uv_hrtime();
  own_ = std::move(own);
  body_.clear();
  // Pages keep their size from one fetch to the next: one allocation instead of a dozen
  // regrowths that copy megabytes each.
  body_.reserve(
      std::min<std::size_t>(last_body_size_ + last_body_size_ / 8, config_.max_body_bytes));
  content_type_.clear();
  too_large_ = false;
  error_buffer_[0] = '\0';
  std::string credentials_error;
  if (!set_credentials(credentials_error)) {
    fail("credentials", std::move(credentials_error));
    return;
  }
  if (!multi_.add(easy_, [this](CURLcode code) { on_fetched(code); })) {
    fail("io_error", "could not start the request");
  }
}

bool ScrapeTarget::set_credentials(std::string& error) {
  curl_slist_free_all(headers_);
  headers_ = curl_slist_append(nullptr, kAccept);
  const std::string timeout_header =
      fmt::format("X-Prometheus-Scrape-Timeout-Seconds: {}", config_.timeout.count() / 1000.0);
  headers_ = curl_slist_append(headers_, timeout_header.c_str());
  if (!config_.bearer_token_file.empty()) {
    config::SecretRead token =
        config::read_secret_file(config_.bearer_token_file, "bearer_token_file");
    if (!token.value) {
      error = std::move(token.error);
      return false;
    }
    // A line break would end the header early and start another one.
    if (has_line_break(*token.value)) {
      error = "bearer_token_file " + config_.bearer_token_file + ": holds more than one line";
      return false;
    }
    const std::string header = "Authorization: Bearer " + *token.value;
    headers_ = curl_slist_append(headers_, header.c_str());
  }
  if (!config_.basic_auth_password_file.empty()) {
    config::SecretRead password =
        config::read_secret_file(config_.basic_auth_password_file, "password_file");
    if (!password.value) {
      error = std::move(password.error);
      return false;
    }
    curl_easy_setopt(easy_, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(easy_, CURLOPT_USERNAME, config_.basic_auth_username.c_str());
    curl_easy_setopt(easy_, CURLOPT_PASSWORD, password.value->c_str());
  }
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
  return true;
}

std::size_t ScrapeTarget::on_body(char* data, std::size_t size, std::size_t count, void* self) {
  auto* target = static_cast<ScrapeTarget*>(self);
  const std::size_t n = size * count;
  // Decoded bytes: a small gzip body can still expand past the bound.
  if (target->body_.size() + n > target->config_.max_body_bytes) {
    target->too_large_ = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  target->body_.append(data, n);
  return n;
}

std::size_t ScrapeTarget::on_header(char* data, std::size_t size, std::size_t count, void* self) {
  auto* target = static_cast<ScrapeTarget*>(self);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) target->content_type_.clear();  // a redirect's or 100's head
  constexpr std::string_view kName = "content-type:";
  if (line.size() > kName.size() && strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
    line.remove_prefix(kName.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' '))
      line.remove_suffix(1);
    target->content_type_.assign(line.substr(0, 200));
  }
  return n;
}

void ScrapeTarget::on_fetched(CURLcode code) {
  // Credentials stay in curl's handle only while a request uses them.
  curl_easy_setopt(easy_, CURLOPT_PASSWORD, nullptr);
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers_);
  headers_ = nullptr;
  last_body_size_ = body_.size();
  if (too_large_) {
    fail("too_large",
         fmt::format("page larger than max_body_bytes ({} bytes)", config_.max_body_bytes));
    return;
  }
  if (code != CURLE_OK) {
    const char* detail = error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(code);
    fail(std::string(net::failure_reason(code)), fmt::format("GET {}: {}", config_.url, detail));
    return;
  }
  long status = 0;
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    fail("http_status", fmt::format("GET {}: HTTP {}", config_.url, status));
    return;
  }
  std::shared_ptr<const ReexportPlan> plan = plan_;
  std::shared_ptr<const OwnNames> own = std::move(own_);
  std::vector<VariantRequest> wanted;
  for (const Waiter& waiter : waiting_for_fetch_) wanted.push_back({waiter.format, waiter.gzip});
  auto work = [body = std::move(body_), content_type = content_type_, plan, own,
               wanted = std::move(wanted)]() mutable {
    std::shared_ptr<ScrapeResult> result =
        process_page(std::move(body), content_type, *plan, *own, wanted);
    release_freed_memory();
    return result;
  };
  body_ = std::string();
  probes::PoolCheck<std::shared_ptr<ScrapeResult>>::Done done =
      [this](std::shared_ptr<ScrapeResult> result) { finish(std::move(result)); };
  if (const int rc = processing_.start(std::move(work), done); rc != 0) {
    fail("io_error", fmt::format("cannot queue the page for parsing: {}", uv_strerror(rc)));
  }
}

void ScrapeTarget::fail(std::string reason, std::string error) {
  auto result = std::make_shared<ScrapeResult>();
  result->reason = std::move(reason);
  result->error = std::move(error);
  finish(std::move(result));
}

void ScrapeTarget::finish(std::shared_ptr<ScrapeResult> result) {
  fetching_ = false;
  own_.reset();
  result->finished_at_ms = uv_now(loop_);
  result->duration_seconds = static_cast<double>(uv_hrtime() - fetch_started_ns_) / 1e9;
  if (!result->ok) ++counters_.failures_by_reason[result->reason];
  counters_.dropped_by_limit += result->dropped_by_limit;
  counters_.dropped_by_clash += result->dropped_by_clash;
  log_outcome(*result);
  result_ = std::move(result);
  // serve() may start a conversion; a waiter's callback may not come back into us before
  // every waiter has been handed on.
  std::vector<Waiter> waiters = std::move(waiting_for_fetch_);
  waiting_for_fetch_.clear();
  for (Waiter& waiter : waiters) serve(std::move(waiter));
}

void ScrapeTarget::serve(Waiter waiter) {
  const std::size_t index = format_index(waiter.format);
  const bool need_text = result_->ok && !result_->text_by_format[index];
  const bool need_gzip = result_->ok && waiter.gzip && !result_->gzip_by_format[index];
  if (!need_text && !need_gzip) {
    waiter.ready();
    return;
  }
  waiting_for_variant_[index].push_back(std::move(waiter));
  // A job under way may not make what this waiter needs: each waiter is served again when it
  // ends, and asks for more then.
  if (converting_busy_[index]) return;
  std::shared_ptr<ScrapeResult> for_result = result_;
  const Format format = static_cast<Format>(index);
  auto work = [source = result_->source_text, from = result_->source_format,
               text = result_->text_by_format[index], format, need_gzip]() mutable {
    Variant variant;
    if (!text) text = std::make_shared<const std::string>(convert_text(*source, from, format));
    variant.text = text;
    // Level 1: a 10 MB page in tens of milliseconds, at most once per fetch and format.
    if (need_gzip) {
      variant.gzip =
          std::make_shared<const metrics::DeflateSegment>(metrics::deflate_segment(*text, 1));
    }
    release_freed_memory();
    return variant;
  };
  probes::PoolCheck<Variant>::Done done = [this, for_result, index](Variant variant) {
    converting_busy_[index] = false;
    if (!for_result->text_by_format[index]) for_result->text_by_format[index] = variant.text;
    if (variant.gzip) for_result->gzip_by_format[index] = variant.gzip;
    std::vector<Waiter> waiters = std::move(waiting_for_variant_[index]);
    waiting_for_variant_[index].clear();
    for (Waiter& next : waiters) {
      // A waiter the job could not help (its result was replaced meanwhile) is served as is:
      // the renderer makes what is missing itself.
      const bool stale = for_result != result_;
      if (stale) {
        next.ready();
      } else {
        serve(std::move(next));
      }
    }
  };
  converting_busy_[index] = true;
  if (converting_[index]->start(std::move(work), done) != 0) {
    converting_busy_[index] = false;
    // The renderer converts and compresses what is missing itself; slower, never wrong.
    std::vector<Waiter> waiters = std::move(waiting_for_variant_[index]);
    waiting_for_variant_[index].clear();
    for (Waiter& next : waiters) next.ready();
  }
}

void ScrapeTarget::log_outcome(const ScrapeResult& result) {
  if (!result.ok) {
    if (last_failure_logged_ != result.reason) {
      log_.warn("scrape failed: the app's series are left out of /metrics",
                {{"target", config_.name}, {"reason", result.reason}, {"error", result.error}});
      last_failure_logged_ = result.reason;
    }
    return;
  }
  if (!last_failure_logged_.empty()) {
    log_.info("scrape recovered", {{"target", config_.name}});
    last_failure_logged_.clear();
  }
  if (result.dropped_by_limit > 0 && !limit_logged_) {
    log_.warn("scrape over max_series: the page is cut, the rest counted as dropped",
              {{"target", config_.name},
               {"max_series", std::to_string(config_.max_series)},
               {"dropped", std::to_string(result.dropped_by_limit)}});
  }
  limit_logged_ = result.dropped_by_limit > 0;
  for (const std::string& family : result.clashing_families) {
    if (!clashes_logged_.insert(family).second) continue;
    log_.warn("an app metric has the name of one of the sidecar's: the app's is left out",
              {{"target", config_.name},
               {"metric", family},
               {"hint",
                "a label under the target's labels (for example container: app) lets both "
                "be served; a rule can drop or keep it on purpose"}});
  }
}

}  // namespace covet::scrape
