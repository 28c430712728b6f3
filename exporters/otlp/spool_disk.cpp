#include "exporters/otlp/spool_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "exporters/otlp/spool_segment.h"

namespace covet::otlp::detail {
namespace {

std::string describe(std::string_view operation, const std::string& path, int code) {
  return std::string(operation) + " " + path + ": " + std::strerror(code);
}

bool fail(DiskError& error, std::string_view operation, const std::string& path) {
  const int code = errno;
  error.code = code;
  error.message = describe(operation, path, code);
  return false;
}

// mkdir -p with mode 0700 for what it creates; an existing directory is left as it is.
bool make_directories(const std::string& dir, std::string& error) {
  for (std::size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string prefix = dir.substr(0, slash);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      error = describe("creating spool dir", prefix, errno);
      return false;
    }
    if (slash == std::string::npos) break;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    error = describe("opening spool dir", dir, errno);
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    error = "opening spool dir " + dir + ": not a directory";
    return false;
  }
  return true;
}

// pwrite of every byte of `iov`, resuming after short writes and EINTR.
bool pwrite_all(int fd, struct iovec* iov, int count, std::uint64_t offset) {
  while (count > 0) {
    const ssize_t n = ::pwritev(fd, iov, count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;  // not expected from a regular file; do not spin
      return false;
    }
    offset += static_cast<std::uint64_t>(n);
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

// pread of exactly `size` bytes; false with errno set, or with errno 0 at end of file.
bool pread_all(int fd, char* out, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = 0;
      return false;
    }
    out += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace

void UniqueFd::reset() {
  // close() is not retried on EINTR: on Linux the descriptor is gone either way.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::optional<SpoolDisk> SpoolDisk::open(const std::string& dir, bool syncing, std::string& error) {
  SpoolDisk disk;
  disk.dir_ = dir;
  while (disk.dir_.size() > 1 && disk.dir_.back() == '/') disk.dir_.pop_back();
  disk.syncing_ = syncing;
  if (disk.dir_.empty()) {
    error = "opening spool dir: empty path";
    return std::nullopt;
  }
  if (!make_directories(disk.dir_, error)) return std::nullopt;
  disk.dir_fd_ = UniqueFd(::open(disk.dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!disk.dir_fd_) {
    error = describe("opening spool dir", disk.dir_, errno);
    return std::nullopt;
  }
  const std::string lock_path = disk.path("LOCK");
  disk.lock_fd_ = UniqueFd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!disk.lock_fd_) {
    error = describe("opening", lock_path, errno);
    return std::nullopt;
  }
  // flock, not fcntl locks: those belong to the process, so a second Spool in the same
  // process would get the lock too, and closing any fd of the file would drop it.
  if (::flock(disk.lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      error = "spool dir " + disk.dir_ + " is in use by another process";
    } else {
      error = describe("locking", lock_path, errno);
    }
    return std::nullopt;
  }
  const std::string watermark_path = disk.path("ACKED");
  disk.watermark_fd_ = UniqueFd(::open(watermark_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!disk.watermark_fd_) {
    error = describe("opening", watermark_path, errno);
    return std::nullopt;
  }
  return disk;
}

std::vector<std::uint64_t> SpoolDisk::list_segments(std::string& error) const {
  std::vector<std::uint64_t> segments;
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) {
    error = describe("listing spool dir", dir_, errno);
    return segments;
  }
  while (const dirent* entry = ::readdir(d)) {
    if (auto first = spool::parse_segment_file_name(entry->d_name)) segments.push_back(*first);
  }
  ::closedir(d);
  std::sort(segments.begin(), segments.end());
  return segments;
}

std::optional<std::string> SpoolDisk::read_whole(std::uint64_t segment, DiskError& error) const {
  const std::string file = path(spool::segment_file_name(segment));
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) {
    fail(error, "reading", file);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    errno = EINVAL;
    fail(error, "reading", file);
    return std::nullopt;
  }
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  if (!pread_all(fd.get(), data.data(), data.size(), 0)) {
    if (errno == 0) errno = EIO;  // shrank under us
    fail(error, "reading", file);
    return std::nullopt;
  }
  return data;
}

bool SpoolDisk::truncate(std::uint64_t segment, std::uint64_t size, DiskError& error) const {
  const std::string file = path(spool::segment_file_name(segment));
  if (::truncate(file.c_str(), static_cast<off_t>(size)) != 0)
    return fail(error, "truncating", file);
  return true;
}

bool SpoolDisk::remove(std::uint64_t segment, DiskError& error) {
  if (writing_ == segment) {
    writing_.reset();
    writing_fd_.reset();
  }
  if (reading_ == segment) {
    reading_.reset();
    reading_fd_.reset();
  }
  const std::string file = path(spool::segment_file_name(segment));
  // ENOENT is not an error: the file was never created (its first write failed).
  if (::unlink(file.c_str()) != 0 && errno != ENOENT) return fail(error, "deleting", file);
  return true;
}

std::optional<std::uint64_t> SpoolDisk::read_watermark() const {
  char bytes[spool::watermark_bytes];
  if (!pread_all(watermark_fd_.get(), bytes, sizeof bytes, 0)) return std::nullopt;
  return spool::decode_watermark(std::string_view(bytes, sizeof bytes));
}

bool SpoolDisk::write_watermark(std::uint64_t watermark, DiskError& error) {
  // No fsync: a watermark lost in a power cut only means records delivered again.
  auto bytes = spool::encode_watermark(watermark);
  struct iovec iov {
    bytes.data(), bytes.size()
  };
  if (!pwrite_all(watermark_fd_.get(), &iov, 1, 0)) return fail(error, "writing", path("ACKED"));
  return true;
}

std::optional<std::uint64_t> SpoolDisk::append(std::uint64_t segment, std::uint64_t sequence,
                                               std::uint32_t spans, std::string_view payload,
                                               bool sync, DiskError& error) {
  if (writing_ != segment) {
    if (!finish(error)) return std::nullopt;
    const std::string file = path(spool::segment_file_name(segment));
    // O_TRUNC: a file of that name can only be one whose first write failed; sequences are
    // never reused, so it holds nothing of value.
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) {
      fail(error, "creating", file);
      return std::nullopt;
    }
    // Without this a power cut could lose the file's name along with records already
    // acknowledged to their senders.
    if (syncing_ && ::fsync(dir_fd_.get()) != 0) {
      fail(error, "syncing spool dir", dir_);
      return std::nullopt;
    }
    writing_ = segment;
    writing_fd_ = std::move(fd);
    writing_offset_ = 0;
  }
  auto header = spool::encode_record_header(sequence, spans, payload);
  struct iovec iov[2] = {{header.data(), header.size()},
                         {const_cast<char*>(payload.data()), payload.size()}};
  const std::uint64_t offset = writing_offset_;
  const std::string file = path(spool::segment_file_name(segment));
  bool ok = pwrite_all(writing_fd_.get(), iov, 2, offset) || fail(error, "writing", file);
  if (ok && sync) ok = ::fdatasync(writing_fd_.get()) == 0 || fail(error, "syncing", file);
  if (!ok) {
    // Best effort: the next record is written at `offset` whether or not this works.
    (void)::ftruncate(writing_fd_.get(), static_cast<off_t>(offset));
    return std::nullopt;
  }
  writing_offset_ = offset + header.size() + payload.size();
  return offset;
}

bool SpoolDisk::sync(DiskError& error) {
  if (!writing_fd_) return true;
  if (::fdatasync(writing_fd_.get()) != 0) {
    return fail(error, "syncing", path(spool::segment_file_name(*writing_)));
  }
  return true;
}

std::optional<std::string> SpoolDisk::read_record(std::uint64_t segment, std::uint64_t offset,
                                                  std::uint64_t sequence, std::uint32_t length,
                                                  DiskError& error) {
  const std::string file = path(spool::segment_file_name(segment));
  if (reading_ != segment) {
    reading_.reset();
    reading_fd_ = UniqueFd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!reading_fd_) {
      fail(error, "reading", file);
      return std::nullopt;
    }
    reading_ = segment;
  }
  char header_bytes[spool::record_header_bytes];
  std::string payload(length, '\0');
  if (!pread_all(reading_fd_.get(), header_bytes, sizeof header_bytes, offset) ||
      !pread_all(reading_fd_.get(), payload.data(), payload.size(),
                 offset + spool::record_header_bytes)) {
    if (errno == 0) errno = EIO;  // the file is shorter than the index says
    fail(error, "reading", file);
    return std::nullopt;
  }
  const auto header =
      spool::decode_record_header(std::string_view(header_bytes, sizeof header_bytes));
  if (!header || header->sequence != sequence || !spool::payload_matches(*header, payload)) {
    error.code = EBADMSG;
    error.message =
        "reading " + file + ": record at offset " + std::to_string(offset) + " is corrupt";
    return std::nullopt;
  }
  return payload;
}

bool SpoolDisk::finish(DiskError& error) {
  if (!writing_) return true;
  const bool ok = !syncing_ || sync(error);
  writing_.reset();
  writing_fd_.reset();
  return ok;
}

}  // namespace covet::otlp::detail
