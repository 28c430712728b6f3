#include "probes/procfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace covet::probes {
namespace {

// Closes the descriptor on every path out of read_small_file.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// strerror_r is the XSI one (returns int, fills buf) or the GNU one (returns a pointer that
// may or may not be buf) depending on feature macros; overloading on the return type picks
// the right message either way.
[[maybe_unused]] const char* strerror_r_result(int /*xsi_status*/, const char* buffer) {
  return buffer;
}
[[maybe_unused]] const char* strerror_r_result(const char* gnu_message, const char* /*buffer*/) {
  return gnu_message;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_octal_digit(char c) { return c >= '0' && c <= '7'; }

bool contains_path(std::string_view mount_point, std::string_view path) {
  if (mount_point == "/") return !path.empty() && path.front() == '/';
  if (!path.starts_with(mount_point)) return false;
  return path.size() == mount_point.size() || path[mount_point.size()] == '/';
}

bool list_contains(std::string_view comma_separated, std::string_view wanted) {
  while (!comma_separated.empty()) {
    std::size_t comma = comma_separated.find(',');
    std::string_view item = comma_separated.substr(0, comma);
    if (item == wanted) return true;
    if (comma == std::string_view::npos) break;
    comma_separated.remove_prefix(comma + 1);
  }
  return false;
}

// "some avg10=0.12 avg60=0.05 avg300=0.01 total=12345" minus the first word. Every one of
// the four fields is required; unknown fields are skipped, as the kernel may add some.
std::optional<PressureLine> parse_pressure_fields(std::string_view fields) {
  PressureLine line;
  unsigned seen = 0;
  for (std::string_view field = detail::next_token(fields); !field.empty();
       field = detail::next_token(fields)) {
    std::size_t equals = field.find('=');
    if (equals == std::string_view::npos) return std::nullopt;
    std::string_view key = field.substr(0, equals);
    std::string_view value = field.substr(equals + 1);
    if (key == "total") {
      auto total = detail::parse_u64(value);
      if (!total) return std::nullopt;
      line.total_microseconds = *total;
      seen |= 1u << 0;
      continue;
    }
    double* average = key == "avg10"    ? &line.avg10
                      : key == "avg60"  ? &line.avg60
                      : key == "avg300" ? &line.avg300
                                        : nullptr;
    if (average == nullptr) continue;
    auto parsed = detail::parse_double(value);
    if (!parsed) return std::nullopt;
    *average = *parsed;
    seen |= key == "avg10" ? 1u << 1 : key == "avg60" ? 1u << 2 : 1u << 3;
  }
  if (seen != 0b1111) return std::nullopt;
  return line;
}

}  // namespace

namespace detail {

std::optional<std::uint64_t> parse_u64(std::string_view token) {
  std::uint64_t value = 0;
  const char* end = token.data() + token.size();
  auto [ptr, ec] = std::from_chars(token.data(), end, value);
  if (token.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_i64(std::string_view token) {
  std::int64_t value = 0;
  const char* end = token.data() + token.size();
  auto [ptr, ec] = std::from_chars(token.data(), end, value);
  if (token.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view token) {
  double value = 0;
  const char* end = token.data() + token.size();
  auto [ptr, ec] = std::from_chars(token.data(), end, value, std::chars_format::fixed);
  if (token.empty() || ec != std::errc{} || ptr != end || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> parse_kibibytes_value(std::string_view value) {
  std::string_view number = next_token(value);
  std::string_view unit = next_token(value);
  if (!next_token(value).empty()) return std::nullopt;
  auto parsed = parse_u64(number);
  if (!parsed) return std::nullopt;
  if (unit.empty()) return parsed;
  if (unit != "kB") return std::nullopt;
  // The kernel's "kB" is KiB.
  if (*parsed > std::numeric_limits<std::uint64_t>::max() / 1024) return std::nullopt;
  return *parsed * 1024;
}

std::string_view next_line(std::string_view& text) {
  std::size_t newline = text.find('\n');
  std::string_view line = text.substr(0, newline);
  text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
  return line;
}

std::string_view next_token(std::string_view& text) {
  std::size_t start = 0;
  while (start < text.size() && is_space(text[start])) ++start;
  std::size_t end = start;
  while (end < text.size() && !is_space(text[end])) ++end;
  std::string_view token = text.substr(start, end - start);
  text.remove_prefix(end);
  return token;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace detail

FileContents read_small_file(const std::string& path, std::size_t max_bytes) {
  FileContents result;
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    result.error_code = errno;
    result.error = "read " + path + ": " + errno_message(result.error_code);
    return result;
  }
  std::array<char, 4096> buffer;
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result.error_code = errno;
      result.error = "read " + path + ": " + errno_message(result.error_code);
      result.contents.clear();
      return result;
    }
    if (n == 0) break;
    if (result.contents.size() + static_cast<std::size_t>(n) > max_bytes) {
      result.error_code = EFBIG;
      result.error = "read " + path + ": larger than " + std::to_string(max_bytes) + " bytes";
      result.contents.clear();
      return result;
    }
    result.contents.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return result;
}

std::string errno_message(int errnum) {
  std::array<char, 256> buffer{};
  std::string message =
      strerror_r_result(strerror_r(errnum, buffer.data(), buffer.size()), buffer.data());
  // "Read-only file system" -> "read-only file system", to sit after "operation PATH: ".
  if (!message.empty()) {
    message.front() = static_cast<char>(std::tolower(static_cast<unsigned char>(message.front())));
  }
  return message;
}

std::optional<std::uint64_t> read_boot_time_seconds(const std::string& proc_root) {
  FileContents stat = read_small_file(proc_root + "/stat");
  if (!stat.ok()) return std::nullopt;
  return parse_proc_stat_boot_time(stat.contents);
}

std::optional<MemInfo> parse_meminfo(std::string_view text) {
  std::optional<std::uint64_t> total;
  std::optional<std::uint64_t> available;
  while (!text.empty()) {
    std::string_view line = detail::next_line(text);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::optional<std::uint64_t>* slot = key == "MemTotal"       ? &total
                                         : key == "MemAvailable" ? &available
                                                                 : nullptr;
    if (slot == nullptr) continue;
    *slot = detail::parse_kibibytes_value(line.substr(colon + 1));
    if (!*slot) return std::nullopt;
  }
  if (!total || !available) return std::nullopt;
  return MemInfo{*total, *available};
}

std::string unescape_mountinfo_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    bool escape = field[i] == '\\' && field.size() - i >= 4 && is_octal_digit(field[i + 1]) &&
                  is_octal_digit(field[i + 2]) && is_octal_digit(field[i + 3]);
    unsigned value = 0;
    if (escape) {
      value = (static_cast<unsigned>(field[i + 1] - '0') << 6) |
              (static_cast<unsigned>(field[i + 2] - '0') << 3) |
              static_cast<unsigned>(field[i + 3] - '0');
    }
    // The kernel escapes single bytes; "\777" is not one of its escapes, so keep it.
    if (escape && value <= 0xff) {
      out.push_back(static_cast<char>(value));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

std::optional<MountInfo> find_mount(std::string_view mountinfo, std::string_view absolute_path) {
  std::optional<MountInfo> best;
  while (!mountinfo.empty()) {
    // "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
    // mount ID, parent ID, major:minor, root, mount point, options, optional fields ending
    // with "-", then filesystem type, source, super options.
    std::string_view line = detail::next_line(mountinfo);
    std::array<std::string_view, 5> leading;
    bool complete = true;
    for (std::string_view& field : leading) {
      field = detail::next_token(line);
      if (field.empty()) complete = false;
    }
    if (!complete) continue;
    std::string_view token = detail::next_token(line);
    while (!token.empty() && token != "-") token = detail::next_token(line);
    if (token != "-") continue;
    std::string_view fstype = detail::next_token(line);
    std::string_view source = detail::next_token(line);
    if (fstype.empty() || source.empty()) continue;

    std::string mount_point = unescape_mountinfo_field(leading[4]);
    if (!contains_path(mount_point, absolute_path)) continue;
    // ">=": a later mount on the same mount point is stacked on top of the earlier one.
    if (best && mount_point.size() < best->mount_point.size()) continue;
    best = MountInfo{std::move(mount_point), unescape_mountinfo_field(fstype),
                     unescape_mountinfo_field(source)};
  }
  return best;
}

ProcCgroup parse_proc_cgroup(std::string_view text) {
  // "hierarchy-ID:controller-list:cgroup-path"; the path is the rest of the line and could
  // itself contain ':'.
  ProcCgroup cgroup;
  while (!text.empty()) {
    std::string_view line = detail::next_line(text);
    std::size_t first_colon = line.find(':');
    if (first_colon == std::string_view::npos) continue;
    std::size_t second_colon = line.find(':', first_colon + 1);
    if (second_colon == std::string_view::npos) continue;
    std::string_view hierarchy = line.substr(0, first_colon);
    std::string_view controllers = line.substr(first_colon + 1, second_colon - first_colon - 1);
    std::string_view path = line.substr(second_colon + 1);
    if (path.empty() || path.front() != '/') continue;
    if (hierarchy == "0" && controllers.empty()) {
      if (!cgroup.v2_path) cgroup.v2_path = std::string(path);
    } else if (list_contains(controllers, "memory")) {
      if (!cgroup.v1_memory_path) cgroup.v1_memory_path = std::string(path);
    }
  }
  return cgroup;
}

std::optional<std::uint64_t> parse_single_u64(std::string_view text) {
  return detail::parse_u64(detail::trim(text));
}

std::optional<ResourceLimit> parse_cgroup_v2_memory_max(std::string_view text) {
  std::string_view value = detail::trim(text);
  if (value == "max") return ResourceLimit{0, true};
  auto bytes = detail::parse_u64(value);
  if (!bytes) return std::nullopt;
  return ResourceLimit{*bytes, false};
}

std::optional<ResourceLimit> parse_cgroup_v1_memory_limit(std::string_view text) {
  auto bytes = parse_single_u64(text);
  if (!bytes) return std::nullopt;
  if (*bytes >= kCgroupV1UnlimitedAtLeast) return ResourceLimit{0, true};
  return ResourceLimit{*bytes, false};
}

std::optional<std::uint64_t> parse_flat_keyed_u64(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    std::string_view line = detail::next_line(text);
    if (detail::next_token(line) != key) continue;
    std::string_view value = detail::next_token(line);
    if (!detail::next_token(line).empty()) return std::nullopt;
    return detail::parse_u64(value);
  }
  return std::nullopt;
}

std::optional<Pressure> parse_pressure(std::string_view text) {
  Pressure pressure;
  while (!text.empty()) {
    std::string_view line = detail::next_line(text);
    std::string_view kind = detail::next_token(line);
    if (kind == "some") {
      pressure.some = parse_pressure_fields(line);
    } else if (kind == "full") {
      pressure.full = parse_pressure_fields(line);
    }
  }
  if (!pressure.some && !pressure.full) return std::nullopt;
  return pressure;
}

std::optional<ProcPidStat> parse_proc_pid_stat(std::string_view text) {
  std::size_t comm_end = text.rfind(')');
  if (comm_end == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(comm_end + 1);
  // proc(5) numbers fields from 1; after comm (field 2) the first token is state (field 3),
  // so field N is tokens[N - 3]. Only the first 22 (up to rss, field 24) are needed.
  std::array<std::string_view, 22> tokens;
  for (std::string_view& token : tokens) {
    token = detail::next_token(rest);
    if (token.empty()) return std::nullopt;
  }
  auto field = [&tokens](std::size_t number) { return tokens[number - 3]; };
  auto utime = detail::parse_u64(field(14));
  auto stime = detail::parse_u64(field(15));
  auto num_threads = detail::parse_u64(field(20));
  auto starttime = detail::parse_u64(field(22));
  auto vsize = detail::parse_u64(field(23));
  auto rss = detail::parse_i64(field(24));
  if (!utime || !stime || !num_threads || !starttime || !vsize || !rss) return std::nullopt;
  return ProcPidStat{*utime, *stime, *num_threads, *starttime, *vsize, *rss};
}

ProcPidStatus parse_proc_pid_status(std::string_view text) {
  ProcPidStatus status;
  while (!text.empty()) {
    std::string_view line = detail::next_line(text);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (key == "VmRSS") {
      status.vm_rss_bytes = detail::parse_kibibytes_value(value);
    } else if (key == "RssAnon") {
      status.rss_anon_bytes = detail::parse_kibibytes_value(value);
    } else if (key == "VmSize") {
      status.vm_size_bytes = detail::parse_kibibytes_value(value);
    } else if (key == "Threads") {
      status.threads = detail::parse_u64(detail::trim(value));
    }
  }
  return status;
}

std::optional<ResourceLimit> parse_proc_limits_max_open_files(std::string_view text) {
  // "Max open files            1024                 1048576              files"
  // The limit names contain spaces, so match the name as a prefix, then take the columns.
  constexpr std::string_view kName = "Max open files";
  while (!text.empty()) {
    std::string_view line = detail::next_line(text);
    if (!line.starts_with(kName)) continue;
    line.remove_prefix(kName.size());
    if (!line.empty() && !is_space(line.front())) return std::nullopt;
    std::string_view soft = detail::next_token(line);
    if (soft == "unlimited") return ResourceLimit{0, true};
    auto value = detail::parse_u64(soft);
    if (!value) return std::nullopt;
    return ResourceLimit{*value, false};
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_proc_stat_boot_time(std::string_view text) {
  while (!text.empty()) {
    std::string_view line = detail::next_line(text);
    if (detail::next_token(line) != "btime") continue;
    return detail::parse_u64(detail::trim(line));
  }
  return std::nullopt;
}

}  // namespace covet::probes
