// libFuzzer target for the /proc and cgroup parsers (probes/procfs.h): every parser gets
// the same arbitrary bytes, as if the kernel (or a container runtime's fake /proc, as
// lxcfs provides) had written them. No file I/O.
//
// Properties checked, beyond "no crash, no sanitizer report, no exception":
//  - a mount found for a path really contains it, on whole path components;
//  - unescaping never lengthens a mountinfo field;
//  - a v1 limit below 2^62 is never reported unlimited;
//  - the tokenizers always make progress and stay inside the input.
//
//   ./procfs_fuzz -max_total_time=60 tests/fuzz/corpus/procfs

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "probes/procfs.h"

namespace {

using namespace covet::probes;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "procfs_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void check_mount(std::string_view mountinfo, std::string_view path) {
  auto mount = find_mount(mountinfo, path);
  if (!mount) return;
  const std::string& mount_point = mount->mount_point;
  if (mount_point == "/") return;
  bool contains = path.starts_with(mount_point) &&
                  (path.size() == mount_point.size() || path[mount_point.size()] == '/');
  if (!contains) fail("find_mount returned a mount that does not contain the path", mount_point);
}

void check_tokenizers(std::string_view text) {
  std::string_view lines = text;
  while (!lines.empty()) {
    std::size_t before = lines.size();
    detail::next_line(lines);
    if (lines.size() >= before) fail("next_line made no progress", text);
  }
  std::string_view tokens = text;
  for (std::string_view token = detail::next_token(tokens); !token.empty();
       token = detail::next_token(tokens)) {
    if (token.data() < text.data() || token.data() + token.size() > text.data() + text.size()) {
      fail("next_token left the input", text);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  (void)parse_meminfo(text);

  for (std::string_view path : {"/", "/var/lib/app/data", "/mnt/my disk/x", "/tmp", ""}) {
    check_mount(text, path);
  }
  if (unescape_mountinfo_field(text).size() > text.size()) {
    fail("unescape_mountinfo_field lengthened its input", text);
  }

  (void)parse_proc_cgroup(text);
  (void)parse_single_u64(text);
  (void)parse_cgroup_v2_memory_max(text);
  if (auto limit = parse_cgroup_v1_memory_limit(text)) {
    auto bytes = parse_single_u64(text);
    if (!bytes) fail("v1 limit parsed but the number did not", text);
    if (limit->unlimited != (*bytes >= kCgroupV1UnlimitedAtLeast)) {
      fail("v1 limit unlimited flag disagrees with the number", text);
    }
  }
  for (std::string_view key : {"inactive_file", "total_inactive_file", "oom_kill"}) {
    (void)parse_flat_keyed_u64(text, key);
  }
  (void)parse_pressure(text);
  (void)parse_proc_pid_stat(text);
  (void)parse_proc_pid_status(text);
  (void)parse_proc_limits_max_open_files(text);
  (void)parse_proc_stat_boot_time(text);

  (void)detail::parse_u64(text);
  (void)detail::parse_i64(text);
  (void)detail::parse_double(text);
  (void)detail::parse_kibibytes_value(text);
  (void)detail::trim(text);
  check_tokenizers(text);
  return 0;
}
