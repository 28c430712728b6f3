#pragma once
// Runs the real covet-sidecar binary for integration tests: writes its config into a temp
// directory, starts it, waits for its listener, and talks to it through libcurl (a real
// HTTP client) or raw sockets (for what a well-behaved client would never send).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace covet::testing {

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  long new_connections = 0;                    // 0 when libcurl reused a connection
  std::string error;
};

// A libcurl easy handle kept across requests, so keep-alive can be observed.
class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpResult get(const std::string& url, const std::string& method = "GET");
  // POSTs `body` as it is, with the headers set by set_headers and `headers` on top
  // ("Content-Type: ...", "Transfer-Encoding: chunked" for a body without a length).
  HttpResult post(const std::string& url, const std::string& body,
                  const std::vector<std::string>& headers = {});
  // Sent with every later request: "Accept: ..." lines.
  void set_headers(std::vector<std::string> headers) { headers_ = std::move(headers); }
  // Accept-Encoding to ask for ("gzip"); the body is decoded, the header kept. "": none.
  void set_accept_encoding(std::string encoding) { accept_encoding_ = std::move(encoding); }

 private:
  void* curl_;
  std::vector<std::string> headers_;
  std::string accept_encoding_;
};

// A blocking TCP client for raw bytes.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool send(std::string_view bytes);
  // Reads until `count` complete responses (by Content-Length) arrived, the peer closed,
  // or `timeout` passed. Returns what was read.
  std::string read_responses(int count, std::chrono::milliseconds timeout);
  // True when the peer closes the connection within `timeout` (recv returns 0 or reset).
  bool wait_closed(std::chrono::milliseconds timeout);
  bool connected() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
  std::string pending_;
};

// A loopback port that was free a moment ago, below the kernel's ephemeral range (32768 and
// up): the kernel never hands such a port out as a connection's source port or for
// bind(0), so between this call and the server's bind only another explicit pick can take
// it. Each port is handed out once among all test processes alive at the same time (a lock
// file held until this process exits), so no two picks collide.
std::uint16_t free_port();

class SidecarProcess {
 public:
  // `config_yaml` may contain "{PORT}" and "{DIR}" (the temp dir), replaced before writing.
  explicit SidecarProcess(const std::string& config_yaml, std::vector<std::string> extra_args = {});
  ~SidecarProcess();  // SIGKILLs the process if it still runs (and so does the test's death)

  // "NAME=value" entries added to the environment the process starts with.
  void set_environment(std::vector<std::string> entries) { environment_ = std::move(entries); }
  // False if the process exits or the port is not open within 10 s. When its {PORT} was
  // taken meanwhile (the agent exits saying so), it tries again on another port.
  bool start();
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }

  void signal(int signum);
  // Waits for the process to exit; returns its exit code, or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  std::string logs() const;  // everything it wrote to stderr

  // Polls `path` until it answers `status` or `timeout` passes.
  bool wait_for_status(const std::string& path, long status, std::chrono::milliseconds timeout);

 private:
  // Writes the config with {PORT} and {DIR} replaced.
  void write_config();
  // Forks and execs the agent; false if it exits or does not listen within 10 s.
  bool launch();

  std::string config_template_;
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::vector<std::string> extra_args_;
  std::vector<std::string> environment_;
  bool exited_ = false;
  std::optional<int> exit_code_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs the binary with `args` to completion (for subcommands), with a 30 s limit.
CommandResult run_binary(const std::vector<std::string>& args);
// Runs a shell command, capturing stdout and the exit code.
CommandResult run_shell(const std::string& command);

}  // namespace covet::testing
