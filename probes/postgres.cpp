#include "probes/postgres.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "config/secret_file.h"
#include "probes/peer_certificates.h"

namespace covet::probes {
namespace {

// The readings, named as postgres_exporter names them so its dashboards and alerts work.
struct ReadingDescriptor {
  std::string_view name;
  std::string_view help;
};
constexpr ReadingDescriptor kUp{"pg_up",
                                "Whether the last check could connect to the server (1 for yes, "
                                "0 for no)."};
constexpr ReadingDescriptor kIsReplica{"pg_replication_is_replica",
                                       "Indicates if the server is a replica (in recovery)."};

// Appended to the user's query on its own line, so a trailing "-- comment" in the query
// cannot swallow it. Both statements run in one round trip.
constexpr std::string_view kRecoveryQuery = "\n;SELECT pg_is_in_recovery()";

// libpq's defaults, for describing a DSN that leaves them out.
constexpr std::string_view kDefaultPort = "5432";

struct Pattern {
  std::string_view text;  // matched case-insensitively against libpq's message
  std::string_view reason;
};
// Order matters: the first match wins. The messages are the server's and libpq's own
// (English: the probe does not set lc_messages, and libpq's client-side messages are
// translated only when built with NLS for the local language).
constexpr std::array<Pattern, 13> kMessagePatterns{{
    {"too many clients", "too_many_connections"},
    {"remaining connection slots are reserved", "too_many_connections"},
    {"password authentication failed", "auth_failed"},
    {"authentication failed", "auth_failed"},
    {"no pg_hba.conf entry", "auth_failed"},
    {"no password supplied", "auth_failed"},
    {"connection refused", "refused"},
    {"could not translate host name", "refused"},
    {"name or service not known", "refused"},
    {"no route to host", "refused"},
    {"network is unreachable", "refused"},
    {"host is unreachable", "refused"},
    {"no such file or directory", "refused"},  // a Unix socket path with no server behind it
}};

bool contains_ignoring_case(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::string value_or(const char* value, std::string_view fallback) {
  return value != nullptr && *value != '\0' ? std::string(value) : std::string(fallback);
}

void free_conninfo(PQconninfoOption* options) { PQconninfoFree(options); }

// A cancel request in flight on the pool. It owns the PGcancel (a copy of what it needs
// from the connection) and touches nothing of the probe, which may be gone by the time the
// request returns: PQcancel opens its own connection and can take as long as the server or
// network make it.
struct CancelJob {
  uv_work_t request{};
  PGcancel* cancel = nullptr;
  std::shared_ptr<bool> running;

  static void onWork(uv_work_t* request) {
    auto* job = static_cast<CancelJob*>(request->data);
    // The outcome does not change the check's result (already a timeout); a failed cancel
    // leaves a query the dropped connection's backend ends when it next writes to it.
    std::array<char, 256> error{};
    PQcancel(job->cancel, error.data(), static_cast<int>(error.size()));
  }
  static void onAfterWork(uv_work_t* request, int /*status: ECANCELED is fine too*/) {
    std::unique_ptr<CancelJob> job(static_cast<CancelJob*>(request->data));
    PQfreeCancel(job->cancel);
    *job->running = false;
  }
};

}  // namespace

std::string_view classify_postgres_error(std::string_view sqlstate, std::string_view message,
                                         bool connecting) {
  if (sqlstate == "53300") return "too_many_connections";
  if (sqlstate == "28P01" || sqlstate == "28000") return "auth_failed";
  for (const Pattern& pattern : kMessagePatterns) {
    if (contains_ignoring_case(message, pattern.text)) return pattern.reason;
  }
  return connecting ? "connect_failed" : "query_error";
}

std::string clean_libpq_message(std::string_view message) {
  message = trim(message);
  // libpq 15: 'connection to server at "127.0.0.1", port 5432 failed: <reason>'.
  if (message.starts_with("connection to server")) {
    const std::size_t failed = message.find(" failed: ");
    if (failed != std::string_view::npos) message.remove_prefix(failed + 9);
  }
  for (std::string_view severity : {"FATAL:", "ERROR:"}) {
    if (message.starts_with(severity)) message = trim(message.substr(severity.size()));
  }
  message = trim(message.substr(0, message.find('\n')));
  std::string out(message);
  // "Connection refused" (strerror) reads as "connection refused" after "connect x: ".
  if (out.size() > 1 && std::isupper(static_cast<unsigned char>(out[0])) &&
      std::islower(static_cast<unsigned char>(out[1]))) {
    out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  }
  return out;
}

PostgresProbe::PostgresProbe(uv_loop_t* loop, config::PostgresProbeConfig config)
    : loop_(loop),
      config_(std::move(config)),
      resolver_(loop),
      backoff_(config_.reconnect_backoff, config_.reconnect_backoff_max) {
  char* parse_error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&free_conninfo)> options(
      PQconninfoParse(config_.dsn.c_str(), &parse_error), &free_conninfo);
  if (!options) {
    // libpq quotes the offending part of the DSN, which may be the password: never shown.
    dsn_error_ = "dsn: not a valid libpq connection string";
    if (parse_error == nullptr) dsn_error_ += " (out of memory)";
    PQfreemem(parse_error);
    server_ = "(invalid dsn)";
    return;
  }
  std::string host, hostaddr, port, dbname, user;
  for (PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    const std::string_view keyword = option->keyword;
    // password_file wins over a password written in the DSN.
    if (keyword == "password" && !config_.password_file.empty()) continue;
    if (keyword == "host") host = option->val;
    if (keyword == "hostaddr") hostaddr = option->val;
    if (keyword == "port") port = option->val;
    if (keyword == "dbname") dbname = option->val;
    if (keyword == "user") user = option->val;
    keywords_.emplace_back(keyword);
    values_.emplace_back(option->val);
  }
  // A socket directory ("/run/postgresql", "@abstract"), an address or a host list needs no
  // lookup from us.
  if (hostaddr.empty() && !host.empty() && host.find(',') == std::string::npos &&
      host.front() != '/' && host.front() != '@' && !is_ip_literal(host)) {
    host_name_ = host;
  }
  // Lets a DBA find (and tell apart) our session in pg_stat_activity.
  keywords_.emplace_back("fallback_application_name");
  values_.emplace_back("covet-sidecar");
  server_ = fmt::format("{}:{}/{}", !host.empty() ? host : value_or(hostaddr.c_str(), "localhost"),
                        port.empty() ? kDefaultPort : port, dbname.empty() ? user : dbname);
}

PostgresProbe::~PostgresProbe() {
  cancel();  // a query still running on the server is cancelled there too
  drop_connection();
}

ProbeResult PostgresProbe::base_result() const {
  ProbeResult result;
  result.detail.emplace_back("server", server_);
  return result;
}

void PostgresProbe::start(Completion done) {
  cancel();  // normally a no-op: the scheduler cancels a check before starting the next
  done_ = std::move(done);
  if (!dsn_error_.empty()) return fail("config", dsn_error_);

  if (conn_ != nullptr) {
    reused_ = true;
    return send_query();
  }
  const std::uint64_t now = uv_now(loop_);
  if (backoff_.waiting(now)) {
    ProbeResult result = base_result();
    backoff_.describe_wait(now, result);
    result.readings.push_back({std::string(kUp.name), std::string(kUp.help), {}, 0, false});
    return finish(std::move(result));
  }
  reused_ = false;
  connect();
}

void PostgresProbe::connect() {
  if (host_name_.empty()) return open_connection({});
  phase_ = Phase::resolving;
  resolver_.resolve(host_name_, [this](std::vector<std::string> addresses, std::string error) {
    if (!error.empty()) {
      // Classified like libpq's own "could not translate host name": nothing to connect to.
      return fail("refused", fmt::format("connect {}: could not resolve host name \"{}\": {}",
                                         server_, host_name_, error));
    }
    open_connection(addresses);
  });
}

void PostgresProbe::open_connection(const std::vector<std::string>& addresses) {
  std::string password;
  if (!config_.password_file.empty()) {
    config::SecretRead secret = config::read_secret_file(config_.password_file, "password_file");
    if (!secret.value) return fail("auth_failed", secret.error);
    password = std::move(*secret.value);
  }
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  std::string hosts;
  std::string hostaddrs;
  for (const std::string& address : addresses) {
    // libpq pairs the lists by position: the name once per address.
    hosts += (hosts.empty() ? "" : ",") + host_name_;
    hostaddrs += (hostaddrs.empty() ? "" : ",") + address;
  }
  for (std::size_t i = 0; i < keywords_.size(); ++i) {
    if (!addresses.empty() && keywords_[i] == "host") continue;
    keywords.push_back(keywords_[i].c_str());
    values.push_back(values_[i].c_str());
  }
  if (!addresses.empty()) {
    keywords.push_back("host");
    values.push_back(hosts.c_str());
    keywords.push_back("hostaddr");
    values.push_back(hostaddrs.c_str());
  }
  if (!config_.password_file.empty()) {
    // A keyword, never spliced into a DSN string: nothing that is logged or printed ever
    // holds it. libpq keeps its own copy.
    keywords.push_back("password");
    values.push_back(password.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);

  phase_ = Phase::connecting;
  // expand_dbname 0: the values are already parsed; a dbname is just a name.
  conn_ = PQconnectStartParams(keywords.data(), values.data(), 0);
  std::fill(password.begin(), password.end(), '\0');
  if (conn_ == nullptr) return fail("connect_failed", "connect " + server_ + ": out of memory");
  if (PQstatus(conn_) == CONNECTION_BAD) {
    const std::string message = clean_libpq_message(PQerrorMessage(conn_));
    return fail(std::string(classify_postgres_error("", message, true)),
                "connect " + server_ + ": " + message);
  }
  // The first PQconnectPoll call may not wait for the socket (libpq's docs: behave as if
  // it last returned PGRES_POLLING_WRITING).
  watch(UV_WRITABLE);
}

void PostgresProbe::continue_connect() {
  const PostgresPollingStatusType polled = PQconnectPoll(conn_);
  switch (polled) {
    case PGRES_POLLING_READING:
      watch(UV_READABLE);
      return;
    case PGRES_POLLING_WRITING:
      watch(UV_WRITABLE);
      return;
    case PGRES_POLLING_OK: {
      // Nonblocking mode makes PQfinish's goodbye and PQsendQuery's writes return instead
      // of waiting on a full socket buffer.
      PQsetnonblocking(conn_, 1);
      server_ = fmt::format("{}:{}/{}", value_or(PQhost(conn_), "localhost"),
                            value_or(PQport(conn_), kDefaultPort), value_or(PQdb(conn_), ""));
      server_version_ = value_or(PQparameterStatus(conn_, "server_version"), "");
      read_server_certificate();
      return send_query();
    }
    default: {  // PGRES_POLLING_FAILED
      const std::string message = clean_libpq_message(PQerrorMessage(conn_));
      return fail(std::string(classify_postgres_error("", message, true)),
                  "connect " + server_ + ": " + message);
    }
  }
}

void PostgresProbe::read_server_certificate() {
  certificate_readings_.clear();
  if (PQsslInUse(conn_) == 0) return;
  // libpq is built with OpenSSL here; another library would answer null, and then the
  // certificate simply goes unreported.
  auto* ssl = static_cast<SSL*>(PQsslStruct(conn_, "OpenSSL"));
  if (ssl == nullptr) return;
  if (const std::optional<PeerCertificates> certificates = read_peer_certificates(ssl)) {
    certificate_readings_ = certificate_readings(*certificates);
  }
}

void PostgresProbe::send_query() {
  phase_ = Phase::querying;
  query_reason_.clear();
  query_error_.clear();
  in_recovery_ = -1;
  const std::string query = config_.query + std::string(kRecoveryQuery);
  if (PQsendQuery(conn_, query.c_str()) == 0) {
    const std::string message = clean_libpq_message(PQerrorMessage(conn_));
    if (reused_) {
      // The server closed the idle connection (restart, idle timeout, failover): that
      // says nothing yet about whether it is up now, so connect again at once.
      drop_connection();
      reused_ = false;
      return connect();
    }
    return fail(std::string(classify_postgres_error("", message, false)),
                "query " + server_ + ": " + message);
  }
  // PQflush 1: more to write; wait for writability too. Small queries leave at once.
  watch(PQflush(conn_) == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE);
}

void PostgresProbe::continue_query(int events) {
  if ((events & UV_WRITABLE) != 0) {
    const int flushed = PQflush(conn_);
    if (flushed == 1) {
      watch(UV_READABLE | UV_WRITABLE);
      return;
    }
    // On failure the check has been reported and the connection dropped.
    if (flushed == 0 && !watch(UV_READABLE)) return;
  }
  if (!consume_input()) return;
  while (PQisBusy(conn_) == 0) {
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) break;  // every statement answered
    std::unique_ptr<PGresult, decltype(&PQclear)> res(raw, &PQclear);
    if (phase_ == Phase::stats) {
      take_stats_result(res.get());
    } else {
      take_check_result(res.get());
    }
  }
  if (PQisBusy(conn_) != 0) return;  // more to come; the poll stays on READABLE
  if (phase_ == Phase::stats) return finish_stats_statement();
  finish_check();
}

bool PostgresProbe::consume_input() {
  if (PQconsumeInput(conn_) != 0 && PQstatus(conn_) != CONNECTION_BAD) return true;
  const std::string message = clean_libpq_message(PQerrorMessage(conn_));
  if (phase_ == Phase::querying && reused_ && query_error_.empty()) {
    drop_connection();  // see send_query: a stale idle connection; connect again at once
    reused_ = false;
    connect();
    return false;
  }
  fail(std::string(classify_postgres_error("", message, true)),
       "query " + server_ + ": " + message);
  return false;
}

void PostgresProbe::take_check_result(const PGresult* res) {
  const ExecStatusType status = PQresultStatus(res);
  if (status == PGRES_TUPLES_OK && PQnfields(res) == 1 && PQntuples(res) == 1 &&
      std::string_view(PQfname(res, 0)) == "pg_is_in_recovery") {
    in_recovery_ = std::string_view(PQgetvalue(res, 0, 0)) == "t" ? 1 : 0;
  } else if ((status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR) &&
             query_error_.empty()) {
    const char* sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const std::string message = clean_libpq_message(PQresultErrorMessage(res));
    query_reason_ = classify_postgres_error(sqlstate != nullptr ? sqlstate : "", message, false);
    query_error_ = "query " + server_ + ": " + message;
  }
}

void PostgresProbe::take_stats_result(const PGresult* res) {
  const ExecStatusType status = PQresultStatus(res);
  if (status == PGRES_TUPLES_OK) {
    const int columns = PQnfields(res);
    for (int row = 0; row < PQntuples(res); ++row) {
      StatsRow& cells = stats_rows_.emplace_back();
      for (int column = 0; column < columns; ++column) {
        if (PQgetisnull(res, row, column) != 0) {
          cells.emplace_back(std::nullopt);
        } else {
          cells.emplace_back(std::string(PQgetvalue(res, row, column),
                                         static_cast<std::size_t>(PQgetlength(res, row, column))));
        }
      }
    }
  } else if ((status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR) &&
             stats_error_.empty()) {
    stats_error_ = clean_libpq_message(PQresultErrorMessage(res));
  }
}

void PostgresProbe::finish_check() {
  if (!query_error_.empty()) return fail(query_reason_, query_error_);

  ProbeResult result = base_result();
  if (!server_version_.empty()) result.detail.emplace_back("server_version", server_version_);
  result.readings.push_back({std::string(kUp.name), std::string(kUp.help), {}, 1, false});
  if (in_recovery_ >= 0) {
    result.detail.emplace_back("in_recovery", in_recovery_ == 1 ? "true" : "false");
    result.readings.push_back({std::string(kIsReplica.name),
                               std::string(kIsReplica.help),
                               {},
                               static_cast<double>(in_recovery_),
                               false});
  }
  if (config_.require_primary && in_recovery_ == 1) {
    result.status = Status::failing;
    result.reason = "in_recovery";
    result.detail.emplace_back("reason", "in_recovery");
    result.error = "check " + server_ +
                   ": the server is in recovery (a standby) and "
                   "require_primary is set";
  } else {
    result.status = Status::passing;
  }
  // The connection works whatever the verdict: the next connect failure starts the
  // backoff from its beginning.
  backoff_.succeeded();
  checked_ = std::move(result);
  if (config_.stats_interval.count() > 0 && uv_now(loop_) >= stats_due_ms_) {
    stats_step_ = 0;
    stats_collected_.clear();
    stats_collected_notes_.clear();
    return send_stats_statement();
  }
  report_checked();
}

void PostgresProbe::send_stats_statement() {
  phase_ = Phase::stats;
  stats_rows_.clear();
  stats_error_.clear();
  const StatsStatement& statement = postgres_stats_statements()[stats_step_];
  if (PQsendQuery(conn_, std::string(statement.sql).c_str()) == 0) {
    const std::string message = clean_libpq_message(PQerrorMessage(conn_));
    return fail(std::string(classify_postgres_error("", message, true)),
                "query " + server_ + ": " + message);
  }
  watch(PQflush(conn_) == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE);
}

void PostgresProbe::finish_stats_statement() {
  const std::span<const StatsStatement> statements = postgres_stats_statements();
  const StatsStatement& statement = statements[stats_step_];
  if (stats_error_.empty()) {
    statement.to_readings(stats_rows_, stats_collected_);
  } else {
    // A privilege the role lacks (or a server too old for a view) costs only these
    // metrics: the check stays what its own query said.
    stats_collected_notes_.push_back(fmt::format("{}: {}", statement.what, stats_error_));
  }
  stats_rows_.clear();
  if (++stats_step_ < statements.size()) return send_stats_statement();
  stats_readings_ = std::move(stats_collected_);
  stats_notes_ = std::move(stats_collected_notes_);
  stats_due_ms_ = uv_now(loop_) + static_cast<std::uint64_t>(config_.stats_interval.count());
  report_checked();
}

void PostgresProbe::report_checked() {
  ProbeResult result = std::move(checked_);
  checked_ = ProbeResult{};
  result.readings.insert(result.readings.end(), stats_readings_.begin(), stats_readings_.end());
  result.readings.insert(result.readings.end(), certificate_readings_.begin(),
                         certificate_readings_.end());
  result.notes = stats_notes_;
  phase_ = Phase::idle;
  close_poll();  // an idle connection is not watched; the next check opens a new poll
  finish(std::move(result));
}

bool PostgresProbe::watch(int events) {
  if (poll_ == nullptr) {
    poll_ = new uv_poll_t{};
    // uv_poll_init_socket only fails on a bad fd, which PQconnectStart would not return.
    int rc = uv_poll_init_socket(loop_, poll_, PQsocket(conn_));
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      fail("connect_failed", fmt::format("poll {}: {}", server_, uv_strerror(rc)));
      return false;
    }
    poll_->data = this;
  }
  if (int rc = uv_poll_start(poll_, events, &PostgresProbe::on_poll); rc != 0) {
    fail("connect_failed", fmt::format("poll {}: {}", server_, uv_strerror(rc)));
    return false;
  }
  return true;
}

void PostgresProbe::on_poll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<PostgresProbe*>(handle->data);
  if (self == nullptr) return;  // closing: the owner let go of it
  if (status < 0) {
    // libuv reports an error condition on the socket (EPOLLERR: a refused connect, a reset)
    // as UV_EBADF without events. libpq reads the real error (SO_ERROR, recv) itself, so
    // let it look: that is what turns it into "connection refused" rather than "bad file
    // descriptor".
    events = UV_READABLE | UV_WRITABLE;
  }
  if (self->phase_ == Phase::connecting) {
    // libpq may close the socket and open another inside PQconnectPoll (the next address
    // of a host, an SSL retry without SSL), and the new one often gets the same fd number,
    // so "did PQsocket change" cannot be told reliably. A fresh poll handle after every
    // step is always right and costs a few allocations per connect.
    self->close_poll();
    return self->continue_connect();
  }
  if (self->phase_ == Phase::querying || self->phase_ == Phase::stats) {
    return self->continue_query(events);
  }
}

void PostgresProbe::close_poll() {
  if (poll_ == nullptr) return;
  poll_->data = nullptr;
  // uv_close stops the poll and detaches the fd at once, so the fd may be closed (PQfinish)
  // right after; only the handle's memory waits for the close callback.
  uv_close(reinterpret_cast<uv_handle_t*>(poll_),
           [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
  poll_ = nullptr;
}

void PostgresProbe::drop_connection() {
  resolver_.abandon();
  close_poll();
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  phase_ = Phase::idle;
  stats_readings_.clear();
  stats_notes_.clear();
  certificate_readings_.clear();
  stats_due_ms_ = 0;  // read at once on the next connection: it may be another server
}

void PostgresProbe::fail(std::string reason, std::string error) {
  // Whatever failed, the connection is not trusted again: the next connect waits out the
  // backoff, so a server in trouble gets at most one attempt per delay from us.
  drop_connection();
  back_off(reason, error);

  ProbeResult result = base_result();
  result.status = Status::failing;
  // Also in detail: /health shows detail and the error message, not the reason field.
  result.detail.emplace_back("reason", reason);
  result.reason = std::move(reason);
  result.error = std::move(error);
  result.readings.push_back({std::string(kUp.name), std::string(kUp.help), {}, 0, false});
  finish(std::move(result));
}

void PostgresProbe::finish(ProbeResult result) {
  // Moved out first and called last: the completion may start the next check or destroy
  // the scheduler's entry.
  Completion done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(result));
}

void PostgresProbe::send_cancel() {
  if (conn_ == nullptr || (phase_ != Phase::querying && phase_ != Phase::stats) ||
      *cancel_running_) {
    return;
  }
  PGcancel* cancel = PQgetCancel(conn_);
  if (cancel == nullptr) return;
  auto job = std::make_unique<CancelJob>();
  job->cancel = cancel;
  job->running = cancel_running_;
  job->request.data = job.get();
  if (uv_queue_work(loop_, &job->request, &CancelJob::onWork, &CancelJob::onAfterWork) != 0) {
    PQfreeCancel(cancel);  // only on invalid arguments; the dropped connection still helps
    return;
  }
  *cancel_running_ = true;
  job.release();  // owned by the pool until onAfterWork
}

void PostgresProbe::cancel() {
  if (phase_ == Phase::idle) return;
  done_ = nullptr;
  // A query in flight is cancelled on the server; then the connection is dropped either
  // way, so a hung server never holds more than this one connection of ours.
  send_cancel();
  drop_connection();
  back_off("timeout", "check " + server_ + ": no answer within the timeout");
}

std::vector<Reading> PostgresProbe::timeout_readings() const {
  return {{std::string(kUp.name), std::string(kUp.help), {}, 0, false}};
}

void PostgresProbe::back_off(const std::string& reason, const std::string& error) {
  backoff_.failed(uv_now(loop_), reason, error);
}

}  // namespace covet::probes
