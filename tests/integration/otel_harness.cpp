#include "tests/integration/otel_harness.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "tests/integration/external_process.h"
#include "tests/integration/sidecar_process.h"

extern char** environ;

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kNode = "/usr/bin/node";

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Completed {
  int exit_code = -1;
  bool timed_out = false;
  std::string out;
  std::string err;
  std::string error;
};

// Runs argv to completion with stdout and stderr kept apart, killed past `limit`. Like
// ExternalProcess, the child dies with the test process (PR_SET_PDEATHSIG).
Completed run_to_completion(std::vector<std::string> args, const std::vector<std::string>& env,
                            std::chrono::milliseconds limit) {
  Completed result;
  char tmpl[] = "/tmp/covet-otel-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    result.error = "mkdtemp failed";
    return result;
  }
  const std::string dir = tmpl, out_path = dir + "/out", err_path = dir + "/err";
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) environment.emplace_back(*entry);
  environment.insert(environment.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t parent = ::getpid();
  const pid_t pid = (out >= 0 && err >= 0) ? ::fork() : -1;
  if (pid == 0) {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  if (out >= 0) ::close(out);
  if (err >= 0) ::close(err);
  if (pid < 0) {
    result.error = "could not start " + args[0];
  } else {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) != pid) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        result.timed_out = true;
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  result.out = read_all(out_path);
  result.err = read_all(err_path);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return result;
}

void append_json_string(std::string& out, const std::string& text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_json(std::string& out, const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::null:
      out += "null";
      return;
    case JsonValue::Type::boolean:
      out += value.as_bool() ? "true" : "false";
      return;
    case JsonValue::Type::number: {
      char number[32];
      std::snprintf(number, sizeof number, "%.17g", value.as_number());
      out += number;
      return;
    }
    case JsonValue::Type::string:
      append_json_string(out, value.as_string());
      return;
    case JsonValue::Type::array: {
      out += '[';
      const char* separator = "";
      for (const JsonValue& item : value.as_array()) {
        out += separator;
        append_json(out, item);
        separator = ",";
      }
      out += ']';
      return;
    }
    case JsonValue::Type::object: {
      out += '{';
      const char* separator = "";
      for (const auto& [key, member] : value.as_object()) {
        out += separator;
        append_json_string(out, key);
        out += ':';
        append_json(out, member);
        separator = ",";
      }
      out += '}';
      return;
    }
  }
}

// Equal as JSON: objects compare by their members whatever their order.
bool same(const JsonValue& a, const JsonValue& b) {
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    const auto& x = a.as_array();
    const auto& y = b.as_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!same(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.as_object().size() != b.as_object().size()) return false;
    for (const auto& [key, member] : a.as_object()) {
      const JsonValue* other = b.find(key);
      if (other == nullptr || !same(member, *other)) return false;
    }
    return true;
  }
  return a == b;
}

JsonValue member_or_null(const JsonValue& object, std::string_view key) {
  const JsonValue* member = object.find(key);
  return member == nullptr ? JsonValue() : *member;
}

std::string span_key(const JsonValue& span) {
  return span.string_at("traceId").value_or("?") + "/" + span.string_at("spanId").value_or("?");
}

std::string describe(const JsonValue& span) {
  return "span " + span_key(span) + " \"" + span.string_at("name").value_or("") + "\"";
}

// The attribute-map differences, key by key: "KEY: sent X, received Y".
void diff_map(const std::string& what, const JsonValue& sent, const JsonValue& received,
              std::vector<std::string>& parts) {
  if (!sent.is_object() || !received.is_object()) {
    parts.push_back(what + ": sent " + to_json(sent) + ", received " + to_json(received));
    return;
  }
  for (const auto& [key, value] : sent.as_object()) {
    const JsonValue* other = received.find(key);
    if (other == nullptr) {
      parts.push_back(what + "." + key + ": missing (sent " + to_json(value) + ")");
    } else if (!same(value, *other)) {
      parts.push_back(what + "." + key + ": sent " + to_json(value) + ", received " +
                      to_json(*other));
    }
  }
  for (const auto& [key, value] : received.as_object()) {
    if (sent.find(key) == nullptr) {
      parts.push_back(what + "." + key + ": not sent, received " + to_json(value));
    }
  }
}

// The span fields compare_spans() checks, in a readable order.
constexpr const char* kFields[] = {
    "traceId",         "parentSpanId", "name",   "kind",  "startTimeUnixNano",
    "endTimeUnixNano", "status",       "events", "links", "scope"};

JsonValue parse_or_null(const std::string& text, std::string* error) {
  JsonParseResult parsed = parse_json(text);
  if (!parsed.value) {
    *error = parsed.error;
    return JsonValue();
  }
  return std::move(*parsed.value);
}

}  // namespace

std::string to_json(const JsonValue& value) {
  std::string out;
  append_json(out, value);
  return out;
}

std::string otel_tools_dir() { return std::string(COVET_SOURCE_DIR) + "/tests/otel"; }

std::string otel_tools_missing(const std::string& dir) {
  for (const char* package :
       {"@opentelemetry/sdk-trace-node", "@opentelemetry/exporter-trace-otlp-proto",
        "@opentelemetry/exporter-trace-otlp-http", "@opentelemetry/exporter-trace-otlp-grpc",
        "@opentelemetry/otlp-grpc-exporter-base", "protobufjs"}) {
    if (!std::filesystem::exists(dir + "/node_modules/" + package + "/package.json")) {
      return std::string("the OpenTelemetry test tools' npm packages are not installed (") +
             package + " is missing from " + dir + "/node_modules): run `npm ci --prefix " + dir +
             "` (scripts/test.sh does)";
    }
  }
  if (!std::filesystem::exists(kNode))
    return std::string(kNode) + " is missing: install Node.js 20";
  return "";
}

JaegerStandin::JaegerStandin() : JaegerStandin(Options{}) {}
JaegerStandin::JaegerStandin(Options options) : options_(std::move(options)) {}
JaegerStandin::~JaegerStandin() = default;

std::string JaegerStandin::start() {
  if (const std::string missing = otel_tools_missing(); !missing.empty()) return missing;
  std::string failures;
  // free_port() only finds a port that was free a moment ago: try another when the
  // stand-in could not bind it (unless a restart must keep its port).
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!keep_port_) port_ = free_port();
    std::vector<std::string> argv = {kNode, otel_tools_dir() + "/jaeger_standin.js", "--port",
                                     std::to_string(port_)};
    if (options_.fail_count > 0) {
      argv.insert(argv.end(), {"--fail-status", std::to_string(options_.fail_status),
                               "--fail-count", std::to_string(options_.fail_count)});
    }
    if (options_.retry_after_seconds) {
      argv.insert(argv.end(), {"--retry-after", std::to_string(*options_.retry_after_seconds)});
    }
    if (options_.delay_ms > 0) {
      argv.insert(argv.end(), {"--delay-ms", std::to_string(options_.delay_ms)});
    }
    process_ = std::make_unique<ExternalProcess>(argv, std::vector<std::string>{});
    // Whatever accepts connections must be this stand-in, not another test's server that
    // took a free port, or a connection to itself.
    if (process_->start() && process_->wait_listening(port_, 15s) && request_count() >= 0) {
      port_hold_.reset();
      return "";
    }
    failures += "jaeger_standin.js on port " + std::to_string(port_) +
                " did not start listening: " + process_->logs() + "\n";
    if (keep_port_) break;
  }
  return failures;
}

void JaegerStandin::stop() {
  // ExternalProcess's destructor: SIGTERM, then SIGKILL.
  process_.reset();
  keep_port_ = port_ != 0;
  if (keep_port_) port_hold_ = std::make_unique<PortHold>(port_);
}

std::string JaegerStandin::traces_url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/v1/traces";
}

std::string JaegerStandin::logs() const { return process_ ? process_->logs() : ""; }

StandinContents JaegerStandin::contents() const {
  StandinContents contents;
  HttpClient client;
  const HttpResult result = client.get("http://127.0.0.1:" + std::to_string(port_) + "/spans");
  if (result.status != 200) {
    contents.error =
        "GET /spans from the stand-in: " +
        (result.error.empty() ? "status " + std::to_string(result.status) : result.error);
    return contents;
  }
  const JsonValue document = parse_or_null(result.body, &contents.error);
  if (!contents.error.empty()) return contents;
  if (const JsonValue* spans = document.find("spans"); spans != nullptr && spans->is_array()) {
    contents.spans = spans->as_array();
  }
  if (const JsonValue* requests = document.find("requests");
      requests != nullptr && requests->is_array()) {
    for (const JsonValue& entry : requests->as_array()) {
      StandinRequest request;
      request.status = static_cast<int>(member_or_null(entry, "status").as_number());
      request.content_type = entry.string_at("contentType").value_or("");
      request.content_encoding = entry.string_at("contentEncoding").value_or("");
      request.bytes = static_cast<std::size_t>(member_or_null(entry, "bytes").as_number());
      request.at_ms = member_or_null(entry, "atMs").as_number();
      request.spans = static_cast<std::size_t>(member_or_null(entry, "spans").as_number());
      contents.requests.push_back(std::move(request));
    }
  }
  return contents;
}

int JaegerStandin::request_count() const {
  HttpClient client;
  const HttpResult result = client.get("http://127.0.0.1:" + std::to_string(port_) + "/stats");
  if (result.status != 200) return -1;
  std::string error;
  const JsonValue stats = parse_or_null(result.body, &error);
  const JsonValue* requests = stats.find("requests");
  return requests != nullptr && requests->is_number() ? static_cast<int>(requests->as_number())
                                                      : -1;
}

bool JaegerStandin::reset() const {
  HttpClient client;
  return client.get("http://127.0.0.1:" + std::to_string(port_) + "/reset", "POST").status == 200;
}

bool JaegerStandin::inject(const Options& options) const {
  std::string url = "http://127.0.0.1:" + std::to_string(port_) +
                    "/inject?status=" + std::to_string(options.fail_status) +
                    "&count=" + std::to_string(options.fail_count) +
                    "&delay_ms=" + std::to_string(options.delay_ms);
  if (options.retry_after_seconds) {
    url += "&retry_after=" + std::to_string(*options.retry_after_seconds);
  }
  HttpClient client;
  return client.get(url, "POST").status == 200;
}

SendSpansResult send_spans(const SendSpansOptions& options) {
  SendSpansResult result;
  if (const std::string missing = otel_tools_missing(); !missing.empty()) {
    result.error = missing;
    return result;
  }
  std::vector<std::string> argv = {kNode,        otel_tools_dir() + "/send_spans.js",
                                   "--protocol", options.protocol,
                                   "--spans",    std::to_string(options.spans)};
  if (!options.endpoint.empty()) argv.insert(argv.end(), {"--endpoint", options.endpoint});
  if (options.gzip) argv.push_back("--gzip");
  if (options.simple) argv.push_back("--simple");
  if (options.batch_size > 0) {
    argv.insert(argv.end(), {"--batch-size", std::to_string(options.batch_size)});
  }
  if (!options.service.empty()) argv.insert(argv.end(), {"--service", options.service});
  if (!options.run_id.empty()) argv.insert(argv.end(), {"--run-id", options.run_id});
  for (const auto& [key, value] : options.resource) {
    argv.insert(argv.end(), {"--resource", key + "=" + value});
  }
  if (options.timeout_ms > 0) {
    argv.insert(argv.end(), {"--timeout-ms", std::to_string(options.timeout_ms)});
  }
  const auto started = std::chrono::steady_clock::now();
  Completed run = run_to_completion(argv, options.env, options.limit);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.exit_code = run.exit_code;
  result.out = std::move(run.out);
  result.err = std::move(run.err);
  if (!run.error.empty()) {
    result.error = run.error;
    return result;
  }
  if (run.timed_out) {
    result.error = "send_spans.js did not finish within " + std::to_string(options.limit.count()) +
                   " ms (killed)";
  }
  // One JSON line on stdout, even when an export failed.
  std::string line = result.out;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  std::string parse_error;
  result.report = parse_or_null(line, &parse_error);
  if (!parse_error.empty()) {
    if (result.error.empty())
      result.error = "send_spans.js stdout is not one JSON line: " + parse_error;
    return result;
  }
  if (const JsonValue* spans = result.report.find("spans"); spans != nullptr && spans->is_array()) {
    result.sent = spans->as_array();
  }
  return result;
}

SendSpansResult send_spans(const std::string& protocol, const std::string& endpoint, int spans,
                           bool gzip) {
  SendSpansOptions options;
  options.protocol = protocol;
  options.endpoint = endpoint;
  options.spans = spans;
  options.gzip = gzip;
  return send_spans(options);
}

std::string compare_spans(const SpanList& sent, const SpanList& received,
                          const std::vector<std::pair<std::string, std::string>>& added_resource,
                          std::size_t max_lines) {
  std::vector<std::string> lines;
  std::map<std::string, std::vector<const JsonValue*>> arrived;
  for (const JsonValue& span : received) arrived[span_key(span)].push_back(&span);
  std::map<std::string, int> seen_sent;
  std::size_t missing = 0, duplicated = 0, changed = 0, unexpected = 0;

  for (const JsonValue& span : sent) {
    const std::string key = span_key(span);
    if (++seen_sent[key] > 1) {
      lines.push_back(describe(span) + ": sent twice (the ids are not unique)");
      continue;
    }
    auto it = arrived.find(key);
    if (it == arrived.end()) {
      ++missing;
      lines.push_back(describe(span) + ": missing");
      continue;
    }
    if (it->second.size() > 1) {
      ++duplicated;
      lines.push_back(describe(span) + ": arrived " + std::to_string(it->second.size()) + " times");
    }
    const JsonValue& got = *it->second.front();
    std::vector<std::string> parts;
    for (const char* field : kFields) {
      const JsonValue mine = member_or_null(span, field);
      const JsonValue theirs = member_or_null(got, field);
      if (!same(mine, theirs)) {
        parts.push_back(std::string(field) + ": sent " + to_json(mine) + ", received " +
                        to_json(theirs));
      }
    }
    diff_map("attributes", member_or_null(span, "attributes"), member_or_null(got, "attributes"),
             parts);
    // The expected resource: the app's, plus what the receiver adds where the app was silent.
    JsonValue::Object resource;
    if (const JsonValue* own = span.find("resource"); own != nullptr && own->is_object()) {
      resource = own->as_object();
    }
    for (const auto& [name, value] : added_resource) {
      const bool set_by_app = std::any_of(resource.begin(), resource.end(),
                                          [&](const auto& member) { return member.first == name; });
      if (!set_by_app) {
        resource.emplace_back(name, JsonValue::object({{"stringValue", JsonValue::string(value)}}));
      }
    }
    diff_map("resource", JsonValue::object(std::move(resource)), member_or_null(got, "resource"),
             parts);
    if (!parts.empty()) ++changed;
    for (const std::string& part : parts) lines.push_back(describe(span) + ": " + part);
  }
  for (const auto& [key, spans] : arrived) {
    if (seen_sent.count(key) == 0) {
      ++unexpected;
      lines.push_back(describe(*spans.front()) + ": arrived " + std::to_string(spans.size()) +
                      " time(s) but was not sent");
    }
  }
  if (lines.empty()) return "";
  std::string out = std::to_string(sent.size()) + " sent, " + std::to_string(received.size()) +
                    " received: " + std::to_string(missing) + " missing, " +
                    std::to_string(duplicated) + " duplicated, " + std::to_string(changed) +
                    " changed, " + std::to_string(unexpected) + " unexpected\n";
  for (std::size_t i = 0; i < lines.size() && i < max_lines; ++i) out += "  " + lines[i] + "\n";
  if (lines.size() > max_lines) {
    out += "  ... and " + std::to_string(lines.size() - max_lines) + " more\n";
  }
  return out;
}

}  // namespace covet::testing
