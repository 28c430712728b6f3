#include "probes/redis.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <utility>
#include <variant>

#include "config/host_port.h"
#include "config/secret_file.h"
#include "probes/redis_info.h"

namespace covet::probes {
namespace {

// The readings besides INFO's (probes/redis_info.h), named as redis_exporter names them.
constexpr std::string_view kUpName = "redis_up";
constexpr std::string_view kUpHelp =
    "Whether the last check reached the server and PING answered (1 for yes, 0 for no).";

// privdata of the reply callback on a sentinel connection; server commands carry their Step.
constexpr std::intptr_t kSentinelTag = -1;

struct Pattern {
  std::string_view text;  // matched case-insensitively
  std::string_view reason;
  bool prefix;  // the error reply starts with it (Redis error codes), else anywhere
};
// The first match wins. Error codes are Redis' own (WRONGPASS since 6.0; "invalid password"
// before); the connect errors are strerror() texts as hiredis reports them.
constexpr std::array<Pattern, 9> kPatterns{{
    {"WRONGPASS", "auth_failed", true},
    {"NOAUTH", "auth_failed", true},
    {"invalid password", "auth_failed", false},
    {"invalid username-password", "auth_failed", false},
    {"without any password configured", "auth_failed", false},
    {"LOADING", "loading", true},
    {"connection refused", "refused", false},
    {"no such file or directory", "refused", false},  // a Unix socket with no server
    {"network is unreachable", "refused", false},
}};

bool contains_ignoring_case(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char a, char b) {
                       return std::tolower(static_cast<unsigned char>(a)) ==
                              std::tolower(static_cast<unsigned char>(b));
                     }) != haystack.end();
}

// "Connection refused" (strerror) reads as "connection refused" after "connect x: ".
std::string lower_first(std::string_view message) {
  std::string out(message);
  if (out.size() > 1 && std::isupper(static_cast<unsigned char>(out[0])) &&
      std::islower(static_cast<unsigned char>(out[1]))) {
    out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  }
  return out;
}

std::string_view reply_text(const redisReply* reply) {
  return reply->str != nullptr ? std::string_view(reply->str, reply->len) : std::string_view();
}

// Redis error replies are one line; a long one is cut so a detail stays readable.
std::string error_text(const redisReply* reply) {
  std::string_view text = reply_text(reply);
  text = text.substr(0, std::min<std::size_t>(text.find_first_of("\r\n"), 200));
  return std::string(text);
}

std::string context_error(const redisAsyncContext* context) {
  // The redisContext's text: in the connect callback the async context's own errstr is not
  // set yet (hiredis copies it only when it disconnects).
  const char* text = context->c.errstr;
  return lower_first(text != nullptr && *text != '\0' ? text : "connection lost");
}

// "host:port", with IPv6 hosts in brackets.
std::string join_host_port(std::string_view host, std::string_view port) {
  if (host.find(':') != std::string_view::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

// Wipes a string that held the password before its memory goes back to the allocator.
void wipe(std::string& text) {
  std::fill(text.begin(), text.end(), '\0');
  text.clear();
}

}  // namespace

std::string_view classify_redis_error(std::string_view message, bool connecting) {
  for (const Pattern& pattern : kPatterns) {
    const bool match =
        pattern.prefix
            ? message.size() >= pattern.text.size() &&
                  contains_ignoring_case(message.substr(0, pattern.text.size()), pattern.text)
            : contains_ignoring_case(message, pattern.text);
    if (match) return pattern.reason;
  }
  return connecting ? "connect_failed" : "query_error";
}

namespace {
bool config_uses_tcp(const config::RedisProbeConfig& config) { return config.unix_socket.empty(); }
}  // namespace

RedisProbe::RedisProbe(uv_loop_t* loop, config::RedisProbeConfig config)
    : loop_(loop),
      config_(std::move(config)),
      resolver_(loop),
      backoff_(config_.reconnect_backoff, config_.reconnect_backoff_max) {
  if (!config_.unix_socket.empty()) {
    address_ = config_.unix_socket;
  } else if (!config_.address.empty()) {
    address_ = config_.address;
  }
}

RedisProbe::~RedisProbe() {
  done_ = nullptr;
  sentinel_.reset();
  server_.reset();
}

ProbeResult RedisProbe::base_result(bool up) const {
  ProbeResult result;
  if (!config_.sentinels.empty()) {
    result.detail.emplace_back("master_name", config_.master_name);
    if (!address_.empty()) result.detail.emplace_back("master", address_);
  } else {
    result.detail.emplace_back("server", address_);
  }
  if (up && !role_.empty()) result.detail.emplace_back("role", role_);
  if (up && !version_.empty()) result.detail.emplace_back("redis_version", version_);
  if (up && !stats_error_.empty()) {
    result.detail.emplace_back("stats_error", stats_error_);
    result.notes.push_back(stats_error_);  // logged once by the agent when it appears
  }
  result.readings.push_back(
      {std::string(kUpName), std::string(kUpHelp), {}, up ? 1.0 : 0.0, false});
  // The last INFO's numbers, while the connection they came from works: after a failure
  // (or a failover) they would describe a server we cannot vouch for.
  if (up) result.readings.insert(result.readings.end(), stats_.begin(), stats_.end());
  return result;
}

void RedisProbe::start(Completion done) {
  cancel();  // normally a no-op: the scheduler cancels a check before starting the next
  done_ = std::move(done);
  in_flight_ = true;
  answered_ = false;
  sentinel_rounds_ = 0;

  if (server_) {
    reused_ = true;
    return next_after(Step::setname);  // PING and what follows
  }
  const std::uint64_t now = uv_now(loop_);
  if (backoff_.waiting(now)) {
    ProbeResult result = base_result(false);
    backoff_.describe_wait(now, result);
    return finish(std::move(result));
  }
  reused_ = false;
  if (!config_.sentinels.empty()) return ask_sentinel(0);
  connect_server();
}

void RedisProbe::ask_sentinel(std::size_t index) {
  if (index == 0) {
    ++sentinel_rounds_;
    sentinel_reason_.clear();
    sentinel_error_.clear();
  }
  if (index >= config_.sentinels.size()) {
    return fail(sentinel_reason_.empty() ? "connect_failed" : sentinel_reason_,
                fmt::format("sentinels: none gave the address of master \"{}\" (last: {})",
                            config_.master_name, sentinel_error_));
  }
  sentinel_index_ = index;
  sentinel_address_ = config_.sentinels[index];
  auto parsed = config::parse_host_port(sentinel_address_);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    return sentinel_failed("connect_failed", *error);
  }
  const auto& target = std::get<config::HostPort>(parsed);
  if (is_ip_literal(target.host)) return connect_sentinel(target.host, target.port);
  const int port = target.port;
  resolver_.resolve(target.host, [this, port](std::vector<std::string> ips, std::string error) {
    if (!error.empty()) {
      return sentinel_failed("refused", fmt::format("connect sentinel {}: could not resolve the "
                                                    "host name: {}",
                                                    sentinel_address_, error));
    }
    connect_sentinel(ips.front(), port);
  });
}

void RedisProbe::connect_sentinel(const std::string& ip, int port) {
  std::string error;
  if (!sentinel_.connect_tcp(loop_, ip, port,
                             {&RedisProbe::on_connect, &RedisProbe::on_disconnect, this}, error)) {
    return sentinel_failed(std::string(classify_redis_error(error, true)),
                           "connect sentinel " + sentinel_address_ + ": " + lower_first(error));
  }
  std::array<const char*, 3> argv{"SENTINEL", "get-master-addr-by-name",
                                  config_.master_name.c_str()};
  const std::array<std::size_t, 3> lengths{8, 23, config_.master_name.size()};
  if (redisAsyncCommandArgv(sentinel_.get(), &RedisProbe::on_command,
                            reinterpret_cast<void*>(kSentinelTag), 3, argv.data(),
                            lengths.data()) != REDIS_OK) {
    sentinel_.reset();
    return sentinel_failed("connect_failed", "sentinel " + sentinel_address_ + ": cannot send");
  }
}

void RedisProbe::sentinel_failed(const std::string& reason, const std::string& error) {
  // Inside the sentinel connection's reply callback hiredis defers this free; in its connect
  // and disconnect callbacks it has been forgotten already.
  sentinel_.reset();
  sentinel_reason_ = reason;
  sentinel_error_ = error;
  ask_sentinel(sentinel_index_ + 1);
}

void RedisProbe::on_sentinel_reply(redisReply* reply) {
  if (reply == nullptr) {
    const std::string message = context_error(sentinel_.get());
    sentinel_.forget();  // hiredis is freeing it
    return sentinel_failed(std::string(classify_redis_error(message, true)),
                           "sentinel " + sentinel_address_ + ": " + message);
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    return sentinel_failed("query_error",
                           "sentinel " + sentinel_address_ + ": " + error_text(reply));
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[0]->type != REDIS_REPLY_STRING ||
      reply->element[1]->type != REDIS_REPLY_STRING) {
    // A nil reply: the sentinel does not monitor a master of that name.
    return sentinel_failed("query_error", fmt::format("sentinel {}: master \"{}\" is unknown",
                                                      sentinel_address_, config_.master_name));
  }
  address_ = join_host_port(reply_text(reply->element[0]), reply_text(reply->element[1]));
  sentinel_.reset();  // deferred by hiredis until this callback returns
  connect_server();
}

void RedisProbe::connect_server() {
  drop_server();
  reused_ = false;
  if (!config_.unix_socket.empty()) return open_server("", 0);
  auto parsed = config::parse_host_port(address_);
  if (auto* invalid = std::get_if<std::string>(&parsed)) return fail("connect_failed", *invalid);
  const auto& target = std::get<config::HostPort>(parsed);
  server_port_ = target.port;
  server_ip_index_ = 0;
  if (is_ip_literal(target.host)) {
    server_ips_ = {target.host};
    return open_server(target.host, target.port);
  }
  resolver_.resolve(target.host, [this](std::vector<std::string> ips, std::string error) {
    if (!error.empty()) {
      // Classified like a refused connect: there is nothing to connect to.
      return fail("refused",
                  fmt::format("connect {}: could not resolve the host name: {}", address_, error));
    }
    server_ips_ = std::move(ips);
    open_server(server_ips_.front(), server_port_);
  });
}

void RedisProbe::open_server(const std::string& ip, int port) {
  // The password is read at each connect, so a rotated secret is picked up; it is read
  // before connecting so a missing file costs the server nothing.
  std::string password;
  if (!config_.password_file.empty()) {
    config::SecretRead secret = config::read_secret_file(config_.password_file, "password_file");
    if (!secret.value) return fail("auth_failed", secret.error);
    password = std::move(*secret.value);
  }
  const redis_uv::Callbacks callbacks{&RedisProbe::on_connect, &RedisProbe::on_disconnect, this};
  std::string error;
  bool connected = false;
  if (!config_.unix_socket.empty()) {
    connected = server_.connect_unix(loop_, config_.unix_socket, callbacks, error);
  } else {
    connected = server_.connect_tcp(loop_, ip, port, callbacks, error);
  }
  if (!connected) {
    wipe(password);
    return fail(std::string(classify_redis_error(error, true)),
                "connect " + address_ + ": " + lower_first(error));
  }
  // A new server (or the same one restarted): its numbers are fetched again at once.
  next_stats_ms_ = 0;
  // Commands are queued before the connect completes; hiredis sends them once it has. A
  // failed connect is reported by on_connect, and the queued replies come back empty.
  if (!config_.password_file.empty()) {
    std::vector<std::string> args{"AUTH"};
    if (!config_.username.empty()) args.push_back(config_.username);
    args.push_back(std::move(password));
    secret_ = args.back();
    send(Step::auth, std::move(args));
    return;
  }
  next_after(Step::auth);
}

void RedisProbe::send(Step step, std::vector<std::string> args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  step_ = step;
  const int rc = redisAsyncCommandArgv(server_.get(), &RedisProbe::on_command,
                                       reinterpret_cast<void*>(static_cast<std::intptr_t>(step)),
                                       static_cast<int>(argv.size()), argv.data(), lengths.data());
  for (std::string& arg : args) wipe(arg);  // hiredis has its own copy in its output buffer
  if (rc != REDIS_OK) fail("connect_failed", "send to " + address_ + ": connection closing");
}

void RedisProbe::next_after(Step step) {
  // The steps in order; each either sends its command (and continues in on_reply) or does
  // not apply and falls through to the next.
  switch (step) {
    case Step::idle:
    case Step::auth:
      if (config_.db != 0) return send(Step::select, {"SELECT", std::to_string(config_.db)});
      [[fallthrough]];
    case Step::select:
      // Lets an operator tell our connection apart in CLIENT LIST.
      return send(Step::setname, {"CLIENT", "SETNAME", "covet-sidecar"});
    case Step::setname:
      return send(Step::ping, {"PING"});
    case Step::ping:
      if (config_.require_master || !config_.sentinels.empty()) return send(Step::role, {"ROLE"});
      [[fallthrough]];
    case Step::role:
      if (config_.stats_interval.count() > 0 && uv_now(loop_) >= next_stats_ms_) {
        next_stats_ms_ = uv_now(loop_) + static_cast<std::uint64_t>(config_.stats_interval.count());
        return send(Step::info, {"INFO"});
      }
      [[fallthrough]];
    case Step::info:
    case Step::maxclients:
      return pass();
  }
}

void RedisProbe::on_command(redisAsyncContext* context, void* reply, void* privdata) {
  auto* self = static_cast<RedisProbe*>(context->data);
  if (self == nullptr) return;  // we freed this connection: nothing is waiting for it
  auto* typed = static_cast<redisReply*>(reply);
  const auto tag = reinterpret_cast<std::intptr_t>(privdata);
  if (context == self->sentinel_.get() && tag == kSentinelTag) {
    return self->on_sentinel_reply(typed);
  }
  if (context != self->server_.get()) return;
  if (typed == nullptr) {
    // hiredis is freeing the connection after an I/O error (the server went away).
    const std::string message = context_error(context);
    self->server_.forget();
    return self->on_server_lost(message);
  }
  self->answered_ = true;
  self->on_reply(static_cast<Step>(tag), typed);
}

void RedisProbe::on_connect(const redisAsyncContext* context, int status) {
  auto* self = static_cast<RedisProbe*>(context->data);
  if (self == nullptr || status == REDIS_OK) return;  // queued commands go out now
  // hiredis frees the context when this returns: forget it first, and free nothing here.
  const std::string message = context_error(context);
  const std::string reason(classify_redis_error(message, true));
  if (context == self->sentinel_.get()) {
    self->sentinel_.forget();
    return self->sentinel_failed(reason,
                                 "connect sentinel " + self->sentinel_address_ + ": " + message);
  }
  if (context == self->server_.get()) {
    self->server_.forget();
    if (config_uses_tcp(self->config_) && self->server_ip_index_ + 1 < self->server_ips_.size()) {
      // The name's next address (localhost's ::1 refused, 127.0.0.1 next): a new context;
      // hiredis frees this one when we return.
      ++self->server_ip_index_;
      return self->open_server(self->server_ips_[self->server_ip_index_], self->server_port_);
    }
    self->fail(reason, "connect " + self->address_ + ": " + message);
  }
}

void RedisProbe::on_disconnect(const redisAsyncContext* context, int /*status*/) {
  auto* self = static_cast<RedisProbe*>(context->data);
  if (self == nullptr) return;
  // Only an I/O error gets here with data set (we detach before freeing ourselves), and
  // reply callbacks in flight have already been told. Typically: the server closed an idle
  // connection (restart, timeout, CLIENT KILL after a failover); the next check connects.
  const std::string message = context_error(context);
  if (context == self->sentinel_.get()) {
    self->sentinel_.forget();
    return self->sentinel_failed("connect_failed",
                                 "sentinel " + self->sentinel_address_ + ": " + message);
  }
  if (context == self->server_.get()) {
    self->server_.forget();
    self->role_.clear();
    self->stats_.clear();
    if (self->in_flight_ && self->step_ != Step::idle) self->on_server_lost(message);
  }
}

void RedisProbe::on_server_lost(const std::string& message) {
  role_.clear();
  stats_.clear();
  if (!in_flight_) return;
  if (reused_ && !answered_) {
    // The connection an earlier check left idle broke before answering: that says nothing
    // yet about the server now, so connect again at once (once per check).
    reused_ = false;
    if (!config_.sentinels.empty()) return ask_sentinel(0);
    return connect_server();
  }
  fail(std::string(classify_redis_error(message, true)), "connection " + address_ + ": " + message);
}

void RedisProbe::on_reply(Step step, redisReply* reply) {
  const bool error = reply->type == REDIS_REPLY_ERROR;
  std::string message = error ? error_text(reply) : std::string();
  switch (step) {
    case Step::idle:
      return;
    case Step::auth:
      // Redis does not echo AUTH's arguments in its errors; should one ever, it stays out.
      if (!secret_.empty()) {
        for (std::size_t at = message.find(secret_); at != std::string::npos;
             at = message.find(secret_)) {
          message.replace(at, secret_.size(), "<redacted>");
        }
      }
      wipe(secret_);
      if (error) {
        return fail(std::string(classify_redis_error(message, false)),
                    "AUTH " + address_ + ": " + message);
      }
      return next_after(step);
    case Step::select:
      if (error) {
        return fail(std::string(classify_redis_error(message, false)),
                    fmt::format("SELECT {} {}: {}", config_.db, address_, message));
      }
      return next_after(step);
    case Step::setname:
      // Not worth failing for: an ACL user may lack +client.
      return next_after(step);
    case Step::ping:
      if (error) {
        return fail(std::string(classify_redis_error(message, false)),
                    "PING " + address_ + ": " + message);
      }
      if (reply->type != REDIS_REPLY_STATUS || reply_text(reply) != "PONG") {
        return fail("query_error", "PING " + address_ + ": unexpected reply");
      }
      return next_after(step);
    case Step::role:
      if (error) {
        return fail(std::string(classify_redis_error(message, false)),
                    "ROLE " + address_ + ": " + message);
      }
      role_.clear();
      if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
          reply->element[0]->type == REDIS_REPLY_STRING) {
        role_ = std::string(reply_text(reply->element[0]));
      }
      if (role_ != "master") return not_master();
      return next_after(step);
    case Step::info:
      if (error) {
        // Metrics are a bonus: a server (or ACL) that refuses INFO still passes.
        stats_.clear();
        stats_error_ = "INFO: " + message;
        return pass();
      }
      if (reply->type == REDIS_REPLY_STRING) {
        const RedisInfo info = parse_redis_info(reply_text(reply));
        stats_ = redis_info_readings(info);
        version_ = std::string(info.get("redis_version").value_or(""));
        if (role_.empty()) role_ = std::string(info.get("role").value_or(""));
        stats_error_.clear();
        if (!info.get("maxclients")) {
          // Before Redis 7 INFO has no maxclients; the setting has.
          return send(Step::maxclients, {"CONFIG", "GET", "maxclients"});
        }
      }
      return pass();
    case Step::maxclients:
      if (error) {
        // A missing privilege (-NOPERM) costs this one reading, said in detail.
        stats_error_ = "CONFIG GET maxclients: " + message;
      } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
                 reply->element[1]->type == REDIS_REPLY_STRING) {
        if (auto value = parse_redis_number(reply_text(reply->element[1]))) {
          stats_.push_back({std::string(kRedisMaxClientsMetric),
                            std::string(kRedisMaxClientsHelp),
                            {},
                            *value,
                            false});
        }
      }
      return pass();
  }
}

void RedisProbe::not_master() {
  if (!config_.sentinels.empty()) {
    if (sentinel_rounds_ < 2) {
      // After a failover the old master turns replica: ask where the master is now.
      drop_server();
      return ask_sentinel(0);
    }
    // The sentinels point at a replica (a failover in progress): ask again next check.
    drop_server();
  }
  ProbeResult result = base_result(server_ ? true : false);
  result.status = Status::failing;
  result.reason = "not_master";
  result.detail.emplace_back("reason", result.reason);
  result.error = fmt::format("ROLE {}: the server is a {}, not the master", address_,
                             role_.empty() ? std::string("non-master") : role_);
  // The server answered: not a connect failure, so no backoff.
  finish(std::move(result));
}

void RedisProbe::pass() {
  ProbeResult result = base_result(true);
  result.status = Status::passing;
  backoff_.succeeded();
  finish(std::move(result));
}

void RedisProbe::drop_server() {
  resolver_.abandon();
  server_.reset();
  wipe(secret_);
  role_.clear();
  stats_.clear();
}

void RedisProbe::fail(std::string reason, std::string error) {
  // Whatever failed, the connection is not trusted again: the next connect waits out the
  // backoff, so a server in trouble gets at most one attempt per delay from us.
  sentinel_.reset();
  drop_server();
  back_off(reason, error);
  ProbeResult result = base_result(false);
  result.status = Status::failing;
  // Also in detail: /health shows detail and the error message, not the reason field.
  result.detail.emplace_back("reason", reason);
  result.reason = std::move(reason);
  result.error = std::move(error);
  finish(std::move(result));
}

void RedisProbe::finish(ProbeResult result) {
  in_flight_ = false;
  step_ = Step::idle;
  // Moved out first and called last: the completion may start the next check.
  Completion done = std::move(done_);
  done_ = nullptr;
  if (done) done(std::move(result));
}

void RedisProbe::cancel() {
  if (!in_flight_) return;
  in_flight_ = false;
  step_ = Step::idle;
  done_ = nullptr;
  // Named after what the check was waiting on: a sentinel, or the server.
  const std::string waiting_on = sentinel_ ? "sentinel " + sentinel_address_ : address_;
  // Freed at once, pending replies discarded: a hung server never holds more than the one
  // connection of ours that a check has in flight.
  sentinel_.reset();
  drop_server();
  back_off("timeout", "check " + waiting_on + ": no answer within the timeout");
}

void RedisProbe::release() {
  cancel();
  sentinel_.reset();
  drop_server();
}

std::vector<Reading> RedisProbe::timeout_readings() const {
  return {{std::string(kUpName), std::string(kUpHelp), {}, 0, false}};
}

void RedisProbe::back_off(const std::string& reason, const std::string& error) {
  backoff_.failed(uv_now(loop_), reason, error);
}

}  // namespace covet::probes
