#pragma once
// A real redis-server (Debian's, 7.0) for integration tests: its own temp directory and
// config file, a free port on 127.0.0.1, no persistence. Optionally with requirepass, as a
// replica of another, or as a sentinel monitoring a master. The server is a child of the
// test process (not daemonized), so stopping it is a SIGKILL and a waitpid here: no orphan
// for a slow reaper, and every wait is bounded.
//
// command() talks to it with hiredis' blocking client, with timeouts, on a fresh connection.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/port_hold.h"

namespace covet::testing {

class RedisServer {
 public:
  struct Options {
    std::string requirepass{};     // empty: none
    std::uint16_t replica_of = 0;  // a master's port on 127.0.0.1; 0: a master itself
    // A sentinel monitoring `master_name` at 127.0.0.1:monitor_port, quorum 1.
    bool sentinel = false;
    std::string master_name = "mymaster";
    std::uint16_t monitor_port = 0;
  };

  RedisServer();
  explicit RedisServer(Options options);
  ~RedisServer();  // SIGKILL if running, then the directory is removed
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts (again, on the same port) and waits until it answers PING, at most 10 s. Empty on
  // success, else what failed, with the server's log.
  std::string start();
  // SIGKILL and reap; returns at once if not running. The port stays held (refusing
  // connections, see PortHold) until start() has the server answering on it again.
  void kill();
  bool running() const { return pid_ > 0; }

  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }
  std::string log() const;

  // Runs one command on a new connection (AUTH with requirepass first when set). Replies as
  // text: strings and status as they are, integers in decimal, nil as "(nil)", errors as
  // "(error) ..." and arrays as their elements, one per line. "(connect) ..." when the
  // server cannot be reached within `timeout`.
  std::string command(const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) const;
  // Connections whose client name is "covet-sidecar" (the probe names its own).
  int sidecar_connections() const;

 private:
  Options options_;
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<PortHold> port_hold_;
};

}  // namespace covet::testing
