// Append throughput of the disk spool (exporters/otlp/spool.h) for each fsync policy: keeps
// `inflight` appends of `size` bytes pending (as concurrent senders would) for `seconds`,
// then prints records/s, MB/s and the mean latency of an append, callback included.
//
//   spool_append DIR SIZE INFLIGHT SECONDS

#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "agent/logging.h"
#include "exporters/otlp/spool.h"

namespace {

using covet::otlp::Spool;
using covet::otlp::SpoolOptions;
using Clock = std::chrono::steady_clock;

void run(const std::string& dir, SpoolOptions::Fsync fsync, const char* name, std::size_t size,
         int inflight, double seconds, covet::Logger& log) {
  std::filesystem::remove_all(dir);
  uv_loop_t loop;
  uv_loop_init(&loop);
  SpoolOptions options;
  options.dir = dir;
  options.max_bytes = 8ull << 30;
  options.fsync = fsync;
  std::string error;
  std::unique_ptr<Spool> spool = Spool::open(&loop, options, log, error);
  if (!spool) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  auto payload = std::make_shared<const std::string>(size, 'x');
  const Clock::time_point start = Clock::now();
  const Clock::time_point end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::uint64_t done = 0;
  int pending = 0;
  bool stopping = false;
  std::function<void()> append = [&] {
    ++pending;
    spool->append(payload, 1, [&](std::optional<std::uint64_t> sequence) {
      --pending;
      if (!sequence) std::exit(2);
      ++done;
      spool->acknowledge(*sequence);  // as the exporter would: keeps the directory small
      if (Clock::now() < end) {
        append();
      } else if (pending == 0 && !stopping) {
        stopping = true;
        spool->close([] {});
      }
    });
  };
  for (int i = 0; i < inflight; ++i) append();
  uv_run(&loop, UV_RUN_DEFAULT);
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  spool.reset();
  uv_loop_close(&loop);
  std::printf("| %-8s | %7zu | %3d | %10.0f | %8.1f | %9.0f |\n", name, size, inflight,
              done / elapsed, done * size / elapsed / 1e6, elapsed / done * inflight * 1e6);
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: spool_append DIR SIZE INFLIGHT SECONDS\n");
    return 1;
  }
  const std::string dir = argv[1];
  const std::size_t size = std::strtoull(argv[2], nullptr, 10);
  const int inflight = std::atoi(argv[3]);
  const double seconds = std::atof(argv[4]);
  covet::Logger log(covet::config::LogFormat::text, covet::config::LogLevel::warn);
  run(dir, SpoolOptions::Fsync::always, "always", size, inflight, seconds, log);
  run(dir, SpoolOptions::Fsync::interval, "interval", size, inflight, seconds, log);
  run(dir, SpoolOptions::Fsync::never, "never", size, inflight, seconds, log);
}
