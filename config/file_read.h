#pragma once
// Reading a whole small regular file, for the config file and secret files.

#include <cstddef>
#include <optional>
#include <string>

namespace covet::config::detail {

struct FileRead {
  std::optional<std::string> contents;
  std::string reason;  // "No such file or directory", "larger than 64 KiB"; no path, no data
};
// Refuses anything but a regular file (a FIFO would block, a device never ends) and files
// over `max_bytes`.
FileRead read_regular_file(const std::string& path, std::size_t max_bytes);

}  // namespace covet::config::detail
