#pragma once
// A crash-safe disk spool of OTLP export requests. A request is acknowledged to its sender
// only once append() has called back, which is after it was written (and synced, per the
// fsync policy); everything appended and not yet acknowledged by the exporter survives a
// SIGKILL and is handed out again, in sequence order, after a restart. Delivery is
// at-least-once: records delivered just before a crash may be delivered again.
//
// Files (see spool_segment.h for their formats): segment files NNN.seg named after the
// sequence of their first record, appended to until segment_bytes and then a new one; ACKED,
// the acknowledgement watermark (every sequence below it was delivered), rewritten without
// fsync as acknowledgements arrive, so that a restart replays few delivered records; LOCK,
// flock()ed for the Spool's lifetime.
//
// Threads: every method runs on the loop thread, and so does every callback. File I/O runs on
// one worker thread (spool_worker.h) in the order it was asked for; only open() touches the
// disk on the calling thread, before the loop runs.
//
// Memory: an index entry of 32 bytes per record on disk (sequence, offset, length, spans),
// never the payloads: a 1 GiB spool of 4 KiB requests indexes in 8 MiB.
//
// fsync policies:
//  - always: fdatasync after each append, before its callback. Nothing acknowledged is lost
//    to a crash of the process or of the machine. Appends made while earlier ones are being
//    written are written together next, under one fdatasync.
//  - interval: fdatasync at most every fsync_interval, the callback runs after the write().
//    A process crash (SIGKILL, OOM kill) loses nothing, the data is in the page cache; a
//    power loss or kernel crash can lose what was appended in the last interval.
//  - never: no fsync at all (not even of the directory): survives process crashes only.

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exporters/otlp/spool_disk.h"
#include "exporters/otlp/spool_worker.h"

namespace covet {
class Logger;
}

namespace covet::otlp {

struct SpoolOptions {
  enum class Fsync { always, interval, never };
  std::string dir;
  std::uint64_t max_bytes = 0;  // of segment files; the oldest are deleted to stay under it
  Fsync fsync = Fsync::always;
  std::chrono::milliseconds fsync_interval{1000};
  // Capped at max_bytes / 4, so that staying under the budget never drops most of it at once.
  std::uint64_t segment_bytes = 8 << 20;
};

struct SpoolRecord {
  std::uint64_t sequence = 0;
  std::uint32_t spans = 0;
  std::shared_ptr<const std::string> payload;
};

class Spool {
 public:
  using Appended = std::function<void(std::optional<std::uint64_t> sequence)>;
  using Records = std::function<void(std::vector<SpoolRecord>)>;

  // Creates `dir` (mode 0700) if needed, takes its lock, scans the segments and recovers
  // from a crash: a torn record at the end of the last segment is cut off (one warn with
  // file and offset), a corrupt record elsewhere ends its segment (warn, counted in
  // corrupt_bytes). Blocking: called once before the loop runs. Null with `error` set
  // ("operation: reason", or "spool dir X is in use by another process").
  static std::unique_ptr<Spool> open(uv_loop_t* loop, SpoolOptions options, Logger& log,
                                     std::string& error);
  // Asserts that close() has finished.
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Writes a record; `done(sequence)` runs on the loop once it is written (and synced, per
  // policy), `done(std::nullopt)` when the write failed (disk full, EIO: counted in
  // write_failures, logged once per kind of error until a write succeeds) and the sender
  // should retry. False, with `done` dropped, when the record alone is larger than
  // max_bytes or close() was called. Making room may delete the oldest segments, even with
  // records not yet delivered: counted in dropped_*, logged.
  bool append(std::shared_ptr<const std::string> payload, std::uint32_t spans, Appended done);
  // Hands out the oldest written records not handed out yet, in sequence order, up to
  // `max_bytes` of payload (at least one record when any is waiting). `done` runs on the
  // loop, with an empty vector when nothing is waiting. A record that cannot be read back
  // (I/O error, checksum) is logged, counted in unreadable_records and forgotten. Ignored
  // once close() was called.
  void read(std::size_t max_bytes, Records done);
  // The record was delivered: it is never handed out again, and its segment is deleted when
  // all of its records are. Unknown or repeated sequences are ignored.
  void acknowledge(std::uint64_t sequence);
  // Hands out again, from the oldest, the records handed out and not acknowledged (after an
  // exporter gave up on its in-flight batches).
  void rewind();
  // Lets queued work finish (pending appends are written, synced unless the policy is never,
  // and called back; pending reads are called back), writes the watermark, and calls
  // `closed` last, on the loop: the Spool may be destroyed inside it. Acknowledgements after
  // close() are not recorded on disk. Never deletes records not acknowledged.
  void close(std::function<void()> closed);

  // Bytes of segment files, counting appends being written.
  std::uint64_t bytes() const { return bytes_; }
  // Written and not acknowledged (handed out or not).
  std::uint64_t pending_records() const { return pending_records_; }
  std::uint64_t pending_spans() const { return pending_spans_; }
  // Deleted not acknowledged to stay under max_bytes.
  std::uint64_t dropped_records() const { return dropped_records_; }
  std::uint64_t dropped_spans() const { return dropped_spans_; }
  std::uint64_t dropped_bytes() const { return dropped_bytes_; }
  // Found not acknowledged by open(); some may have been delivered before a crash.
  std::uint64_t replayed_records() const { return replayed_records_; }
  std::uint64_t replayed_spans() const { return replayed_spans_; }
  // Appends that failed, plus interval syncs that failed.
  std::uint64_t write_failures() const { return write_failures_; }
  // Skipped by open() after a corrupt record in a segment that was not the last.
  std::uint64_t corrupt_bytes() const { return corrupt_bytes_; }
  std::uint64_t unreadable_records() const { return unreadable_records_; }

 private:
  struct Entry {
    std::uint64_t sequence = 0;
    std::uint64_t offset = 0;
    std::uint32_t length = 0;  // payload bytes
    std::uint32_t spans = 0;
    bool acked = false;
  };
  struct Segment {
    std::vector<Entry> entries;     // by sequence; written records only
    std::size_t first_unacked = 0;  // entries before it are all acknowledged
    std::uint64_t bytes = 0;        // file size, counting appends being written
    std::uint32_t appending = 0;    // appends posted, not yet called back
  };
  using Segments = std::map<std::uint64_t, Segment>;  // by first sequence
  // An append accepted, not yet handed to the worker, or being written.
  struct HeldAppend {
    std::uint64_t segment = 0;
    std::uint64_t sequence = 0;
    std::uint32_t spans = 0;
    std::shared_ptr<const std::string> payload;
    Appended done;
    std::uint32_t length = 0;  // set once written, when the payload is let go
  };

  Spool(uv_loop_t* loop, SpoolOptions options, Logger& log, detail::SpoolDisk disk);
  bool recover(std::string& error);
  void post(detail::SpoolWorker::Job job);
  void post_appends();
  void on_appended(std::uint64_t segment, std::uint64_t sequence, std::uint32_t spans,
                   std::uint32_t length, std::optional<std::uint64_t> offset,
                   const detail::DiskError& error, const Appended& done);
  void on_read(std::vector<SpoolRecord> records, const std::vector<detail::DiskError>& errors,
               const Records& done);
  void make_room(std::uint64_t bytes);
  void drop(Segments::iterator it);
  void delete_if_done(Segments::iterator it);
  void remove_file(std::uint64_t segment);
  void forget(std::uint64_t sequence);
  void update_watermark();
  void write_watermark();
  void arm_sync_timer();
  void log_failure(const detail::DiskError& error, std::string_view what);
  void maybe_finish_close();
  static void on_sync_timer(uv_timer_t* timer);
  static void on_timer_closed(uv_handle_t* handle);

  uv_loop_t* loop_;
  SpoolOptions options_;
  std::uint64_t segment_bytes_;
  Logger& log_;
  detail::SpoolDisk disk_;  // worker thread only, once open() has returned
  detail::SpoolWorker worker_;

  Segments segments_;
  std::optional<std::uint64_t> current_;  // the segment being appended to
  std::uint64_t next_sequence_ = 0;
  std::uint64_t next_read_ = 0;          // read() hands out from here
  std::deque<std::uint64_t> appending_;  // sequences posted, not yet called back (FIFO)
  std::vector<HeldAppend> held_;         // the next batch of appends
  std::size_t batches_writing_ = 0;      // batches posted, not yet called back
  std::uint64_t watermark_ = 0;          // every sequence below is acknowledged or gone
  bool watermark_writing_ = false;
  std::vector<int> logged_errors_;  // errno values logged since the last good write

  uv_timer_t* sync_timer_ = nullptr;  // interval policy; heap, freed in its close callback
  bool sync_armed_ = false;
  std::size_t closing_handles_ = 0;
  bool started_ = false;
  bool closing_ = false;
  bool worker_closed_ = false;
  bool closed_ = false;
  std::function<void()> on_closed_;

  std::uint64_t bytes_ = 0;
  std::uint64_t pending_records_ = 0;
  std::uint64_t pending_spans_ = 0;
  std::uint64_t dropped_records_ = 0;
  std::uint64_t dropped_spans_ = 0;
  std::uint64_t dropped_bytes_ = 0;
  std::uint64_t replayed_records_ = 0;
  std::uint64_t replayed_spans_ = 0;
  std::uint64_t write_failures_ = 0;
  std::uint64_t corrupt_bytes_ = 0;
  std::uint64_t unreadable_records_ = 0;
};

}  // namespace covet::otlp
