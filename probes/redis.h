#pragma once
// Redis probe: one persistent hiredis async connection per probe, driven by the loop through
// probes/redis_uv_adapter.h. A check runs, on a fresh connection, `AUTH [username] password`
// (when a password_file is set) and `SELECT db` (when db is not 0), then on every check
// `PING`, `ROLE` (when require_master is set or sentinels are used) and, every
// stats_interval, `INFO` (plus `CONFIG GET maxclients` on servers whose INFO lacks it),
// whose numbers become readings named as redis_exporter names them. The INFO readings are
// kept and attached to every result of a working connection, so they stay exported between
// INFO runs; Prometheus scrapes never reach Redis.
//
// With `sentinels`, the probe asks them in turn (SENTINEL get-master-addr-by-name, on a
// short-lived connection on the same loop) where the master is, connects there and checks
// with ROLE that it is the master, asking again once if not. A broken connection or a master
// turned replica (after a failover) makes the next check ask the sentinels again, so the
// probe follows the master without a restart. Limit: between a failover and the old
// master's demotion (a sentinel reconfigures it when it next polls it with INFO, up to about
// 10 s later) the old master still says "master", and the probe stays with it until then.
//
// When a connect fails, the next connect waits out an exponential backoff (reconnect_backoff,
// 1 s, doubling to reconnect_backoff_max, 30 s; reset by a passing check); meanwhile a check
// fails at once with the last reason. cancel() (the scheduler's timeout, or shutdown) frees
// the connection at once, so a hung server never accumulates our connections.
//
// Failure reasons: refused, timeout, auth_failed, loading, not_master, query_error,
// connect_failed. The password is read at each connect, sent, and wiped; it is never part
// of an error, a detail or a log line.
//
// hiredis 0.14 would resolve a host *name* with a blocking getaddrinfo inside
// redisAsyncConnect, so names (of the server and of each sentinel) are resolved first on
// libuv's thread pool; a server's addresses are tried in order until one connects (a
// sentinel's first address is used). Limit: no TLS in hiredis 0.14.

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "probes/host_resolver.h"
#include "probes/probe.h"
#include "probes/reconnect_backoff.h"
#include "probes/redis_uv_adapter.h"

struct redisReply;

namespace covet::probes {

// The failure class of a Redis error reply or a hiredis connection error (ProbeResult::reason):
// "auth_failed", "loading", "refused", or "query_error" / "connect_failed" for anything else
// depending on `connecting`. Pure.
std::string_view classify_redis_error(std::string_view message, bool connecting);

class RedisProbe final : public Probe {
 public:
  RedisProbe(uv_loop_t* loop, config::RedisProbeConfig config);
  // Frees the connections; their poll handles are closed, and freed once the loop runs.
  ~RedisProbe() override;
  RedisProbe(const RedisProbe&) = delete;
  RedisProbe& operator=(const RedisProbe&) = delete;

  void start(Completion done) override;
  void cancel() override;
  void release() override;
  std::vector<Reading> timeout_readings() const override;

 private:
  // What the reply to the one command in flight on the server connection answers.
  enum class Step { idle, auth, select, setname, ping, role, info, maxclients };

  void ask_sentinel(std::size_t index);
  void connect_sentinel(const std::string& ip, int port);
  void connect_server();
  // connect_server's second half, with the server's host resolved to `ip` (empty for a
  // Unix socket).
  void open_server(const std::string& ip, int port);
  void send(Step step, std::vector<std::string> args);
  void next_after(Step step);
  void on_reply(Step step, redisReply* reply);
  void on_sentinel_reply(redisReply* reply);
  void on_server_lost(const std::string& message);
  void sentinel_failed(const std::string& reason, const std::string& error);
  void not_master();
  void pass();
  void fail(std::string reason, std::string error);
  void back_off(const std::string& reason, const std::string& error);
  void finish(ProbeResult result);
  void drop_server();
  ProbeResult base_result(bool up) const;

  static void on_connect(const struct redisAsyncContext* context, int status);
  static void on_disconnect(const struct redisAsyncContext* context, int status);
  static void on_command(struct redisAsyncContext* context, void* reply, void* privdata);

  uv_loop_t* loop_;
  config::RedisProbeConfig config_;

  HostResolver resolver_;
  redis_uv::AsyncConnection server_;
  redis_uv::AsyncConnection sentinel_;   // only while asking one
  std::string address_;                  // what server_ is (or was last) connected to
  std::vector<std::string> server_ips_;  // address_ resolved, tried in order
  std::size_t server_ip_index_ = 0;
  int server_port_ = 0;
  std::string sentinel_address_;
  std::size_t sentinel_index_ = 0;
  int sentinel_rounds_ = 0;  // this check's rounds of asking the sentinels
  std::string sentinel_error_;
  std::string sentinel_reason_;

  Step step_ = Step::idle;
  bool in_flight_ = false;  // a check is running (done_ may be empty after a timeout)
  bool reused_ = false;     // this check runs on a connection an earlier check opened
  bool answered_ = false;   // the server answered something during this check
  Completion done_;
  std::string secret_;  // the password, only while AUTH awaits its reply: to redact echoes

  std::string role_;  // from ROLE: "master", "slave", "sentinel"
  std::string version_;
  std::uint64_t next_stats_ms_ = 0;  // uv_now() from which INFO is due
  std::vector<Reading> stats_;       // the last INFO's readings, kept between runs
  std::string stats_error_;          // why INFO or CONFIG GET could not run, for detail

  ReconnectBackoff backoff_;
};

}  // namespace covet::probes
