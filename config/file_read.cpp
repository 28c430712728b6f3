#include "config/file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace covet::config::detail {
namespace {

// Closes the descriptor on every path out of read_regular_file.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

FileRead failure(std::string reason) { return {std::nullopt, std::move(reason)}; }

std::string size_limit_text(std::size_t max_bytes) {
  if (max_bytes % 1024 == 0) return std::to_string(max_bytes / 1024) + " KiB";
  return std::to_string(max_bytes) + " bytes";
}

}  // namespace

FileRead read_regular_file(const std::string& path, std::size_t max_bytes) {
  // O_NONBLOCK so that opening a FIFO cannot hang; it is refused below anyway.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return failure(std::strerror(errno));

  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return failure(std::strerror(errno));
  if (S_ISDIR(info.st_mode)) return failure(std::strerror(EISDIR));
  if (!S_ISREG(info.st_mode)) return failure("not a regular file");

  // Read up to one byte past the limit rather than trusting st_size: the file may grow
  // between fstat and read.
  std::string contents(max_bytes + 1, '\0');
  std::size_t used = 0;
  while (used < contents.size()) {
    const ssize_t n = ::read(fd.get(), contents.data() + used, contents.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;  // a signal is not a read failure; try again
      return failure(std::strerror(errno));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > max_bytes) return failure("larger than " + size_limit_text(max_bytes));
  contents.resize(used);
  return {std::move(contents), {}};
}

}  // namespace covet::config::detail
