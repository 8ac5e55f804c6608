// Wal: the write-ahead log, a directory of numbered segment files (000001.wal, 000002.wal, ...)
// in the block format of log_format.h. See docs/wal.md for the format and the guarantees.
//
// Every logical record carries a WAL header: kind (1 byte) | sequence (fixed64 LE). Sequences
// start at 1 and strictly increase in file order across segments; a segment starts with a
// segment-header record holding the first sequence it may contain, so numbering survives even
// when every data record has been committed and deleted.
//
// Durability:
//  - Append() returning OK means the record was handed to the OS (survives kill -9).
//  - It survives power loss once DurableSequence() >= its sequence. Rolling to a new segment
//    always syncs the old one, so in every mode only the active segment's tail is at risk.
//
// Failure policy: a failed Append() or sync abandons the active segment (it is closed and never
// written again) and the next Append() rolls to a fresh segment. A record whose Append()
// failed never replays (its bytes, if any, are an incomplete tail of the abandoned segment) and
// its sequence is not reused. Records appended OK to a segment whose sync then failed are "in
// doubt": they may or may not replay; the failing Sync() (or, for a sync the WAL made on its
// own, the next Sync() call) returns the error, and DurableSequence() does not vouch for them.
//
// Thread-safety: all methods may be called concurrently; one mutex serializes them, and a sync
// holds it (a file handle is used by one thread at a time). Replay() reads without holding it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "lakelog/wal_options.h"
#include "wal/log_format.h"
#include "wal/log_writer.h"

namespace lakelog::wal {

// What one Replay() saw.
struct WalReplayStats {
  uint64_t segments = 0;
  uint64_t records = 0;               // data records passed to the callback
  uint64_t skipped_records = 0;       // data records at or below after_sequence
  uint64_t corruptions = 0;           // corruption reports (each a dropped run of bytes)
  uint64_t dropped_bytes = 0;         // bytes dropped by those reports
  uint64_t truncated_tail_bytes = 0;  // incomplete records at segment ends (not corruption)
  std::vector<std::string> reasons;   // the first few corruption reasons, for diagnostics
  // Segment files that hold no WAL record at all (an unrelated or overwritten file named like
  // a segment): Open() moved each into damaged/ instead of replaying or ever deleting it. Each
  // is also one of `corruptions`, its size part of `dropped_bytes`, and it leads `reasons`.
  uint64_t damaged_segments = 0;
  std::vector<std::string> set_aside;  // where they are now (paths under dir/damaged/)
};

// Counters since Open().
struct WalStats {
  uint64_t appends = 0;
  uint64_t append_failures = 0;
  uint64_t syncs = 0;
  uint64_t sync_failures = 0;
  uint64_t segments_created = 0;
  uint64_t segments_deleted = 0;
  uint64_t segments_set_aside = 0;  // moved into damaged/ instead of being replayed or deleted
};

// Called with records in sequence order. A non-OK return stops the replay and is returned.
using WalReplayCallback = std::function<Status(uint64_t sequence, std::string_view record)>;

// Decides whether the caller may own a WAL directory, given the names in it (LOCK included).
// Wal::Open calls it with the directory's LOCK held and before it writes anything else there;
// a non-OK return makes Open() fail with that status. It may write the caller's own marker
// file (e.g. the engine's engine.json), which then exists before the first segment does.
using WalOwnerCheck = std::function<Status(const std::vector<std::string>& entries)>;

// Records framed back to back for one Wal::AppendBatch, their storage kept across batches.
// Append a record's bytes to *buffer(), then call EndRecord().
class WalRecordBatch {
 public:
  std::string* buffer() { return &bytes_; }
  void EndRecord() { ends_.push_back(bytes_.size()); }

  size_t size() const { return ends_.size(); }
  bool empty() const { return ends_.empty(); }
  size_t bytes() const { return bytes_.size(); }

  // Views of the records, valid until the batch changes.
  std::span<const std::string_view> records() {
    views_.clear();
    size_t begin = 0;
    for (size_t end : ends_) {
      views_.emplace_back(bytes_.data() + begin, end - begin);
      begin = end;
    }
    return views_;
  }

  void Clear() {
    bytes_.clear();
    ends_.clear();
  }

 private:
  std::string bytes_;
  std::vector<size_t> ends_;  // where each record ends in bytes_
  std::vector<std::string_view> views_;
};

class Wal {
 public:
  // Opens (creating if needed) the WAL in `dir`: locks `dir/LOCK` (one Wal per directory at a
  // time, across processes), recovers the segment list and the next sequence, syncs the
  // existing segments, and starts a new active segment (existing segments are never appended
  // to). `fs` is not owned and must outlive the Wal.
  // `owner_check`, when given, runs under the lock before anything but LOCK is written.
  //
  // A segment file without a single WAL record in it (not even its header; e.g. an unrelated
  // file named 000001.wal) is not adopted: it is moved into `dir/damaged/` and reported by
  // every Replay() (WalReplayStats::damaged_segments). A WAL never deletes such a file.
  // Errors: InvalidArgument for bad options; Unavailable when another Wal holds the directory;
  // the owner check's error; the file system's error otherwise.
  static Result<std::unique_ptr<Wal>> Open(FileSystem* fs, std::string dir, WalOptions options,
                                           const WalOwnerCheck& owner_check = {});

  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;
  // Stops the background thread and closes the active segment without syncing (like kill -9
  // as far as durability goes). Call Close() for a clean shutdown.
  ~Wal();

  // Appends one record and returns its sequence. Errors: InvalidArgument (too large, nothing
  // written), the file system's error (see the failure policy above), or InvalidArgument after
  // Close().
  Result<uint64_t> Append(std::string_view record);

  // Appends the records in order with consecutive sequences and returns the last one, handing
  // them to the file system in as few writes as segment boundaries allow (one, usually). The
  // sequences first..first+size-1 are consumed whatever happens, so LastSequence() always
  // moves past the batch. Errors as for Append(): InvalidArgument when a record is too large
  // (nothing written); on a file-system error the records not yet written are not in the WAL
  // and the ones of the failed write are in doubt (they may or may not replay).
  Result<uint64_t> AppendBatch(std::span<const std::string_view> records);

  // Makes records durable according to the sync mode (see WalSyncMode). Returns an error when
  // a sync failed, now or on the WAL's own since the last Sync() call: records appended since
  // the last successful Sync() may then be lost.
  Status Sync();

  // Every record with sequence <= this whose Append() succeeded, and that no failed sync put
  // in doubt, is durable against power loss. 0 when nothing is.
  uint64_t DurableSequence() const;
  // The highest sequence handed out so far (0 when none).
  uint64_t LastSequence() const;

  // Replays every data record with sequence > after_sequence, segment by segment, in order.
  // Corruption is skipped and counted in the returned stats, never an error; an I/O error
  // reading a segment or a callback error is returned. Sequences passed to the callback
  // strictly increase (an out-of-order record is dropped and counted as corruption). A segment
  // in which corruption was found is marked damaged: MarkCommitted() later moves it into
  // damaged/ rather than deleting it. The segments Open() set aside are reported every time.
  Result<WalReplayStats> Replay(const WalReplayCallback& callback, uint64_t after_sequence = 0);

  // Records that every record with sequence <= `sequence` is committed to every sink, and
  // deletes the segments that hold only such records (a segment marked damaged is moved into
  // damaged/ instead). The newest segment is never deleted (it anchors the sequence numbering
  // across restarts). Future sequences are always above `sequence`: after Open(), pass the
  // sinks' committed watermark before appending, so records lost from an unsynced tail can
  // never have their sequences reused.
  Status MarkCommitted(uint64_t sequence);

  // Makes every future sequence greater than `sequence`, deleting nothing. With several sinks,
  // one may hold a key past the WAL's last record (records lost from an unsynced tail) while
  // another still needs the records the WAL kept: the numbering follows the highest key,
  // MarkCommitted() the lowest.
  void ReserveThrough(uint64_t sequence);

  // Syncs the active segment (in every mode), stops the background thread and closes the file.
  // Later calls other than the getters return InvalidArgument.
  Status Close();

  // Segment file numbers currently part of the log, oldest first. For tests and tools.
  std::vector<uint64_t> SegmentNumbers() const;
  WalStats stats() const;
  const std::string& dir() const { return dir_; }

  // "000042.wal"; false when `name` is not a segment file name.
  static std::string SegmentFileName(uint64_t number);
  static bool ParseSegmentFileName(std::string_view name, uint64_t* number);

  // The subdirectory damaged segment files are moved into.
  static constexpr char kDamagedDirName[] = "damaged";
  // The lock file every Wal holds in its directory.
  static constexpr char kLockFileName[] = "LOCK";

 private:
  struct Segment {
    uint64_t number = 0;
    uint64_t first_sequence = 0;  // from the segment header; 0 when unknown
    // Upper bound of the data sequences in the segment (0 when it holds none).
    uint64_t last_sequence = 0;
    // Corruption was seen in it (or it has no valid header): it is moved into damaged/, never
    // deleted, once committed.
    bool damaged = false;
    bool headerless = false;  // its first record is not a valid segment header
  };
  // A segment file Open() moved into damaged/ because it holds no WAL record.
  struct SetAside {
    std::string name;
    std::string path;  // where it is now
    uint64_t bytes = 0;
  };

  Wal(FileSystem* fs, std::string dir, WalOptions options);

  Status Recover(const WalOwnerCheck& owner_check);
  Status OpenNewSegmentLocked() REQUIRES(mu_);
  // Replay() found corruption in segment `number`.
  void MarkDamaged(uint64_t number) EXCLUDES(mu_);
  Status SyncActiveLocked() REQUIRES(mu_);
  // Writes the records staged in writer_ (the last of them has `last_sequence`); on failure
  // abandons the active segment.
  Status WriteStagedLocked(uint64_t last_sequence, uint64_t count) REQUIRES(mu_);
  // Closes the active segment after a failure; `sync_first` tries to keep its good prefix.
  void AbandonActiveLocked(bool sync_first) REQUIRES(mu_);
  bool SyncDueLocked() const REQUIRES(mu_);
  void BackgroundSyncLoop() EXCLUDES(mu_);
  std::string SegmentPath(uint64_t number) const;

  FileSystem* const fs_;
  const std::string dir_;
  const WalOptions options_;

  mutable Mutex mu_;
  CondVar bg_cv_;
  std::deque<Segment> segments_ GUARDED_BY(mu_);  // oldest first
  std::vector<SetAside> set_aside_;               // written by Open() only
  // Null when none is open.
  std::unique_ptr<WritableFile> active_file_ GUARDED_BY(mu_);
  std::unique_ptr<LogWriter> writer_ GUARDED_BY(mu_);  // writes active_file_
  uint64_t next_segment_number_ GUARDED_BY(mu_) = 1;
  uint64_t next_sequence_ GUARDED_BY(mu_) = 1;
  uint64_t durable_sequence_ GUARDED_BY(mu_) = 0;
  // Highest sequence appended OK to the active segment and not yet synced; 0 when clean.
  uint64_t unsynced_sequence_ GUARDED_BY(mu_) = 0;
  uint64_t committed_sequence_ GUARDED_BY(mu_) = 0;
  Status pending_sync_error_ GUARDED_BY(mu_);  // delivered by the next Sync()
  std::chrono::steady_clock::time_point last_sync_ GUARDED_BY(mu_);
  WalStats stats_ GUARDED_BY(mu_);
  bool closed_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
  std::string record_header_ GUARDED_BY(mu_);  // reused per Append
  std::thread bg_thread_;
  std::unique_ptr<FileLock> dir_lock_;  // the LOCK file of dir_, held until Close()
};

}  // namespace lakelog::wal
