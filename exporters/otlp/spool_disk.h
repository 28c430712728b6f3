#pragma once
// The spool directory's blocking file operations: the lock, segment appends and reads, the
// watermark file, unlinks. Nothing here knows about the loop or about acknowledgements:
// Spool::open calls it before the loop runs, then only the spool's worker thread does, so it
// needs no locking of its own.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace covet::otlp::detail {

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset();

 private:
  int fd_ = -1;
};

// What a failed operation reports: errno, and "operation path: reason" for the log.
struct DiskError {
  int code = 0;
  std::string message;
};

class SpoolDisk {
 public:
  // Creates `dir` (mode 0700, parents too) if missing, and takes the LOCK file's flock for
  // the SpoolDisk's lifetime. Null with `error` set when either fails.
  static std::optional<SpoolDisk> open(const std::string& dir, bool syncing, std::string& error);

  const std::string& dir() const { return dir_; }
  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }

  // First sequences of the segment files present, ascending.
  std::vector<std::uint64_t> list_segments(std::string& error) const;
  std::optional<std::string> read_whole(std::uint64_t segment, DiskError& error) const;
  bool truncate(std::uint64_t segment, std::uint64_t size, DiskError& error) const;
  bool remove(std::uint64_t segment, DiskError& error);
  std::optional<std::uint64_t> read_watermark() const;
  bool write_watermark(std::uint64_t watermark, DiskError& error);

  // Appends one record to `segment`, creating the file when it is not the one being written
  // (the previous one is synced first unless syncing is off). On failure the file is cut
  // back to where the record started, as far as possible, and the next append to the same
  // segment writes at the same offset anyway, so a failure leaves no garbage between records.
  // Returns the record's offset.
  std::optional<std::uint64_t> append(std::uint64_t segment, std::uint64_t sequence,
                                      std::uint32_t spans, std::string_view payload, bool sync,
                                      DiskError& error);
  // The segment being written, if any.
  std::optional<std::uint64_t> writing() const { return writing_; }
  // fdatasync of the segment being written, if any.
  bool sync(DiskError& error);
  // Reads and checks the record at `offset`; nullopt when unreadable or not the record the
  // index expects (bit rot, a file changed under us).
  std::optional<std::string> read_record(std::uint64_t segment, std::uint64_t offset,
                                         std::uint64_t sequence, std::uint32_t length,
                                         DiskError& error);
  // Syncs and closes the segment being written (close of the spool).
  bool finish(DiskError& error);

 private:
  SpoolDisk() = default;

  std::string dir_;
  bool syncing_ = true;  // false with fsync "never": no fsync of any kind
  UniqueFd dir_fd_;
  UniqueFd lock_fd_;
  UniqueFd watermark_fd_;
  // The segment being written.
  std::optional<std::uint64_t> writing_;
  UniqueFd writing_fd_;
  std::uint64_t writing_offset_ = 0;
  // The segment last read: reads of a batch come from one or two files.
  std::optional<std::uint64_t> reading_;
  UniqueFd reading_fd_;
};

}  // namespace covet::otlp::detail
