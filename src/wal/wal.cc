#include "wal/wal.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

#include "wal/coding.h"
#include "wal/log_reader.h"
#include "wal/set_aside.h"

namespace lakelog {

// The public names of lakelog/wal_options.h.
std::string_view WalSyncModeName(WalSyncMode mode) {
  switch (mode) {
    case WalSyncMode::kNone: return "none";
    case WalSyncMode::kInterval: return "interval";
    case WalSyncMode::kGroupCommit: return "group";
  }
  return "unknown";
}

bool ParseWalSyncMode(std::string_view text, WalSyncMode* mode) {
  for (WalSyncMode m : {WalSyncMode::kNone, WalSyncMode::kInterval, WalSyncMode::kGroupCommit}) {
    if (text == WalSyncModeName(m)) {
      *mode = m;
      return true;
    }
  }
  return false;
}

}  // namespace lakelog

namespace lakelog::wal {
namespace {

// The WAL header inside every logical record: kind (1) | sequence (fixed64 LE).
enum class WalRecordKind : uint8_t {
  kData = 1,
  // Body: format version (fixed32). Sequence: the first sequence the segment may hold.
  kSegmentHeader = 2,
};
constexpr size_t kWalRecordHeaderSize = 1 + 8;
constexpr uint32_t kSegmentFormatVersion = 1;
constexpr size_t kSegmentHeaderBodySize = 4;  // the format version
// The physical bytes of a segment header record: crc, length, type, then the logical record.
constexpr size_t kSegmentHeaderRecordSize =
    kHeaderSize + kWalRecordHeaderSize + kSegmentHeaderBodySize;
constexpr size_t kMaxReportedReasons = 8;

void EncodeWalHeader(std::string* dst, WalRecordKind kind, uint64_t sequence) {
  dst->clear();
  dst->push_back(static_cast<char>(kind));
  PutFixed64(dst, sequence);
}

// What a scan of one segment found.
struct SegmentScan {
  uint64_t first_sequence = 0;     // from its header record; 0 when missing or unreadable
  uint64_t max_data_sequence = 0;  // 0 when no data record was read
  bool has_header = false;         // the record at offset 0 is a valid segment header
  uint64_t records = 0;            // valid logical records read, of any kind
  uint64_t size = 0;
  std::string head;  // the first kSegmentHeaderRecordSize bytes
};

// Reads the segment header and, when `full`, every record. Corruption is tolerated silently
// here: Replay() is the place that counts it.
Status ScanSegment(FileSystem* fs, const std::string& path, bool full, size_t max_record_bytes,
                   SegmentScan* out) {
  LAKELOG_ASSIGN_OR_RETURN(auto file, fs->NewRandomAccessFile(path));
  out->size = file->Size();
  LAKELOG_RETURN_IF_ERROR(file->Read(0, kSegmentHeaderRecordSize, &out->head));
  LogReader reader(file.get(), nullptr, max_record_bytes);
  std::string scratch;
  std::string_view record;
  bool first = true;
  while (reader.ReadRecord(&record, &scratch)) {
    ++out->records;
    if (record.size() >= kWalRecordHeaderSize) {
      const auto kind = static_cast<WalRecordKind>(record[0]);
      const uint64_t sequence = DecodeFixed64(record.data() + 1);
      if (first && kind == WalRecordKind::kSegmentHeader && reader.last_record_offset() == 0 &&
          record.size() == kWalRecordHeaderSize + kSegmentHeaderBodySize) {
        out->first_sequence = sequence;
        out->has_header = true;
      }
      if (kind == WalRecordKind::kData) {
        out->max_data_sequence = std::max(out->max_data_sequence, sequence);
      }
    }
    first = false;
    if (!full) break;
  }
  return reader.status();
}

// True when `head` (a whole file of that size) can be what a crash leaves of a segment whose
// header record was being written: nothing, zeros, or a prefix of a header record (whose fixed
// bytes are the length, the type FULL, the kind and the format version).
bool IsTornSegmentHeader(std::string_view head, uint64_t size) {
  if (size > kSegmentHeaderRecordSize) return false;
  if (head.find_first_not_of('\0') == std::string_view::npos) return true;
  std::string expected(kSegmentHeaderRecordSize, '\0');
  const size_t length = kWalRecordHeaderSize + kSegmentHeaderBodySize;
  expected[4] = static_cast<char>(length & 0xff);
  expected[5] = static_cast<char>(length >> 8);
  expected[6] = static_cast<char>(RecordType::kFull);
  expected[7] = static_cast<char>(WalRecordKind::kSegmentHeader);
  EncodeFixed32(expected.data() + 16, kSegmentFormatVersion);
  for (size_t i : {4, 5, 6, 7, 16, 17, 18, 19}) {
    if (i < head.size() && head[i] != expected[i]) return false;
  }
  return true;
}

class StatsReporter final : public LogReader::Reporter {
 public:
  explicit StatsReporter(WalReplayStats* stats) : stats_(stats) {}
  void Corruption(uint64_t bytes, const Status& reason) override {
    ++stats_->corruptions;
    stats_->dropped_bytes += bytes;
    if (stats_->reasons.size() < kMaxReportedReasons) stats_->reasons.push_back(reason.message());
  }

 private:
  WalReplayStats* stats_;
};

}  // namespace

std::string Wal::SegmentFileName(uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%06llu.wal", static_cast<unsigned long long>(number));
  return buf;
}

bool Wal::ParseSegmentFileName(std::string_view name, uint64_t* number) {
  constexpr std::string_view kSuffix = ".wal";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return false;
  }
  std::string_view digits = name.substr(0, name.size() - kSuffix.size());
  if (digits.size() < 6 || digits.size() > 19) return false;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value == 0) return false;
  *number = value;
  return true;
}

Wal::Wal(FileSystem* fs, std::string dir, WalOptions options)
    : fs_(fs), dir_(std::move(dir)), options_(options) {}

Result<std::unique_ptr<Wal>> Wal::Open(FileSystem* fs, std::string dir, WalOptions options,
                                       const WalOwnerCheck& owner_check) {
  if (fs == nullptr || dir.empty()) return Status::InvalidArgument("wal: no file system or dir");
  if (options.segment_bytes < kBlockSize) {
    return Status::InvalidArgument("wal: segment_bytes must be at least one block (32 KiB)");
  }
  if (options.max_record_bytes == 0 || options.max_record_bytes > kDefaultMaxRecordBytes) {
    return Status::InvalidArgument("wal: max_record_bytes must be in (0, 64 MiB]");
  }
  std::unique_ptr<Wal> wal(new Wal(fs, std::move(dir), options));
  LAKELOG_RETURN_IF_ERROR(wal->Recover(owner_check).WithContext("wal open " + wal->dir_));
  if (options.sync_mode == WalSyncMode::kInterval && options.sync_interval_ms > 0) {
    wal->bg_thread_ = std::thread([w = wal.get()] { w->BackgroundSyncLoop(); });
  }
  return wal;
}

Wal::~Wal() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  bg_cv_.SignalAll();
  if (bg_thread_.joinable()) bg_thread_.join();
  if (active_file_ != nullptr) (void)active_file_->Close();
}

std::string Wal::SegmentPath(uint64_t number) const {
  return JoinPath(dir_, SegmentFileName(number));
}

Status Wal::Recover(const WalOwnerCheck& owner_check) {
  LAKELOG_RETURN_IF_ERROR(fs_->CreateDirs(dir_));
  LAKELOG_ASSIGN_OR_RETURN(dir_lock_, fs_->LockFile(JoinPath(dir_, kLockFileName)));
  LAKELOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir_));
  if (owner_check) LAKELOG_RETURN_IF_ERROR(owner_check(names));
  std::vector<uint64_t> numbers;
  for (const std::string& name : names) {
    uint64_t number;
    if (ParseSegmentFileName(name, &number)) numbers.push_back(number);
  }
  std::sort(numbers.begin(), numbers.end());
  // Set-aside numbers stay taken, so damaged/ never gets two different files of one name.
  const uint64_t next_number = numbers.empty() ? 1 : numbers.back() + 1;

  const size_t max_record = options_.max_record_bytes + kWalRecordHeaderSize;
  std::vector<SegmentScan> scans;
  std::vector<uint64_t> kept;
  std::vector<bool> headerless;
  for (uint64_t number : numbers) {
    SegmentScan scan;
    LAKELOG_RETURN_IF_ERROR(ScanSegment(fs_, SegmentPath(number), false, max_record, &scan));
    const bool torn = !scan.has_header && IsTornSegmentHeader(scan.head, scan.size);
    if (!scan.has_header && !torn) {
      // Damaged at its start, or not a segment at all. Whatever records it still holds are
      // replayed; a file without a single one is nothing this WAL wrote, so it is neither
      // adopted (its bytes would read as a truncated tail and it would be deleted once
      // "committed") nor deleted: it goes aside for a person to look at.
      SegmentScan full;
      LAKELOG_RETURN_IF_ERROR(ScanSegment(fs_, SegmentPath(number), true, max_record, &full));
      if (full.records == 0) {
        LAKELOG_ASSIGN_OR_RETURN(std::string path,
                                 MoveToDamaged(fs_, dir_, SegmentFileName(number)));
        set_aside_.push_back(SetAside{SegmentFileName(number), std::move(path), scan.size});
        continue;
      }
    }
    kept.push_back(number);
    headerless.push_back(!scan.has_header && !torn);
    scans.push_back(std::move(scan));
  }
  numbers = std::move(kept);

  uint64_t highest = 0;
  MutexLock lock(&mu_);
  next_segment_number_ = next_number;
  stats_.segments_set_aside = set_aside_.size();
  for (size_t i = 0; i < numbers.size(); ++i) {
    Segment segment{numbers[i], scans[i].first_sequence, 0};
    segment.damaged = segment.headerless = headerless[i];
    if (i + 1 < numbers.size() && scans[i + 1].first_sequence > 0) {
      // Everything in segment i precedes the next segment's first sequence.
      segment.last_sequence = scans[i + 1].first_sequence - 1;
    } else {
      SegmentScan full;
      LAKELOG_RETURN_IF_ERROR(ScanSegment(fs_, SegmentPath(numbers[i]), true, max_record, &full));
      segment.last_sequence = full.max_data_sequence;
    }
    highest = std::max(highest, segment.last_sequence);
    if (segment.first_sequence > 0) highest = std::max(highest, segment.first_sequence - 1);
    segments_.push_back(segment);
  }

  // Records recovered from a previous process may sit only in the page cache (kill -9 before
  // a sync); make them durable so DurableSequence() can vouch for them.
  for (uint64_t number : numbers) {
    LAKELOG_ASSIGN_OR_RETURN(auto file, fs_->NewAppendableFile(SegmentPath(number)));
    LAKELOG_RETURN_IF_ERROR(file->Sync());
    LAKELOG_RETURN_IF_ERROR(file->Close());
  }
  next_sequence_ = highest + 1;
  durable_sequence_ = highest;
  return OpenNewSegmentLocked();
}

Status Wal::OpenNewSegmentLocked() {
  mu_.AssertHeld();
  const uint64_t number = next_segment_number_++;
  const std::string path = SegmentPath(number);
  LAKELOG_ASSIGN_OR_RETURN(auto file, fs_->NewWritableFile(path));
  auto writer =
      std::make_unique<LogWriter>(file.get(), 0, options_.max_record_bytes + kWalRecordHeaderSize);
  EncodeWalHeader(&record_header_, WalRecordKind::kSegmentHeader, next_sequence_);
  char version[4];
  EncodeFixed32(version, kSegmentFormatVersion);
  Status st = writer->AddRecord(record_header_, std::string_view(version, sizeof(version)));
  // The header and the directory entry are made durable at once, so that a segment that
  // exists after a crash always names its first sequence.
  if (st.ok()) st = file->Sync();
  if (st.ok()) st = fs_->SyncDir(dir_);
  if (!st.ok()) {
    (void)file->Close();
    file.reset();
    (void)fs_->DeleteFile(path);
    return st.WithContext("wal: creating segment " + path);
  }
  segments_.push_back(Segment{number, next_sequence_, 0});
  active_file_ = std::move(file);
  writer_ = std::move(writer);
  unsynced_sequence_ = 0;
  last_sync_ = std::chrono::steady_clock::now();
  ++stats_.segments_created;
  return Status::OK();
}

bool Wal::SyncDueLocked() const {
  mu_.AssertHeld();
  return std::chrono::steady_clock::now() - last_sync_ >=
         std::chrono::milliseconds(options_.sync_interval_ms);
}

Status Wal::SyncActiveLocked() {
  mu_.AssertHeld();
  if (writer_ == nullptr || unsynced_sequence_ == 0) return Status::OK();
  Status st = active_file_->Sync();
  ++stats_.syncs;
  if (st.ok()) {
    durable_sequence_ = std::max(durable_sequence_, unsynced_sequence_);
    unsynced_sequence_ = 0;
    last_sync_ = std::chrono::steady_clock::now();
    return Status::OK();
  }
  ++stats_.sync_failures;
  Status error = st.WithContext("wal sync of segment " + SegmentFileName(segments_.back().number) +
                                " failed; records " + std::to_string(durable_sequence_ + 1) + ".." +
                                std::to_string(unsynced_sequence_) + " are in doubt");
  // After a failed fsync the kernel may have dropped the dirty pages while a retry reports
  // success, so the segment is never trusted with more data.
  AbandonActiveLocked(false);
  return error;
}

void Wal::AbandonActiveLocked(bool sync_first) {
  mu_.AssertHeld();
  if (writer_ == nullptr) return;
  if (sync_first && unsynced_sequence_ != 0) {
    // Keep the good prefix (records appended before the failure) if the disk lets us.
    Status st = SyncActiveLocked();  // on failure it recurses with sync_first = false
    if (!st.ok() && pending_sync_error_.ok()) pending_sync_error_ = st;
    if (writer_ == nullptr) return;
  }
  unsynced_sequence_ = 0;
  (void)active_file_->Close();
  active_file_.reset();
  writer_.reset();
}

Result<uint64_t> Wal::Append(std::string_view record) {
  return AppendBatch(std::span<const std::string_view>(&record, 1));
}

Result<uint64_t> Wal::AppendBatch(std::span<const std::string_view> records) {
  MutexLock lock(&mu_);
  if (closed_) return Status::InvalidArgument("wal append: the wal is closed");
  for (std::string_view record : records) {
    if (record.size() > options_.max_record_bytes) {
      return Status::InvalidArgument("wal append: record of " + std::to_string(record.size()) +
                                     " bytes exceeds max_record_bytes");
    }
  }
  const uint64_t first = next_sequence_;
  const uint64_t end = first + records.size();
  Status error;
  uint64_t staged = 0;  // records framed into writer_ and not yet written
  for (std::string_view record : records) {
    const size_t encoded = kWalRecordHeaderSize + record.size();
    if (writer_ != nullptr &&
        (segments_.back().last_sequence != 0 || writer_->pending_bytes() != 0) &&
        writer_->file_length() + writer_->pending_bytes() + writer_->EncodedSize(encoded) >
            options_.segment_bytes) {
      error = WriteStagedLocked(next_sequence_ - 1, staged);
      staged = 0;
      if (!error.ok()) break;
      // Roll. Closed segments are always synced, whatever the mode.
      Status st = SyncActiveLocked();
      if (!st.ok()) {
        if (pending_sync_error_.ok()) pending_sync_error_ = st;
      } else {
        (void)active_file_->Close();
        active_file_.reset();
        writer_.reset();
      }
    }
    if (writer_ == nullptr) {
      error = OpenNewSegmentLocked();
      if (!error.ok()) {
        ++stats_.append_failures;
        break;
      }
    }
    EncodeWalHeader(&record_header_, WalRecordKind::kData, next_sequence_);
    error = writer_->Stage(record_header_, record);
    if (!error.ok()) break;  // the writer failed earlier (sizes were checked above)
    ++next_sequence_;
    ++staged;
  }
  if (error.ok()) error = WriteStagedLocked(next_sequence_ - 1, staged);
  next_sequence_ = end;  // a failed batch still consumes its sequences
  if (!error.ok()) {
    return error.WithContext("wal append of sequences " + std::to_string(first) + ".." +
                             std::to_string(end - 1));
  }
  if (options_.sync_mode == WalSyncMode::kInterval && SyncDueLocked()) {
    Status sync = SyncActiveLocked();
    if (!sync.ok() && pending_sync_error_.ok()) pending_sync_error_ = sync;
  }
  return end - 1;
}

Status Wal::WriteStagedLocked(uint64_t last_sequence, uint64_t count) {
  mu_.AssertHeld();
  if (count == 0) return Status::OK();
  Status st = writer_->WritePending();
  if (!st.ok()) {
    stats_.append_failures += count;
    AbandonActiveLocked(true);
    return st;
  }
  stats_.appends += count;
  segments_.back().last_sequence = last_sequence;
  unsynced_sequence_ = last_sequence;
  return Status::OK();
}

Status Wal::Sync() {
  MutexLock lock(&mu_);
  if (closed_) return Status::InvalidArgument("wal sync: the wal is closed");
  Status st;
  switch (options_.sync_mode) {
    case WalSyncMode::kNone: break;
    case WalSyncMode::kInterval:
      if (SyncDueLocked()) st = SyncActiveLocked();
      break;
    case WalSyncMode::kGroupCommit: st = SyncActiveLocked(); break;
  }
  if (!pending_sync_error_.ok()) {
    Status pending = std::move(pending_sync_error_);
    pending_sync_error_ = Status::OK();
    if (st.ok()) return pending;
    return st.WithContext(pending.ToString());
  }
  return st;
}

uint64_t Wal::DurableSequence() const {
  MutexLock lock(&mu_);
  return durable_sequence_;
}

uint64_t Wal::LastSequence() const {
  MutexLock lock(&mu_);
  return next_sequence_ - 1;
}

std::vector<uint64_t> Wal::SegmentNumbers() const {
  MutexLock lock(&mu_);
  std::vector<uint64_t> out;
  for (const Segment& s : segments_) out.push_back(s.number);
  return out;
}

WalStats Wal::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

Result<WalReplayStats> Wal::Replay(const WalReplayCallback& callback, uint64_t after_sequence) {
  std::vector<Segment> segments;
  {
    MutexLock lock(&mu_);
    segments.assign(segments_.begin(), segments_.end());
  }
  WalReplayStats stats;
  StatsReporter reporter(&stats);
  for (const SetAside& file : set_aside_) {
    reporter.Corruption(
        file.bytes,
        Status::Corruption("segment " + file.name + " holds no WAL record (" +
                           std::to_string(file.bytes) + " bytes); kept as " + file.path));
    ++stats.damaged_segments;
    stats.set_aside.push_back(file.path);
  }
  std::string scratch;
  uint64_t last_seen = 0;
  for (const Segment& segment : segments) {
    const std::string path = SegmentPath(segment.number);
    auto file = fs_->NewRandomAccessFile(path);
    if (!file.ok()) {
      if (file.status().IsNotFound()) continue;  // committed and deleted meanwhile
      return file.status().WithContext("wal replay");
    }
    ++stats.segments;
    const uint64_t corruptions_before = stats.corruptions;
    if (segment.headerless) {
      reporter.Corruption(0, Status::Corruption("segment " + SegmentFileName(segment.number) +
                                                " has no valid segment header"));
    }
    LogReader reader(file->get(), &reporter, options_.max_record_bytes + kWalRecordHeaderSize);
    std::string_view record;
    while (reader.ReadRecord(&record, &scratch)) {
      if (record.size() < kWalRecordHeaderSize) {
        reporter.Corruption(record.size(), Status::Corruption("wal record shorter than header"));
        continue;
      }
      const auto kind = static_cast<WalRecordKind>(record[0]);
      const uint64_t sequence = DecodeFixed64(record.data() + 1);
      if (kind == WalRecordKind::kSegmentHeader) continue;
      if (kind != WalRecordKind::kData) {
        reporter.Corruption(record.size(), Status::Corruption("unknown wal record kind"));
        continue;
      }
      if (sequence <= last_seen) {
        reporter.Corruption(record.size(), Status::Corruption("wal sequence out of order"));
        continue;
      }
      last_seen = sequence;
      if (sequence <= after_sequence) {
        ++stats.skipped_records;
        continue;
      }
      LAKELOG_RETURN_IF_ERROR(callback(sequence, record.substr(kWalRecordHeaderSize)));
      ++stats.records;
    }
    if (!reader.status().ok()) return reader.status().WithContext("wal replay " + path);
    stats.truncated_tail_bytes += reader.truncated_tail_bytes();
    if (stats.corruptions > corruptions_before) MarkDamaged(segment.number);
  }
  return stats;
}

void Wal::MarkDamaged(uint64_t number) {
  MutexLock lock(&mu_);
  for (Segment& segment : segments_) {
    if (segment.number == number) segment.damaged = true;
  }
}

void Wal::ReserveThrough(uint64_t sequence) {
  MutexLock lock(&mu_);
  next_sequence_ = std::max(next_sequence_, sequence + 1);
}

Status Wal::MarkCommitted(uint64_t sequence) {
  MutexLock lock(&mu_);
  if (closed_) return Status::InvalidArgument("wal: the wal is closed");
  committed_sequence_ = std::max(committed_sequence_, sequence);
  // A sink may hold a watermark past what the log kept (records lost from an unsynced tail in
  // kNone mode, or a wiped directory); new records must never reuse those sequences.
  next_sequence_ = std::max(next_sequence_, committed_sequence_ + 1);
  Status result;
  bool deleted = false;
  const bool had_segments = !segments_.empty();
  // Invariant: the newest segment stays, so the numbering survives a restart.
  while (segments_.size() > 1 && segments_.front().last_sequence <= committed_sequence_) {
    const Segment& front = segments_.front();
    if (front.damaged) {
      // Its good records are committed; the damaged bytes are kept for a person to inspect.
      // The copy holds mu_ (appends wait for it), which only a damaged segment ever costs.
      auto moved = MoveToDamaged(fs_, dir_, SegmentFileName(front.number));
      if (!moved.ok() && !moved.status().IsNotFound()) {
        result = moved.status().WithContext("wal: setting a committed damaged segment aside");
        break;
      }
      ++stats_.segments_set_aside;
    } else {
      Status st = fs_->DeleteFile(SegmentPath(front.number));
      if (!st.ok() && !st.IsNotFound()) {
        result = st.WithContext("wal: deleting a committed segment");
        break;
      }
      ++stats_.segments_deleted;
      deleted = true;
    }
    segments_.pop_front();
  }
  assert(!had_segments || !segments_.empty());
  (void)had_segments;  // read only by the assert
  if (deleted) {
    Status st = fs_->SyncDir(dir_);
    if (result.ok()) result = st;
  }
  return result;
}

Status Wal::Close() {
  Status result;
  {
    MutexLock lock(&mu_);
    if (closed_) return Status::OK();
    result = SyncActiveLocked();
    if (active_file_ != nullptr) {
      Status st = active_file_->Close();
      if (result.ok()) result = st;
      active_file_.reset();
      writer_.reset();
    }
    if (result.ok() && !pending_sync_error_.ok()) result = pending_sync_error_;
    pending_sync_error_ = Status::OK();
    closed_ = true;
    stop_ = true;
    dir_lock_.reset();
  }
  bg_cv_.SignalAll();
  if (bg_thread_.joinable()) bg_thread_.join();
  return result;
}

void Wal::BackgroundSyncLoop() {
  MutexLock lock(&mu_);
  while (!stop_) {
    bg_cv_.WaitFor(&mu_, std::chrono::milliseconds(options_.sync_interval_ms));
    if (stop_) break;
    if (unsynced_sequence_ != 0 && SyncDueLocked()) {
      Status st = SyncActiveLocked();
      if (!st.ok() && pending_sync_error_.ok()) pending_sync_error_ = st;
    }
  }
}

}  // namespace lakelog::wal
