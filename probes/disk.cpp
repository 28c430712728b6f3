#include "probes/disk.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "probes/procfs.h"

namespace covet::probes {
namespace {

// The readings, named and described as node_exporter's filesystem collector names them, so
// existing dashboards and alerts work unchanged.
struct ReadingDescriptor {
  std::string_view name;
  std::string_view help;
};
constexpr ReadingDescriptor kAvailBytes{"node_filesystem_avail_bytes",
                                        "Filesystem space available to non-root users in bytes."};
constexpr ReadingDescriptor kSizeBytes{"node_filesystem_size_bytes", "Filesystem size in bytes."};
constexpr ReadingDescriptor kFilesFree{"node_filesystem_files_free",
                                       "Filesystem free file nodes available to non-root users."};
constexpr ReadingDescriptor kFiles{"node_filesystem_files", "Filesystem total file nodes."};

constexpr std::string_view kWriteCheckPrefix = ".covet-sidecar-write-check.";
// O_EXCL names already taken (another probe on the same path in this process, or a file a
// crashed run with the same pid left behind: pid 1 in every container) move on to the next
// counter; past this many something else is wrong.
constexpr unsigned kWriteCheckMaxAttempts = 16;
constexpr std::string_view kWriteCheckPayload = "covet-sidecar write check\n";

struct Problem {
  Status status = Status::failing;
  std::string reason;
  std::string message;
};

// Where the path lives, for labels and messages. Unknown parts stay empty / the path.
struct MountLabels {
  std::string mount_point;
  std::string device;
  std::string fstype;
};

MountLabels find_mount_labels(const std::string& path, const std::string& proc_root) {
  // Resolve symlinks and ".." first: mountinfo lists real paths. realpath can block on a
  // dead NFS mount like statvfs can, which is fine: this runs on the thread pool.
  std::string resolved = path;
  if (char* real = ::realpath(path.c_str(), nullptr); real != nullptr) {
    resolved = real;
    std::free(real);
  }
  // mountinfo grows with every mount (hundreds on a busy Kubernetes node).
  constexpr std::size_t kMountinfoMaxBytes = 4 * 1024 * 1024;
  FileContents mountinfo = read_small_file(proc_root + "/self/mountinfo", kMountinfoMaxBytes);
  // Without mountinfo (no /proc in a minimal sandbox) the check itself still works; only the
  // labels are less precise.
  if (mountinfo.ok()) {
    if (auto mount = find_mount(mountinfo.contents, resolved)) {
      return {std::move(mount->mount_point), std::move(mount->source), std::move(mount->fstype)};
    }
  }
  return {path, "", ""};
}

Problem write_problem(int error_code, const std::string& operation) {
  return {Status::failing, error_code == EROFS ? "read_only" : "io_error",
          operation + ": " + errno_message(error_code)};
}

// Creates, writes, fsyncs and deletes a small file under `dir`: the only way to notice that
// the kernel remounted a filesystem read-only after an I/O error, which statvfs does not
// report (its flag lags or is missing on overlay filesystems).
std::optional<Problem> check_writable(const std::string& dir) {
  std::string prefix = dir;
  if (prefix.empty() || prefix.back() != '/') prefix.push_back('/');
  prefix.append(kWriteCheckPrefix);
  prefix.append(std::to_string(::getpid())).push_back('.');

  for (unsigned counter = 0; counter < kWriteCheckMaxAttempts; ++counter) {
    std::string file = prefix + std::to_string(counter);
    int fd = ::open(file.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) return write_problem(errno, "write check in " + dir);

    std::optional<Problem> problem;
    ssize_t written = ::write(fd, kWriteCheckPayload.data(), kWriteCheckPayload.size());
    if (written < 0) {
      problem = write_problem(errno, "write " + file);
    } else if (static_cast<std::size_t>(written) != kWriteCheckPayload.size()) {
      // A short write of a few bytes means the filesystem is full to the last block.
      problem = Problem{Status::failing, "io_error", "write " + file + ": short write"};
    } else if (::fsync(fd) != 0) {
      problem = write_problem(errno, "fsync " + file);
    }
    // close reports delayed write errors on NFS; an earlier error is the better message.
    if (::close(fd) != 0 && !problem) problem = write_problem(errno, "close " + file);
    if (::unlink(file.c_str()) != 0 && !problem) problem = write_problem(errno, "unlink " + file);
    return problem;
  }
  return Problem{Status::failing, "io_error",
                 fmt::format("write check in {}: {} earlier check files ({}*) are in the way; "
                             "remove them",
                             dir, kWriteCheckMaxAttempts, prefix)};
}

// free% <= fail -> failing, <= warn -> warning. `what` is "free space" or "free inodes".
std::optional<Problem> check_threshold(std::string_view what, double free_percent,
                                       double warn_percent, double fail_percent,
                                       const std::string& where) {
  Status status = free_percent <= fail_percent   ? Status::failing
                  : free_percent <= warn_percent ? Status::warning
                                                 : Status::passing;
  if (status == Status::passing) return std::nullopt;
  bool failing = status == Status::failing;
  return Problem{
      status, "threshold",
      fmt::format("{} {:.1f}% on {} is at or below the {} threshold {:g}%", what, free_percent,
                  where, failing ? "fail" : "warn", failing ? fail_percent : warn_percent)};
}

std::string format_percent(double percent) { return fmt::format("{:.1f}", percent); }

void add_reading(ProbeResult& result, const ReadingDescriptor& descriptor, double value,
                 const MountLabels& mount) {
  result.readings.push_back(Reading{
      std::string(descriptor.name),
      std::string(descriptor.help),
      {{"mountpoint", mount.mount_point}, {"device", mount.device}, {"fstype", mount.fstype}},
      value,
      false});
}

}  // namespace

DiskProbe::DiskProbe(uv_loop_t* loop, config::DiskProbeConfig config, std::string proc_root)
    : config_(std::move(config)), proc_root_(std::move(proc_root)), pool_(loop) {}

DiskProbe::~DiskProbe() = default;  // the pool check abandons a check still in flight

void DiskProbe::start(Completion done) {
  // Normally a no-op: the scheduler cancels a check before starting the next one.
  cancel();
  if (pool_.stuck()) {
    // The previous check is still blocked in the pool. Queuing another would take a second
    // of libuv's few pool threads, which DNS and file system requests share: a dead NFS
    // mount would end up holding all of them. Like node_exporter's stuck mounts, skip
    // until it returns.
    ProbeResult result;
    result.status = Status::failing;
    result.reason = "timeout";
    result.error = "disk check on " + config_.path +
                   ": the previous check has not returned yet (unresponsive file system?); "
                   "skipping checks until it does";
    result.detail = {{"path", config_.path}};
    done(std::move(result));
    return;
  }

  // The check reads copies: a statvfs on a dead NFS mount can block for minutes, and the
  // probe may be cancelled, restarted or destroyed meanwhile.
  const int rc = pool_.start(
      [config = config_, proc_root = proc_root_] { return check_now(config, proc_root); }, done);
  if (rc != 0) {
    // Only fails on invalid arguments; report it rather than hang the scheduler.
    ProbeResult result;
    result.status = Status::failing;
    result.reason = "io_error";
    result.error = std::string("queue disk check: ") + uv_strerror(rc);
    done(std::move(result));
  }
}

void DiskProbe::cancel() { pool_.cancel(); }

ProbeResult DiskProbe::check_now(const config::DiskProbeConfig& config,
                                 const std::string& proc_root) {
  const std::string& path = config.path;
  ProbeResult result;
  result.detail.emplace_back("path", path);

  struct statvfs fs {};
  if (::statvfs(path.c_str(), &fs) != 0) {
    int error_code = errno;
    result.status = Status::failing;
    result.reason = error_code == ENOENT ? "not_found" : "io_error";
    result.error = "statvfs " + path + ": " + errno_message(error_code);
    return result;
  }

  MountLabels mount = find_mount_labels(path, proc_root);
  std::string where =
      mount.mount_point == path ? path : path + " (mount " + mount.mount_point + ")";

  std::vector<Problem> problems;
  if (config.write_check) {
    if (auto problem = check_writable(path)) problems.push_back(std::move(*problem));
  }

  const double avail_bytes = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
  const double size_bytes = static_cast<double>(fs.f_blocks) * static_cast<double>(fs.f_frsize);
  result.detail.emplace_back("mountpoint", mount.mount_point);
  result.detail.emplace_back("free_bytes", fmt::format("{:.0f}", avail_bytes));
  // A file system without a block count (some pseudo file systems) has no meaningful
  // percentage; skip the check instead of dividing by zero.
  if (fs.f_blocks > 0) {
    double free_percent = static_cast<double>(fs.f_bavail) / static_cast<double>(fs.f_blocks) * 100;
    result.detail.emplace_back("free_percent", format_percent(free_percent));
    if (auto problem = check_threshold("free space", free_percent, config.warn_free_percent,
                                       config.fail_free_percent, where)) {
      problems.push_back(std::move(*problem));
    }
  }
  // btrfs and some network file systems allocate inodes dynamically and report f_files 0.
  if (fs.f_files > 0) {
    double inodes_free_percent =
        static_cast<double>(fs.f_favail) / static_cast<double>(fs.f_files) * 100;
    result.detail.emplace_back("inodes_free_percent", format_percent(inodes_free_percent));
    if (auto problem =
            check_threshold("free inodes", inodes_free_percent, config.warn_free_inodes_percent,
                            config.fail_free_inodes_percent, where)) {
      problems.push_back(std::move(*problem));
    }
  }

  add_reading(result, kAvailBytes, avail_bytes, mount);
  add_reading(result, kSizeBytes, size_bytes, mount);
  add_reading(result, kFilesFree, static_cast<double>(fs.f_favail), mount);
  add_reading(result, kFiles, static_cast<double>(fs.f_files), mount);

  // The worst problem gives the status and reason (the first of equals: the write check,
  // which is listed first, is the more urgent news); every message is kept.
  result.status = Status::passing;
  for (const Problem& problem : problems) {
    if (!result.error.empty()) result.error += "; ";
    result.error += problem.message;
    if (problem.status > result.status) {
      result.status = problem.status;
      result.reason = problem.reason;
    }
  }
  return result;
}

}  // namespace covet::probes
