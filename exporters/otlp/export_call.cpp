#include "exporters/otlp/export_call.h"

#include <fmt/format.h>
#include <strings.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "agent/curl_failure.h"
#include "agent/curl_tls.h"
#include "config/secret_file.h"
#include "covet/version.h"
#include "exporters/otlp/gzip_parts.h"
#include "exporters/otlp/traces.h"

namespace covet::otlp {
namespace {

// An ExportTraceServiceResponse or a Status is tens of bytes; an error page may be more.
constexpr std::size_t kMaxResponseBytes = 64 * 1024;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == '\r' || text.back() == '\n' || text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

// The start of a response body fit for a log line: printable ASCII only.
std::string printable_prefix(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : '.';
  return out;
}

}  // namespace

ExportCall::ExportCall(net::CurlMulti& multi, const config::OtlpExporterConfig& config)
    : multi_(multi), config_(config), easy_(curl_easy_init()) {
  curl_easy_setopt(easy_, CURLOPT_URL, config_.endpoint.c_str());
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, error_buffer_);
  const std::string agent = fmt::format("covet-sidecar/{}", kVersion);
  curl_easy_setopt(easy_, CURLOPT_USERAGENT, agent.c_str());  // curl copies strings
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &ExportCall::on_body);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &ExportCall::on_header);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(easy_, CURLOPT_POST, 1L);
  // The body comes from on_read, with its size set per call (no CURLOPT_POSTFIELDS).
  curl_easy_setopt(easy_, CURLOPT_READFUNCTION, &ExportCall::on_read);
  curl_easy_setopt(easy_, CURLOPT_READDATA, this);
  curl_easy_setopt(easy_, CURLOPT_SEEKFUNCTION, &ExportCall::on_seek);
  curl_easy_setopt(easy_, CURLOPT_SEEKDATA, this);
  // curl's default 64 KiB upload buffer sends a 4 MiB batch in 64 turns of the loop, which
  // starves exports when the receivers are busy; a larger one takes a few.
  curl_easy_setopt(easy_, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
  connect_to_ = net::apply_client_tls(easy_, config_.endpoint, config_.tls);
}

ExportCall::~ExportCall() {
  multi_.remove(easy_);
  curl_easy_cleanup(easy_);
  curl_slist_free_all(headers_);
  curl_slist_free_all(connect_to_);
}

bool ExportCall::build_headers(std::string& error) {
  curl_slist_free_all(headers_);
  headers_ = curl_slist_append(nullptr, "Content-Type: application/x-protobuf");
  if (config_.gzip) headers_ = curl_slist_append(headers_, "Content-Encoding: gzip");
  // curl would otherwise wait up to a second for "100 Continue" before a large body.
  headers_ = curl_slist_append(headers_, "Expect:");
  for (const auto& [name, value] : config_.headers) {
    headers_ = curl_slist_append(headers_, fmt::format("{}: {}", name, value).c_str());
  }
  for (const auto& [name, path] : config_.header_files) {
    config::SecretRead value = config::read_secret_file(path, "header_files." + name);
    if (!value.value) {
      error = std::move(value.error);
      return false;
    }
    if (has_line_break(*value.value)) {
      error = "header_files." + name + " " + path + ": holds more than one line";
      return false;
    }
    headers_ = curl_slist_append(headers_, fmt::format("{}: {}", name, *value.value).c_str());
  }
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers_);
  return true;
}

void ExportCall::start(std::vector<std::string_view> parts, Done done) {
  busy_ = true;
  done_ = std::move(done);
  started_ = std::chrono::steady_clock::now();
  response_.clear();
  retry_after_.clear();
  error_buffer_[0] = '\0';
  std::string header_error;
  if (!build_headers(header_error)) {
    ExportOutcome outcome;
    outcome.after = AfterExport::retry;  // the file may be back (a Secret being rotated)
    outcome.reason = "headers";
    outcome.error = std::move(header_error);
    busy_ = false;
    Done finished = std::move(done_);
    finished(std::move(outcome));
    return;
  }
  if (config_.gzip) {
    // Level 1: most of the saving at a fraction of the CPU, which the loop thread pays.
    // One stream over the parts: they are never gathered uncompressed.
    gzip_parts(parts, 1, compressed_);
    parts_.assign(1, compressed_);
  } else {
    parts_ = std::move(parts);
  }
  part_ = 0;
  offset_ = 0;
  curl_off_t size = 0;
  for (std::string_view part : parts_) size += static_cast<curl_off_t>(part.size());
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, size);
  if (!multi_.add(easy_, [this](CURLcode code) { finish(code); })) {
    finish(CURLE_FAILED_INIT);
  }
}

void ExportCall::finish(CURLcode code) {
  ExportOutcome outcome;
  outcome.duration = std::chrono::steady_clock::now() - started_;
  if (code != CURLE_OK) {
    outcome.after = AfterExport::retry;
    outcome.reason = std::string(net::failure_reason(code));
    outcome.error = error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(code);
  } else {
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    outcome.status = status;
    outcome.after = after_status(status);
    if (outcome.after == AfterExport::delivered) {
      if (const std::optional<PartialSuccess> partial = decode_response(response_)) {
        outcome.rejected_spans = partial->rejected_spans;
        outcome.partial_message = partial->error_message;
      }
    } else {
      outcome.reason = fmt::format("http_{}", status);
      outcome.error = fmt::format("HTTP {}: {}", status, printable_prefix(response_));
      if (!retry_after_.empty()) {
        outcome.retry_after = parse_retry_after(retry_after_, std::chrono::system_clock::now());
      }
    }
  }
  compressed_.clear();
  parts_.clear();
  busy_ = false;
  Done finished = std::move(done_);
  finished(std::move(outcome));
}

void ExportCall::release_idle_memory() {
  if (!busy_) std::string().swap(compressed_);
}

std::size_t ExportCall::on_body(char* data, std::size_t size, std::size_t count, void* self) {
  auto* call = static_cast<ExportCall*>(self);
  const std::size_t n = size * count;
  const std::size_t room = kMaxResponseBytes - std::min(kMaxResponseBytes, call->response_.size());
  call->response_.append(data, std::min(n, room));
  return n;  // the rest is read and ignored, so the connection stays usable
}

std::size_t ExportCall::on_read(char* buffer, std::size_t size, std::size_t count, void* self) {
  auto* call = static_cast<ExportCall*>(self);
  const std::size_t room = size * count;
  std::size_t written = 0;
  while (written < room && call->part_ < call->parts_.size()) {
    const std::string_view part = call->parts_[call->part_];
    const std::size_t n = std::min(room - written, part.size() - call->offset_);
    if (n > 0) std::memcpy(buffer + written, part.data() + call->offset_, n);
    written += n;
    call->offset_ += n;
    if (call->offset_ == part.size()) {
      ++call->part_;
      call->offset_ = 0;
    }
  }
  return written;
}

int ExportCall::on_seek(void* self, curl_off_t offset, int origin) {
  auto* call = static_cast<ExportCall*>(self);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  auto remaining = static_cast<std::uint64_t>(offset);
  call->part_ = 0;
  call->offset_ = 0;
  while (call->part_ < call->parts_.size() && remaining >= call->parts_[call->part_].size()) {
    remaining -= call->parts_[call->part_].size();
    ++call->part_;
  }
  if (call->part_ == call->parts_.size())
    return remaining == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_FAIL;
  call->offset_ = static_cast<std::size_t>(remaining);
  return CURL_SEEKFUNC_OK;
}

std::size_t ExportCall::on_header(char* data, std::size_t size, std::size_t count, void* self) {
  auto* call = static_cast<ExportCall*>(self);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  if (line.starts_with("HTTP/")) call->retry_after_.clear();  // a 100's head came first
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() && strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
    call->retry_after_.assign(trim(line.substr(kName.size())).substr(0, 100));
  }
  return n;
}

}  // namespace covet::otlp
