#include "exporters/otlp/spool.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "agent/logging.h"
#include "exporters/otlp/spool_segment.h"

namespace covet::otlp {
namespace {

using detail::DiskError;

std::uint64_t record_bytes(std::uint64_t payload) { return spool::record_header_bytes + payload; }

}  // namespace

std::unique_ptr<Spool> Spool::open(uv_loop_t* loop, SpoolOptions options, Logger& log,
                                   std::string& error) {
  if (options.max_bytes == 0) {
    error = "opening spool dir " + options.dir + ": max_bytes must be positive";
    return nullptr;
  }
  auto disk =
      detail::SpoolDisk::open(options.dir, options.fsync != SpoolOptions::Fsync::never, error);
  if (!disk) return nullptr;
  std::unique_ptr<Spool> spool(new Spool(loop, std::move(options), log, std::move(*disk)));
  if (!spool->recover(error)) return nullptr;
  // Last: nothing after it can fail, so a failed open() never leaves a thread to join.
  if (!spool->worker_.start(error)) return nullptr;
  spool->started_ = true;
  return spool;
}

Spool::Spool(uv_loop_t* loop, SpoolOptions options, Logger& log, detail::SpoolDisk disk)
    : loop_(loop),
      options_(std::move(options)),
      segment_bytes_(
          std::max<std::uint64_t>(1, std::min(options_.segment_bytes, options_.max_bytes / 4))),
      log_(log),
      disk_(std::move(disk)),
      worker_(loop) {}

Spool::~Spool() {
  // A running worker or a pending close callback would use a freed Spool.
  assert(closed_ || !started_);
}

bool Spool::recover(std::string& error) {
  const std::uint64_t acked = disk_.read_watermark().value_or(0);
  std::string list_error;
  const std::vector<std::uint64_t> files = disk_.list_segments(list_error);
  if (!list_error.empty()) {
    error = std::move(list_error);
    return false;
  }
  next_sequence_ = acked;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::uint64_t first = files[i];
    const std::string file = disk_.path(spool::segment_file_name(first));
    DiskError disk_error;
    const std::optional<std::string> data = disk_.read_whole(first, disk_error);
    // Not skipped: a segment we cannot read may hold records we have not delivered, and
    // neither deleting it nor ignoring it is ours to decide.
    if (!data) {
      error = disk_error.message;
      return false;
    }
    const spool::SegmentScan scan = spool::scan_segment(*data, first);
    std::uint64_t size = data->size();
    if (scan.stop != spool::SegmentScan::Stop::end) {
      const std::string offset = std::to_string(scan.valid_bytes);
      if (i + 1 == files.size()) {
        // What a crash in the middle of a write leaves; cut so the file ends on a record.
        log_.warn("spool: incomplete record at the end of the last segment, cut off",
                  {{"file", file}, {"offset", offset}, {"reason", scan.reason}});
        if (!disk_.truncate(first, scan.valid_bytes, disk_error)) {
          error = disk_error.message;
          return false;
        }
        size = scan.valid_bytes;
      } else {
        const std::uint64_t skipped = size - scan.valid_bytes;
        log_.warn("spool: corrupt record, the rest of the segment is skipped",
                  {{"file", file},
                   {"offset", offset},
                   {"reason", scan.reason},
                   {"skipped_bytes", std::to_string(skipped)}});
        corrupt_bytes_ += skipped;
      }
    }
    // Never reuse a number a file was named after, even one holding nothing valid.
    next_sequence_ = std::max(next_sequence_, first + 1);
    Segment segment;
    segment.bytes = size;
    segment.entries.reserve(scan.records.size());
    for (const spool::ScannedRecord& r : scan.records) {
      const bool delivered = r.sequence < acked;
      segment.entries.push_back({r.sequence, r.offset, r.length, r.spans, delivered});
      if (!delivered) {
        ++replayed_records_;
        replayed_spans_ += r.spans;
      }
      next_sequence_ = std::max(next_sequence_, r.sequence + 1);
    }
    while (segment.first_unacked < segment.entries.size() &&
           segment.entries[segment.first_unacked].acked) {
      ++segment.first_unacked;
    }
    if (segment.first_unacked == segment.entries.size()) {
      // Everything in it was delivered (or it holds nothing valid): gone now, not later.
      if (!disk_.remove(first, disk_error)) log_.warn("spool: " + disk_error.message);
      continue;
    }
    pending_records_ += segment.entries.size() - segment.first_unacked;
    for (std::size_t k = segment.first_unacked; k < segment.entries.size(); ++k) {
      pending_spans_ += segment.entries[k].spans;
    }
    bytes_ += segment.bytes;
    segments_.emplace(first, std::move(segment));
  }
  watermark_ = acked;
  update_watermark();
  if (replayed_records_ > 0) {
    log_.info("spool: records to deliver from a previous run",
              {{"dir", disk_.dir()},
               {"records", std::to_string(replayed_records_)},
               {"spans", std::to_string(replayed_spans_)}});
  }
  return true;
}

void Spool::post(detail::SpoolWorker::Job job) {
  // Completions that run during close() find the worker closed to new work: what they would
  // post (a delete, a watermark) is redone by the next open().
  if (closing_) return;
  // Held appends were asked for first: they go first (a delete of their segment must not
  // run before them).
  post_appends();
  worker_.post(std::move(job));
}

bool Spool::append(std::shared_ptr<const std::string> payload, std::uint32_t spans, Appended done) {
  if (closing_ || !payload || payload->size() > spool::max_record_payload_bytes) return false;
  const std::uint64_t size = record_bytes(payload->size());
  if (size > options_.max_bytes) return false;
  make_room(size);
  if (!current_ || segments_[*current_].bytes >= segment_bytes_) {
    const std::optional<std::uint64_t> previous = current_;
    current_ = next_sequence_;
    segments_.emplace(*current_, Segment{});
    if (previous) {
      if (auto it = segments_.find(*previous); it != segments_.end()) delete_if_done(it);
    }
  }
  const std::uint64_t segment = *current_;
  const std::uint64_t sequence = next_sequence_++;
  Segment& s = segments_[segment];
  s.bytes += size;
  ++s.appending;
  bytes_ += size;
  appending_.push_back(sequence);
  held_.push_back({segment, sequence, spans, std::move(payload), std::move(done)});
  // While a batch is being written, appends wait here and go as the next batch: with fsync
  // always, one fdatasync then covers every append that arrived during the previous one.
  if (batches_writing_ == 0) post_appends();
  return true;
}

void Spool::post_appends() {
  if (held_.empty()) return;
  ++batches_writing_;
  const bool sync = options_.fsync == SpoolOptions::Fsync::always;
  std::vector<HeldAppend> batch;
  batch.swap(held_);
  worker_.post([this, sync, batch = std::move(batch)]() mutable -> detail::SpoolWorker::Completion {
    struct Written {
      std::optional<std::uint64_t> offset;
      DiskError error;
    };
    std::vector<Written> written(batch.size());
    // Appends written since the last successful sync: they fail together if the next fails.
    // Their bytes stay in the file (a later record may follow them), so a restart may hand
    // them out although their senders were told to retry: a duplicate, which at-least-once
    // allows, never a loss.
    std::size_t unsynced_from = 0;
    auto sync_or_fail = [&](std::size_t end) {
      DiskError error;
      if (!sync || disk_.sync(error)) {
        unsynced_from = end;
        return;
      }
      for (std::size_t k = unsynced_from; k < end; ++k) {
        if (written[k].offset) written[k] = {std::nullopt, error};
      }
      unsynced_from = end;
    };
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const HeldAppend& a = batch[i];
      // Before a new segment starts, so that a failed sync is charged to the right appends.
      if (disk_.writing() != a.segment) sync_or_fail(i);
      written[i].offset =
          disk_.append(a.segment, a.sequence, a.spans, *a.payload, false, written[i].error);
    }
    sync_or_fail(batch.size());
    for (HeldAppend& a : batch) {
      a.length = static_cast<std::uint32_t>(a.payload->size());
      a.payload.reset();  // not kept alive until the loop gets round to the completion
    }
    return [this, batch = std::move(batch), written = std::move(written)] {
      --batches_writing_;
      // First: the callbacks below append more, which then wait for this next batch.
      post_appends();
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const HeldAppend& a = batch[i];
        on_appended(a.segment, a.sequence, a.spans, a.length, written[i].offset, written[i].error,
                    a.done);
      }
    };
  });
}

void Spool::on_appended(std::uint64_t segment, std::uint64_t sequence, std::uint32_t spans,
                        std::uint32_t length, std::optional<std::uint64_t> offset,
                        const DiskError& error, const Appended& done) {
  assert(!appending_.empty() && appending_.front() == sequence);
  appending_.pop_front();
  const std::uint64_t size = record_bytes(length);
  const auto it = segments_.find(segment);
  if (it != segments_.end()) --it->second.appending;
  if (!offset) {
    ++write_failures_;
    log_failure(error, "spool: append failed, the sender is asked to retry");
    if (it != segments_.end()) {
      it->second.bytes -= size;
      bytes_ -= size;
      delete_if_done(it);
    }
    update_watermark();
    if (done) done(std::nullopt);
    return;
  }
  logged_errors_.clear();  // a new episode of failures is worth a new line
  if (it == segments_.end()) {
    // Its segment was dropped to make room while this record was being written.
    ++dropped_records_;
    dropped_spans_ += spans;
    dropped_bytes_ += size;
  } else {
    it->second.entries.push_back({sequence, *offset, length, spans, false});
    ++pending_records_;
    pending_spans_ += spans;
    if (options_.fsync == SpoolOptions::Fsync::interval) arm_sync_timer();
  }
  update_watermark();
  if (done) done(sequence);
}

void Spool::make_room(std::uint64_t size) {
  // The segment being written is always the newest, so it goes only when nothing else is
  // left; records still being written into a dropped segment are counted when they finish.
  while (bytes_ + size > options_.max_bytes && !segments_.empty()) drop(segments_.begin());
}

void Spool::drop(Segments::iterator it) {
  const std::uint64_t first = it->first;
  Segment& segment = it->second;
  std::uint64_t records = 0;
  std::uint64_t spans = 0;
  std::uint64_t size = 0;
  for (std::size_t k = segment.first_unacked; k < segment.entries.size(); ++k) {
    const Entry& e = segment.entries[k];
    if (e.acked) continue;
    ++records;
    spans += e.spans;
    size += record_bytes(e.length);
  }
  pending_records_ -= records;
  pending_spans_ -= spans;
  dropped_records_ += records;
  dropped_spans_ += spans;
  dropped_bytes_ += size;
  bytes_ -= segment.bytes;
  if (current_ == first) current_.reset();
  log_.warn("spool: over max_bytes, deleted the oldest segment with records not delivered",
            {{"file", disk_.path(spool::segment_file_name(first))},
             {"records", std::to_string(records)},
             {"spans", std::to_string(spans)},
             {"bytes", std::to_string(size)},
             {"max_bytes", std::to_string(options_.max_bytes)}});
  segments_.erase(it);
  remove_file(first);
  update_watermark();
}

void Spool::delete_if_done(Segments::iterator it) {
  const Segment& segment = it->second;
  if (current_ == it->first || segment.appending != 0 ||
      segment.first_unacked != segment.entries.size()) {
    return;
  }
  const std::uint64_t first = it->first;
  bytes_ -= segment.bytes;
  segments_.erase(it);
  remove_file(first);
}

void Spool::remove_file(std::uint64_t segment) {
  post([this, segment]() -> detail::SpoolWorker::Completion {
    DiskError error;
    if (disk_.remove(segment, error)) return {};
    return [this, error = std::move(error)] { log_failure(error, "spool: delete failed"); };
  });
}

void Spool::read(std::size_t max_bytes, Records done) {
  if (closing_) return;
  struct Wanted {
    std::uint64_t segment, offset, sequence;
    std::uint32_t length, spans;
  };
  std::vector<Wanted> wanted;
  std::size_t total = 0;
  auto it = segments_.upper_bound(next_read_);
  if (it != segments_.begin()) --it;
  for (bool full = false; it != segments_.end() && !full; ++it) {
    const std::vector<Entry>& entries = it->second.entries;
    auto e = std::lower_bound(
        entries.begin() + static_cast<std::ptrdiff_t>(it->second.first_unacked), entries.end(),
        next_read_, [](const Entry& x, std::uint64_t s) { return x.sequence < s; });
    for (; e != entries.end(); ++e) {
      if (e->acked) continue;
      if (!wanted.empty() && total + e->length > max_bytes) {
        full = true;
        break;
      }
      wanted.push_back({it->first, e->offset, e->sequence, e->length, e->spans});
      total += e->length;
    }
  }
  if (!wanted.empty()) next_read_ = wanted.back().sequence + 1;
  // Through the worker even when empty: callbacks never run inside read().
  post([this, wanted = std::move(wanted),
        done = std::move(done)]() mutable -> detail::SpoolWorker::Completion {
    std::vector<SpoolRecord> records;
    std::vector<DiskError> errors;
    records.reserve(wanted.size());
    for (const Wanted& w : wanted) {
      DiskError error;
      std::optional<std::string> payload =
          disk_.read_record(w.segment, w.offset, w.sequence, w.length, error);
      if (payload) {
        records.push_back(
            {w.sequence, w.spans, std::make_shared<const std::string>(std::move(*payload))});
      } else {
        // A record without payload: the loop forgets it.
        errors.push_back(std::move(error));
        records.push_back({w.sequence, w.spans, nullptr});
      }
    }
    return [this, records = std::move(records), errors = std::move(errors),
            done = std::move(done)]() mutable { on_read(std::move(records), errors, done); };
  });
}

void Spool::on_read(std::vector<SpoolRecord> records, const std::vector<DiskError>& errors,
                    const Records& done) {
  for (const DiskError& error : errors)
    log_.warn("spool: unreadable record, skipped", {{"error", error.message}});
  std::erase_if(records, [this](const SpoolRecord& r) {
    if (r.payload) return false;
    ++unreadable_records_;
    forget(r.sequence);
    return true;
  });
  if (done) done(std::move(records));
}

void Spool::acknowledge(std::uint64_t sequence) { forget(sequence); }

void Spool::forget(std::uint64_t sequence) {
  auto it = segments_.upper_bound(sequence);
  if (it == segments_.begin()) return;
  --it;
  Segment& segment = it->second;
  auto e = std::lower_bound(segment.entries.begin(), segment.entries.end(), sequence,
                            [](const Entry& x, std::uint64_t s) { return x.sequence < s; });
  if (e == segment.entries.end() || e->sequence != sequence || e->acked) return;
  e->acked = true;
  --pending_records_;
  pending_spans_ -= e->spans;
  while (segment.first_unacked < segment.entries.size() &&
         segment.entries[segment.first_unacked].acked) {
    ++segment.first_unacked;
  }
  delete_if_done(it);
  update_watermark();
}

void Spool::rewind() { next_read_ = 0; }

void Spool::update_watermark() {
  // The lowest sequence that may still be delivered: the first unacknowledged record, or the
  // first append still being written, or the next sequence.
  std::uint64_t lowest = next_sequence_;
  if (!appending_.empty()) lowest = appending_.front();
  for (const auto& [first, segment] : segments_) {
    if (segment.first_unacked < segment.entries.size()) {
      lowest = std::min(lowest, segment.entries[segment.first_unacked].sequence);
      break;
    }
  }
  if (lowest == watermark_) return;
  watermark_ = lowest;
  write_watermark();
}

void Spool::write_watermark() {
  // One write in flight at a time, carrying the latest value: acknowledgements coalesce.
  if (watermark_writing_ || closing_ || !started_) return;
  watermark_writing_ = true;
  const std::uint64_t value = watermark_;
  post([this, value]() -> detail::SpoolWorker::Completion {
    DiskError error;
    const bool ok = disk_.write_watermark(value, error);
    return [this, value, ok, error = std::move(error)] {
      watermark_writing_ = false;
      if (!ok) log_failure(error, "spool: writing the watermark failed");
      if (watermark_ != value) write_watermark();
    };
  });
}

void Spool::arm_sync_timer() {
  if (sync_armed_ || closing_) return;
  if (sync_timer_ == nullptr) {
    sync_timer_ = new uv_timer_t;
    uv_timer_init(loop_, sync_timer_);
    sync_timer_->data = this;
  }
  sync_armed_ = true;
  uv_timer_start(sync_timer_, &Spool::on_sync_timer,
                 static_cast<std::uint64_t>(options_.fsync_interval.count()), 0);
}

void Spool::on_sync_timer(uv_timer_t* timer) {
  auto* self = static_cast<Spool*>(timer->data);
  self->sync_armed_ = false;
  self->post([self]() -> detail::SpoolWorker::Completion {
    DiskError error;
    if (self->disk_.sync(error)) return {};
    return [self, error = std::move(error)] {
      // Already acknowledged to their senders: all we can do is say so.
      ++self->write_failures_;
      self->log_failure(error,
                        "spool: periodic sync failed, recent records may not survive a power loss");
    };
  });
}

void Spool::log_failure(const DiskError& error, std::string_view what) {
  if (std::find(logged_errors_.begin(), logged_errors_.end(), error.code) != logged_errors_.end()) {
    return;
  }
  logged_errors_.push_back(error.code);
  log_.warn(what, {{"error", error.message}});
}

void Spool::close(std::function<void()> closed) {
  if (closing_) return;
  on_closed_ = std::move(closed);
  const std::uint64_t watermark = watermark_;
  // Queued after every append (post() sends the held ones first): they are written before
  // the final sync.
  post([this, watermark]() -> detail::SpoolWorker::Completion {
    DiskError watermark_error;
    DiskError sync_error;
    const bool watermark_ok = disk_.write_watermark(watermark, watermark_error);
    const bool sync_ok = disk_.finish(sync_error);
    return [this, watermark_ok, sync_ok, watermark_error = std::move(watermark_error),
            sync_error = std::move(sync_error)] {
      if (!watermark_ok) log_failure(watermark_error, "spool: writing the watermark failed");
      if (!sync_ok) log_failure(sync_error, "spool: final sync failed");
    };
  });
  closing_ = true;
  if (sync_timer_ != nullptr) {
    uv_timer_stop(sync_timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(sync_timer_), &Spool::on_timer_closed);
    sync_timer_ = nullptr;
    ++closing_handles_;
  }
  worker_.close([this] {
    worker_closed_ = true;
    maybe_finish_close();
  });
}

void Spool::on_timer_closed(uv_handle_t* handle) {
  auto* self = static_cast<Spool*>(handle->data);
  delete reinterpret_cast<uv_timer_t*>(handle);
  --self->closing_handles_;
  self->maybe_finish_close();
}

void Spool::maybe_finish_close() {
  if (!worker_closed_ || closing_handles_ != 0 || closed_) return;
  closed_ = true;
  // Moved out first: `closed` may destroy this Spool.
  if (std::function<void()> closed = std::move(on_closed_)) closed();
}

}  // namespace covet::otlp
