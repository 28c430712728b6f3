#include "tests/integration/prometheus_server.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <system_error>

#include "tests/integration/waiting.h"
#include "tests/support/json_value.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Percent-encodes everything but RFC 3986's unreserved characters, for query parameters.
std::string url_encode(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

// A YAML double-quoted scalar.
std::string yaml_quote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// Prometheus writes sample values as Go's FormatFloat(v, 'f', -1): plain decimals, or NaN,
// +Inf, -Inf.
std::optional<double> parse_sample_value(const std::string& text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "+Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<PromLabels> parse_labels(const JsonValue& object) {
  if (!object.is_object()) return std::nullopt;
  PromLabels labels;
  for (const auto& [name, value] : object.as_object()) {
    if (!value.is_string()) return std::nullopt;
    labels[name] = value.as_string();
  }
  return labels;
}

// [<unix time>, "<value>"], as in instant vectors and scalars.
std::optional<PromSample> parse_sample_pair(const JsonValue& pair) {
  const JsonValue::Array& items = pair.as_array();
  if (items.size() != 2 || !items[0].is_number() || !items[1].is_string()) return std::nullopt;
  const std::optional<double> value = parse_sample_value(items[1].as_string());
  if (!value) return std::nullopt;
  PromSample sample;
  sample.timestamp = items[0].as_number();
  sample.value = *value;
  return sample;
}

// The `data` member of a successful API answer, or the error: the transport's, the API's
// own ({"status":"error","errorType":...,"error":...}, with 400, 422 or 503), or a malformed
// answer's. `what` names the request in the error.
std::string api_data(const HttpResult& response, const std::string& what, JsonValue& data) {
  if (!response.error.empty()) return what + ": " + response.error;
  JsonParseResult parsed = parse_json(response.body);
  if (!parsed.value) {
    return fmt::format("{}: HTTP {}, not JSON ({}): {}", what, response.status, parsed.error,
                       response.body.substr(0, 200));
  }
  const JsonValue& answer = *parsed.value;
  if (answer.string_at("status") != "success") {
    return fmt::format("{}: HTTP {}, {}: {}", what, response.status,
                       answer.string_at("errorType").value_or("?"),
                       answer.string_at("error").value_or(response.body.substr(0, 200)));
  }
  const JsonValue* member = answer.find("data");
  if (member == nullptr) return what + ": no \"data\" in " + response.body.substr(0, 200);
  data = *member;
  return "";
}

}  // namespace

std::string promql_quote(const std::string& value) {
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

PrometheusServer::PrometheusServer(std::vector<ScrapeJob> jobs, std::vector<std::string> flags)
    : jobs_(std::move(jobs)), flags_(std::move(flags)) {
  char tmpl[] = "/tmp/covet-prom-XXXXXX";
  if (const char* made = ::mkdtemp(tmpl)) dir_ = made;
}

PrometheusServer::~PrometheusServer() {
  // Stop it before its directory goes: the TSDB is written until it exits.
  process_.reset();
  if (::testing::Test::HasFailure() && !dir_.empty()) {
    std::cerr << "--- prometheus (" << dir_ << ") log:\n" << logs() << "--- end\n";
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string PrometheusServer::config() const { return read_whole_file(dir_ + "/prometheus.yml"); }

std::string PrometheusServer::logs() const { return read_whole_file(dir_ + "/prometheus.log"); }

std::string PrometheusServer::url(const std::string& path) const {
  return fmt::format("http://127.0.0.1:{}{}", port_, path);
}

std::string PrometheusServer::start() {
  if (dir_.empty()) return "mkdtemp /tmp/covet-prom-XXXXXX failed";
  if (process_) return "prometheus: already started";
  if (::access(kBinary, X_OK) != 0) {
    return std::string("no ") + kBinary +
           ": install the prometheus package (scripts/install-deps.sh)";
  }
  std::string yaml = "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n";
  for (const ScrapeJob& job : jobs_) {
    const auto timeout = job.timeout.count() > 0 ? job.timeout : job.interval;
    yaml += fmt::format(
        "  - job_name: {}\n    scrape_interval: {}ms\n    scrape_timeout: {}ms\n"
        "    metrics_path: {}\n    honor_labels: {}\n    static_configs:\n      - targets: [",
        yaml_quote(job.name), job.interval.count(), timeout.count(), yaml_quote(job.metrics_path),
        job.honor_labels ? "true" : "false");
    for (std::size_t i = 0; i < job.targets.size(); ++i) {
      yaml += (i > 0 ? ", " : "") + yaml_quote(job.targets[i]);
    }
    yaml += "]\n";
  }
  write_file(dir_ + "/prometheus.yml", yaml);

  // free_port() only finds a port that was free a moment ago; if another process takes it
  // before Prometheus binds, try again on a new one.
  std::string failure;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    std::vector<std::string> argv{kBinary, "--config.file=" + dir_ + "/prometheus.yml",
                                  "--storage.tsdb.path=" + dir_ + "/data",
                                  fmt::format("--web.listen-address=127.0.0.1:{}", port_),
                                  "--log.level=warn"};
    argv.insert(argv.end(), flags_.begin(), flags_.end());
    process_ = std::make_unique<ExternalProcess>(std::move(argv), std::vector<std::string>{},
                                                 dir_ + "/prometheus.log");
    if (!process_->start()) {
      failure = "prometheus exited at once";
    } else if (!process_->wait_listening(port_, 30s)) {
      failure = process_->running() ? "prometheus did not listen within 30 s"
                                    : "prometheus exited before it listened";
    } else {
      bool ready = false;
      const bool settled = eventually(
          [&] {
            ready = client_.get(url("/-/ready")).status == 200;
            return ready || !process_->running();
          },
          30s);
      if (ready) return "";
      failure = settled ? "prometheus exited before it was ready"
                        : "prometheus was not ready within 30 s";
    }
    const std::string log = logs();
    process_.reset();
    if (log.find("address already in use") == std::string::npos) break;
  }
  return failure + "; config:\n" + config() + "log:\n" + logs();
}

std::string PrometheusServer::get(const std::string& path_and_query) {
  return client_.get(url(path_and_query)).body;
}

PromQueryResult PrometheusServer::query(const std::string& promql) {
  PromQueryResult result;
  const std::string what = "query " + promql;
  JsonValue data;
  result.error =
      api_data(client_.get(url("/api/v1/query?query=" + url_encode(promql))), what, data);
  if (!result.error.empty()) return result;
  const std::string type = data.string_at("resultType").value_or("");
  const JsonValue* payload = data.find("result");
  if (payload == nullptr) {
    result.error = what + ": no result";
    return result;
  }
  if (type == "scalar") {
    std::optional<PromSample> sample = parse_sample_pair(*payload);
    if (!sample) {
      result.error = what + ": malformed scalar";
      return result;
    }
    result.samples.push_back(std::move(*sample));
    return result;
  }
  if (type != "vector" || !payload->is_array()) {
    result.error = what + ": resultType \"" + type + "\", expected a vector or a scalar";
    return result;
  }
  for (const JsonValue& element : payload->as_array()) {
    const JsonValue* metric = element.find("metric");
    const JsonValue* value = element.find("value");
    std::optional<PromLabels> labels;
    std::optional<PromSample> sample;
    if (metric != nullptr) labels = parse_labels(*metric);
    if (value != nullptr) sample = parse_sample_pair(*value);
    if (!labels || !sample) {
      result.error = what + ": malformed vector element";
      result.samples.clear();
      return result;
    }
    sample->labels = std::move(*labels);
    result.samples.push_back(std::move(*sample));
  }
  return result;
}

std::optional<double> PrometheusServer::query_value(const std::string& promql) {
  const PromQueryResult result = query(promql);
  if (!result.error.empty() || result.samples.size() != 1) return std::nullopt;
  return result.samples.front().value;
}

PromSeriesResult PrometheusServer::series(const std::string& match) {
  PromSeriesResult result;
  const std::string what = "series " + match;
  JsonValue data;
  result.error =
      api_data(client_.get(url("/api/v1/series?match%5B%5D=" + url_encode(match))), what, data);
  if (!result.error.empty()) return result;
  if (!data.is_array()) {
    result.error = what + ": data is not an array";
    return result;
  }
  for (const JsonValue& element : data.as_array()) {
    std::optional<PromLabels> labels = parse_labels(element);
    if (!labels) {
      result.error = what + ": malformed series";
      result.series.clear();
      return result;
    }
    result.series.push_back(std::move(*labels));
  }
  return result;
}

PromTargetsResult PrometheusServer::targets() {
  PromTargetsResult result;
  JsonValue data;
  result.error = api_data(client_.get(url("/api/v1/targets?state=active")), "targets", data);
  if (!result.error.empty()) return result;
  const JsonValue* active = data.find("activeTargets");
  if (active == nullptr || !active->is_array()) {
    result.error = "targets: no activeTargets";
    return result;
  }
  for (const JsonValue& element : active->as_array()) {
    PromTarget target;
    const JsonValue* labels = element.find("labels");
    if (labels != nullptr) {
      target.job = labels->string_at("job").value_or("");
      target.instance = labels->string_at("instance").value_or("");
    }
    target.scrape_url = element.string_at("scrapeUrl").value_or("");
    target.last_error = element.string_at("lastError").value_or("");
    target.last_scrape = element.string_at("lastScrape").value_or("");
    std::optional<std::string> health = element.string_at("health");
    if (!health) {
      result.error = "targets: a target without health";
      result.targets.clear();
      return result;
    }
    target.health = *health;
    result.targets.push_back(std::move(target));
  }
  return result;
}

std::string PrometheusServer::wait_for_scrapes(int n, std::chrono::milliseconds timeout,
                                               const std::string& job) {
  // Scrapes stored per target (job and instance). The window only has to be longer than the
  // test: samples older than an hour would fall out of the count.
  const std::string promql = job.empty() ? "count_over_time(up[1h])"
                                         : "count_over_time(up{job=" + promql_quote(job) + "}[1h])";
  std::size_t expected_targets = 0;
  for (const ScrapeJob& scrape_job : jobs_) {
    if (job.empty() || scrape_job.name == job) expected_targets += scrape_job.targets.size();
  }
  if (expected_targets == 0) return "wait_for_scrapes: no target in job \"" + job + "\"";

  std::string error;
  auto counts = [&](std::map<PromLabels, double>& out) {
    out.clear();
    const PromQueryResult result = query(promql);
    error = result.error;
    for (const PromSample& sample : result.samples) out[sample.labels] = sample.value;
    return error.empty();
  };
  std::map<PromLabels, double> before;
  if (!counts(before)) return "wait_for_scrapes: " + error;
  std::map<PromLabels, double> now;
  const bool done = eventually(
      [&] {
        if (!counts(now) || now.size() < expected_targets) return false;
        for (const auto& [target, count] : now) {
          const auto it = before.find(target);
          const double base = it == before.end() ? 0 : it->second;
          if (count < base + n) return false;
        }
        return true;
      },
      timeout);
  if (done) return "";
  std::string report = fmt::format(
      "wait_for_scrapes: fewer than {} new scrapes of {} target(s) "
      "within {} ms{}{}; stored per target (before -> now):",
      n, expected_targets, timeout.count(), error.empty() ? "" : "; last error: ", error);
  for (const auto& [target, count] : now) {
    const auto it = before.find(target);
    report += fmt::format(" {}/{} {} -> {};", target.count("job") ? target.at("job") : "",
                          target.count("instance") ? target.at("instance") : "",
                          it == before.end() ? 0 : it->second, count);
  }
  return report;
}

}  // namespace covet::testing
