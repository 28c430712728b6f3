#pragma once
// One app page the sidecar fetches when /metrics is read: an HTTP GET through the agent's
// libcurl multi, then parsing and re-export rules on the thread pool.
//
// Fetches happen only when asked, and each is shared: every caller that asks while one is in
// flight waits for it (single-flight), and a result younger than min_interval is served
// again. A failed fetch replaces the last good page (its series disappear rather than being
// served as if current), and is itself reused for min_interval, so a dead app is not
// hammered by every /metrics reader.
//
// Ownership: the target owns its easy handle and its pool jobs (abandoned on close()). The
// CurlMulti and Logger outlive it.

#include <curl/curl.h>
#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/curl_multi.h"
#include "config/config.h"
#include "exporters/scrape/reexport.h"
#include "exporters/scrape/scrape_result.h"
#include "probes/pool_check.h"

namespace covet {
class Logger;
}

namespace covet::scrape {

// Totals since start, for covet_sidecar_scrape_*_total.
struct TargetCounters {
  std::map<std::string, std::uint64_t> failures_by_reason;
  std::uint64_t dropped_by_limit = 0;
  std::uint64_t dropped_by_clash = 0;
};

// Our own names, built on demand: a read served from the last fetch never needs them.
using OwnNamesSource = std::function<std::shared_ptr<const OwnNames>()>;

class ScrapeTarget {
 public:
  using Ready = std::function<void()>;

  ScrapeTarget(uv_loop_t* loop, net::CurlMulti& multi, config::ScrapeTargetConfig config,
               Logger& log);
  ~ScrapeTarget();
  ScrapeTarget(const ScrapeTarget&) = delete;
  ScrapeTarget& operator=(const ScrapeTarget&) = delete;

  // Calls `ready` on the loop once result() is fresh and holds its text in `format` (and
  // that text's gzip segment when `gzip`): at once when it already does, else after the
  // fetch (started now, or already in flight) and the conversion. `own` says which names
  // are ours; it is called only when this call starts a fetch.
  void prepare(Format format, bool gzip, const OwnNamesSource& own, Ready ready);
  // Drops the waiting callbacks and abandons the transfer and pool jobs.
  void close();

  const std::string& name() const { return config_.name; }
  // The last finished fetch, or null before the first.
  const ScrapeResult* result() const { return result_.get(); }
  const TargetCounters& counters() const { return counters_; }

 private:
  struct Waiter {
    Format format;
    bool gzip;
    Ready ready;
  };
  // What a conversion job makes: the text in one format, and its gzip segment if asked.
  struct Variant {
    std::shared_ptr<const std::string> text;
    std::shared_ptr<const metrics::DeflateSegment> gzip;
  };

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* self);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* self);

  bool fresh() const;
  void start_fetch(std::shared_ptr<const OwnNames> own);
  // Sets the credentials for this fetch; false (with `error`) when a file cannot be read.
  bool set_credentials(std::string& error);
  void on_fetched(CURLcode code);
  void finish(std::shared_ptr<ScrapeResult> result);
  void fail(std::string reason, std::string error);
  void serve(Waiter waiter);
  void log_outcome(const ScrapeResult& result);

  uv_loop_t* loop_;
  net::CurlMulti& multi_;
  config::ScrapeTargetConfig config_;
  Logger& log_;
  std::shared_ptr<const ReexportPlan> plan_;

  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;     // per fetch: Accept, and Authorization when set
  curl_slist* connect_to_ = nullptr;  // tls.server_name: where that name really is
  char error_buffer_[CURL_ERROR_SIZE] = {};
  std::string body_;
  std::size_t last_body_size_ = 0;
  std::string content_type_;
  bool too_large_ = false;
  bool fetching_ = false;
  bool closed_ = false;
  std::uint64_t fetch_started_ns_ = 0;
  std::shared_ptr<const OwnNames> own_;  // for the fetch in flight

  std::shared_ptr<ScrapeResult> result_;
  std::vector<Waiter> waiting_for_fetch_;
  std::array<std::vector<Waiter>, 2> waiting_for_variant_;  // by format
  probes::PoolCheck<std::shared_ptr<ScrapeResult>> processing_;
  std::array<std::unique_ptr<probes::PoolCheck<Variant>>, 2> converting_;  // by format
  std::array<bool, 2> converting_busy_{};

  TargetCounters counters_;
  std::string last_failure_logged_;  // reason of the failure last logged; "" while healthy
  bool limit_logged_ = false;
  std::set<std::string> clashes_logged_;
};

}  // namespace covet::scrape
