#include "tests/integration/redis_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "tests/integration/sidecar_process.h"

namespace covet::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kServerBinary = "/usr/bin/redis-server";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string reply_to_text(const redisReply* reply) {
  switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(reply->str, reply->len);
    case REDIS_REPLY_ERROR:
      return "(error) " + std::string(reply->str, reply->len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(reply->integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (std::size_t i = 0; i < reply->elements; ++i) {
        if (i > 0) out += '\n';
        out += reply_to_text(reply->element[i]);
      }
      return out;
    }
    default:
      return "(unknown reply)";
  }
}

timeval to_timeval(std::chrono::milliseconds timeout) {
  return {static_cast<time_t>(timeout.count() / 1000),
          static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
}

}  // namespace

RedisServer::RedisServer() : RedisServer(Options{}) {}

RedisServer::RedisServer(Options options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/covet-redis-XXXXXX";
  if (const char* made = ::mkdtemp(tmpl)) dir_ = made;
  port_ = free_port();
}

RedisServer::~RedisServer() {
  kill();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string RedisServer::log() const { return read_file(dir_ + "/redis.log"); }

std::string RedisServer::start() {
  if (dir_.empty()) return "mkdtemp /tmp/covet-redis-XXXXXX failed";
  if (running()) return "";
  if (::access(kServerBinary, X_OK) != 0) {
    return std::string("no ") + kServerBinary + ": install redis-server (scripts/install-deps.sh)";
  }
  // A config file, not only flags: a sentinel needs one to write its state to, and a
  // failover runs CONFIG REWRITE on the servers it reconfigures.
  const std::string config_path = dir_ + "/redis.conf";
  if (!std::filesystem::exists(config_path)) {
    std::ofstream config(config_path);
    config << fmt::format("port {}\nbind 127.0.0.1\ndir {}\nlogfile {}/redis.log\n", port_, dir_,
                          dir_);
    config << "daemonize no\nsave \"\"\nappendonly no\nenable-debug-command local\n";
    if (options_.sentinel) {
      config << fmt::format("sentinel monitor {} 127.0.0.1 {} 1\n", options_.master_name,
                            options_.monitor_port);
      config << fmt::format("sentinel down-after-milliseconds {} 1000\n", options_.master_name);
      config << fmt::format("sentinel failover-timeout {} 10000\n", options_.master_name);
    } else {
      if (!options_.requirepass.empty()) config << "requirepass " << options_.requirepass << "\n";
      if (options_.replica_of != 0) config << "replicaof 127.0.0.1 " << options_.replica_of << "\n";
    }
  }
  // Prepared before fork(): the test process has threads.
  std::vector<std::string> args{kServerBinary, config_path};
  if (options_.sentinel) args.push_back("--sentinel");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(null_fd, STDERR_FILENO);
    ::execv(kServerBinary, argv.data());
    ::_exit(127);
  }
  ::close(null_fd);
  if (pid_ < 0) return "fork failed";

  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return "redis-server exited at startup; log:\n" + log();
    }
    last = command({"PING"}, 500ms);
    if (last == "PONG") {
      port_hold_.reset();
      return "";
    }
    std::this_thread::sleep_for(20ms);
  }
  kill();
  return "redis-server did not answer PING within 10 s (last: " + last + "); log:\n" + log();
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  // Our own child: waitpid reaps it as soon as it is dead, no orphan reaper involved.
  // Bounded anyway: a process stuck in the kernel must not hang the suite.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;
    std::this_thread::sleep_for(5ms);
  }
  pid_ = -1;
  port_hold_ = std::make_unique<PortHold>(port_);
}

std::string RedisServer::command(const std::vector<std::string>& args,
                                 std::chrono::milliseconds timeout) const {
  std::unique_ptr<redisContext, decltype(&redisFree)> context(
      redisConnectWithTimeout("127.0.0.1", port_, to_timeval(timeout)), &redisFree);
  if (!context) return "(connect) out of memory";
  if (context->err != 0) return std::string("(connect) ") + context->errstr;
  redisSetTimeout(context.get(), to_timeval(timeout));
  const auto run = [&](const std::vector<std::string>& command) -> std::string {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const std::string& arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto* reply = static_cast<redisReply*>(redisCommandArgv(
        context.get(), static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (reply == nullptr) return std::string("(connect) ") + context->errstr;
    std::string text = reply_to_text(reply);
    freeReplyObject(reply);
    return text;
  };
  if (!options_.requirepass.empty()) {
    const std::string auth = run({"AUTH", options_.requirepass});
    if (auth != "OK") return auth;
  }
  return run(args);
}

int RedisServer::sidecar_connections() const {
  std::istringstream lines(command({"CLIENT", "LIST"}));
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" name=covet-sidecar ") != std::string::npos) ++count;
  }
  return count;
}

}  // namespace covet::testing
