// `lakelog ingest`: NDJSON events from a file or stdin into a Delta table, in batches.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/table_location.h"
#include "ingest/chunk_shredder.h"
#include "ingest/event_parser.h"
#include "ingest/ingest_journal.h"
#include "lakelog/delta_table.h"
#include "wal/crc32c.h"

namespace lakelog::cli {
namespace {

constexpr size_t kRejectTextLimit = 1000;

struct IngestOptions {
  std::string table;
  std::string input = "-";
  std::string rejects;
  std::string compression = "zstd";
  size_t batch_rows = 100'000;
  size_t batch_bytes = size_t{64} << 20;
  bool json = false;
  std::string wal;             // empty: no write-ahead log
  std::string sync = "group";  // none | interval | group
  uint32_t sync_interval_ms = 100;
  // Set when the flag was given: --sync and --sync-interval-ms mean nothing without --wal.
  CLI::Option* sync_flag = nullptr;
  CLI::Option* sync_interval_flag = nullptr;
};

// Accepted lines between two WAL syncs (and `durable N` reports).
constexpr int64_t kSyncEveryLines = 1024;

struct IngestSummary {
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t files = 0;
  int64_t commits = 0;
  int64_t version = -1;
  int64_t recovered = 0;      // events committed from the WAL of an interrupted run
  int64_t resumed_after = 0;  // input lines skipped because an earlier run holds them
  int64_t checkpoints = 0;    // Delta checkpoints written after our commits
};

// True when `path` is `dir` or lies under it (both canonical).
bool IsWithin(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

// Cuts `text` to at most `limit` bytes without splitting a UTF-8 sequence.
std::string CutUtf8(std::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

// Reads lines from a file descriptor and keeps the input position after each: the line number,
// the byte offset after its newline, and (with `checksum`: the WAL's resume check needs it) the
// CRC32C of every byte read up to there.
class LineReader {
 public:
  LineReader(int fd, std::string name, bool checksum)
      : fd_(fd), name_(std::move(name)), checksum_(checksum) {}

  // The next line without its '\n' into *line; false at end of input or on an error (then
  // status() says why). A last line without '\n' is a line.
  bool Next(std::string* line) {
    line->clear();
    for (;;) {
      const char* begin = buffer_.data() + pos_;
      const size_t available = filled_ - pos_;
      const char* nl = static_cast<const char*>(std::memchr(begin, '\n', available));
      const size_t take = nl != nullptr ? static_cast<size_t>(nl - begin) + 1 : available;
      line->append(begin, nl != nullptr ? take - 1 : take);
      if (checksum_) position_.crc32c = wal::crc32c::Extend(position_.crc32c, begin, take);
      position_.end_offset += take;
      pos_ += take;
      if (nl != nullptr || (!Fill() && status_.ok() && !line->empty())) {
        ++position_.line;
        return true;
      }
      if (!status_.ok() || filled_ == 0) return false;
    }
  }

  // After the last line Next() returned.
  const ingest::InputPosition& position() const { return position_; }
  const Status& status() const { return status_; }

 private:
  // Refills the buffer; false at end of input or on an error.
  bool Fill() {
    pos_ = filled_ = 0;
    for (;;) {
      ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status_ = Status::IOError("reading --input " + name_ + ": " + std::strerror(errno));
        return false;
      }
      filled_ = static_cast<size_t>(n);
      return n > 0;
    }
  }

  int fd_;
  std::string name_;
  const bool checksum_;
  std::vector<char> buffer_ = std::vector<char>(1 << 20);
  size_t pos_ = 0;
  size_t filled_ = 0;
  ingest::InputPosition position_;
  Status status_;
};

// The --rejects file, written through the FileSystem seam so that it can be synced before the
// lines in it are reported durable. Every failure is returned (and ends the run).
class RejectsFile {
 public:
  Status Open(const std::string& path, bool append) {
    path_ = path;
    struct stat st;
    // A device or a pipe (e.g. /dev/null) cannot be fsynced: flushing is all it takes.
    syncable_ = ::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode);
    auto file = append ? PosixFileSystem()->NewAppendableFile(path)
                       : PosixFileSystem()->NewWritableFile(path);
    if (!file.ok()) return file.status().WithContext("cannot create --rejects " + path);
    file_ = std::move(file).value();
    return Status::OK();
  }

  Status Write(std::string_view entry) {
    buffer_.append(entry);
    buffer_.push_back('\n');
    if (buffer_.size() >= kFlushBytes) return Flush();
    return Status::OK();
  }

  // Hands the buffered entries to the OS and, with `fsync`, to stable storage.
  Status Sync(bool fsync) {
    LAKELOG_RETURN_IF_ERROR(Flush());
    if (!fsync || !unsynced_ || !syncable_) return Status::OK();
    Status st = file_->Sync();
    if (!st.ok()) return st.WithContext("syncing the rejects file " + path_);
    unsynced_ = false;
    return Status::OK();
  }

  Status Close() {
    LAKELOG_RETURN_IF_ERROR(Flush());
    Status st = file_->Close();
    if (!st.ok()) return st.WithContext("closing the rejects file " + path_);
    return Status::OK();
  }

 private:
  static constexpr size_t kFlushBytes = 64 << 10;

  Status Flush() {
    if (buffer_.empty()) return Status::OK();
    Status st = file_->Append(buffer_);
    buffer_.clear();
    unsynced_ = true;
    if (!st.ok()) return st.WithContext("writing the rejects file " + path_);
    return Status::OK();
  }

  std::string path_;
  std::unique_ptr<WritableFile> file_;
  std::string buffer_;
  bool syncable_ = true;
  bool unsynced_ = false;
};

// With a WAL, a batch's events (the journal commits them as events), parsed over again by the
// next batches: their strings keep their capacity, so a long input hardly allocates.
// events[0, size) are the batch.
struct EventBatch {
  std::vector<LogEvent> events;
  size_t size = 0;

  LogEvent* Next() {
    if (size == events.size()) events.emplace_back();
    return &events[size];
  }
  void Push() { ++size; }
  std::vector<const LogEvent*> Rows() const {
    std::vector<const LogEvent*> rows;
    rows.reserve(size);
    for (size_t i = 0; i < size; ++i) rows.push_back(&events[i]);
    return rows;
  }
  void Clear() { size = 0; }
};

class Ingester {
 public:
  // `rejects` and `journal` may be null (rejects to stderr; no WAL).
  Ingester(const IngestOptions& options, DeltaTable* table, RejectsFile* rejects,
           ingest::IngestJournal* journal, WalSyncMode sync_mode)
      : options_(options),
        table_(table),
        rejects_(rejects),
        journal_(journal),
        fsync_rejects_(sync_mode != WalSyncMode::kNone) {
    if (journal_ == nullptr) {
      shredder_ = std::make_unique<ingest::ChunkShredder>(ingest::ChunkShredder::kThreads);
      filling_ =
          std::make_unique<ingest::ShreddedBatch>(table_->NewAppendStream(shredder_->threads()));
      committing_ =
          std::make_unique<ingest::ShreddedBatch>(table_->NewAppendStream(shredder_->threads()));
    }
    if (journal_ != nullptr && rejects_ != nullptr) {
      journal_->SetBeforeWalWrite([this] { return rejects_->Sync(fsync_rejects_); });
    }
  }

  // Reads the input to its end. With a journal, an interrupted run is resumed: the input lines
  // it accounted for are checked against what it recorded (refused when they differ), then
  // what it left in the WAL is committed, and reading continues after them.
  Status Run(LineReader& in) {
    ingest::ResumePoint resume;
    if (journal_ != nullptr) {
      LAKELOG_ASSIGN_OR_RETURN(resume, journal_->FindResumePoint(table_));
      if (resume.line == 0) LAKELOG_RETURN_IF_ERROR(Recover());
    }
    std::string line;
    while (in.Next(&line)) {
      const ingest::InputPosition& at = in.position();
      if (at.line <= resume.line) {
        // Nothing is committed before the part of the input the interrupted run read is
        // known to be the same.
        if (at.line == resume.known.line) {
          LAKELOG_RETURN_IF_ERROR(journal_->CheckPrefix(resume, at, /*input_ended=*/false));
        }
        if (at.line == resume.line) LAKELOG_RETURN_IF_ERROR(Recover());
        continue;
      }
      last_ = at;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
      LogEvent* event = shredder_ ? shredder_->Next() : events_.Next();
      Status st = ingest::ParseEventLine(line, parser_options_, event);
      if (!st.ok()) {
        LAKELOG_RETURN_IF_ERROR(Reject(at.line, st.message(), line));
        continue;
      }
      ++summary_.accepted;
      ++batch_rows_;
      batch_bytes_ += line.size();
      if (shredder_) {
        shredder_->Push();
        if (shredder_->full()) shredder_->Submit(filling_.get());
      } else {
        events_.Push();
        LAKELOG_RETURN_IF_ERROR(journal_->Append(at, *event));
        if (++unsynced_ >= kSyncEveryLines) LAKELOG_RETURN_IF_ERROR(SyncJournal());
      }
      // Invariant: a commit covers exactly the lines up to last_, so a batch is committed
      // right after the line that fills it (the commit's txn version is that line).
      if (batch_rows_ >= options_.batch_rows || batch_bytes_ >= options_.batch_bytes) {
        LAKELOG_RETURN_IF_ERROR(CommitBatch());
      }
    }
    LAKELOG_RETURN_IF_ERROR(in.status());
    if (journal_ != nullptr && !recovered_) {
      // The input ended inside the part the interrupted run read.
      LAKELOG_RETURN_IF_ERROR(journal_->CheckPrefix(resume, in.position(), /*input_ended=*/true));
    }
    LAKELOG_RETURN_IF_ERROR(CommitBatch());
    LAKELOG_RETURN_IF_ERROR(SettleInFlight());
    if (journal_ != nullptr) {
      // The trailing rejected lines are reported durable below: they must be in the file.
      if (rejects_ != nullptr) LAKELOG_RETURN_IF_ERROR(rejects_->Sync(fsync_rejects_));
      LAKELOG_RETURN_IF_ERROR(journal_->Finish());
      ReportDurable(last_.line);
    }
    if (rejects_ != nullptr) LAKELOG_RETURN_IF_ERROR(rejects_->Close());
    return Status::OK();
  }

  const IngestSummary& summary() const { return summary_; }

 private:
  // Commits what an interrupted run left in the WAL.
  Status Recover() {
    recovered_ = true;
    LAKELOG_ASSIGN_OR_RETURN(ingest::RecoveryResult recovered, journal_->Recover(table_));
    summary_.recovered = recovered.replayed_events;
    summary_.commits += recovered.commits;
    summary_.files += recovered.files;
    summary_.resumed_after = recovered.resume_after_line;
    if (recovered.resume_after_line > 0) {
      std::fprintf(stderr,
                   "lakelog ingest: resuming an interrupted run: %lld events recovered from the "
                   "WAL, input lines 1-%lld already handled\n",
                   static_cast<long long>(recovered.replayed_events),
                   static_cast<long long>(recovered.resume_after_line));
      ReportDurable(recovered.resume_after_line);
    }
    return Status::OK();
  }

  // With a WAL the batch is committed here, through the journal. Without one it is committed
  // on a thread of its own while the next batch is parsed (one commit in flight, so the
  // commits keep the input's order); its outcome is taken before the next commit starts, and
  // a failure stops the run then.
  Status CommitBatch() {
    if (batch_rows_ == 0) return Status::OK();
    batch_rows_ = 0;
    batch_bytes_ = 0;
    if (journal_ != nullptr) {
      // The commit's txn version covers the rejected lines before last_ too.
      LAKELOG_RETURN_IF_ERROR(SyncJournal());
      LAKELOG_ASSIGN_OR_RETURN(DeltaCommitResult result,
                               journal_->Commit(table_, events_.Rows(), last_));
      ReportDurable(last_.line);
      Count(result);
      events_.Clear();
      return Status::OK();
    }
    shredder_->Submit(filling_.get());
    LAKELOG_RETURN_IF_ERROR(SettleInFlight());
    // Without a WAL nothing is synced, but a rejects file that cannot take the batch's
    // rejected lines stops the run before the commit, not after it.
    if (rejects_ != nullptr) LAKELOG_RETURN_IF_ERROR(rejects_->Sync(/*fsync=*/false));
    std::swap(filling_, committing_);
    in_flight_ = std::async(std::launch::async, [this, batch = committing_.get()] {
      Status shredded = shredder_->Drain(batch);
      if (!shredded.ok()) return Result<DeltaCommitResult>(shredded);
      return batch->stream->Commit();
    });
    return Status::OK();
  }

  // Takes the outcome of the commit in flight, if any.
  Status SettleInFlight() {
    if (!in_flight_.valid()) return Status::OK();
    Result<DeltaCommitResult> result = in_flight_.get();
    committing_->Clear();
    LAKELOG_RETURN_IF_ERROR(result.status());
    Count(*result);
    return Status::OK();
  }

  void Count(const DeltaCommitResult& result) {
    summary_.files += result.files_written;
    summary_.commits += 1;
    summary_.version = result.version;
    if (result.checkpoint_version.has_value()) summary_.checkpoints += 1;
    if (!result.checkpoint_status.ok()) {
      // The commit stands; readers replay the JSON commits instead. Said, not hidden.
      std::fprintf(stderr, "lakelog ingest: warning: checkpoint of version %lld not written: %s\n",
                   static_cast<long long>(result.version),
                   result.checkpoint_status.ToString().c_str());
    }
  }

  // Invariant: the rejects file is synced before the WAL, so a line reported durable is in the
  // WAL, in the table, or in the rejects file, in the sense of the sync mode.
  Status SyncJournal() {
    unsynced_ = 0;
    if (rejects_ != nullptr) LAKELOG_RETURN_IF_ERROR(rejects_->Sync(fsync_rejects_));
    LAKELOG_ASSIGN_OR_RETURN(int64_t durable, journal_->Sync());
    ReportDurable(durable);
    return Status::OK();
  }

  // `durable N` on stderr: input lines 1..N survive a crash (in the sense of the sync mode).
  void ReportDurable(int64_t line) {
    if (line <= reported_durable_) return;
    reported_durable_ = line;
    std::fprintf(stderr, "durable %lld\n", static_cast<long long>(line));
    std::fflush(stderr);
  }

  Status Reject(int64_t line_number, const std::string& reason, std::string_view text) {
    ++summary_.rejected;
    if (rejects_ == nullptr) {
      std::fprintf(stderr, "lakelog ingest: line %lld rejected: %s\n",
                   static_cast<long long>(line_number), reason.c_str());
      return Status::OK();
    }
    // Invalid UTF-8 cannot go into JSON as is: replace it so the reject file stays valid.
    nlohmann::json entry = {
        {"line", line_number}, {"reason", reason}, {"text", CutUtf8(text, kRejectTextLimit)}};
    return rejects_->Write(entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }

  const IngestOptions& options_;
  DeltaTable* table_;
  RejectsFile* rejects_;
  ingest::IngestJournal* journal_;
  const bool fsync_rejects_;
  bool recovered_ = false;
  ingest::InputPosition last_;  // after the last input line read
  int64_t unsynced_ = 0;        // accepted lines since the last WAL sync
  int64_t reported_durable_ = 0;
  ingest::EventParserOptions parser_options_;
  IngestSummary summary_;
  size_t batch_rows_ = 0;   // events of the batch being read
  size_t batch_bytes_ = 0;  // and the input bytes of their lines
  EventBatch events_;       // with a WAL: the batch being read
  // Without a WAL a batch is shredded into a Delta append stream a chunk at a time, as it is
  // parsed: it is held as its files' column buffers, not as events. The batch being read and
  // the one whose commit is in flight, the shredder that feeds their streams (destroyed before
  // them: it shreds what is queued), and the commit in flight (destroyed first: it waits on the
  // shredder).
  std::unique_ptr<ingest::ShreddedBatch> filling_;
  std::unique_ptr<ingest::ShreddedBatch> committing_;
  std::unique_ptr<ingest::ChunkShredder> shredder_;
  std::future<Result<DeltaCommitResult>> in_flight_;
};

// Closes the input file descriptor (not stdin) when the run ends.
struct InputFd {
  int fd = -1;
  ~InputFd() {
    if (fd > 0) ::close(fd);
  }
};

// Why --input could not be opened, naming the OS's reason (permission denied, not a
// directory, ...); NotFound only when the file does not exist.
Status InputOpenError(const std::string& path, int err) {
  const std::string message = "cannot open --input " + path + ": " + std::strerror(err);
  return err == ENOENT ? Status::NotFound(message) : Status::IOError(message);
}

ExitCode RunIngest(const IngestOptions& options) {
  // Usage errors first (exit 2): nothing is opened before the flags make sense.
  DeltaTableOptions table_options;
  Status compression =
      ParseCompressionFlag(options.compression, &table_options.parquet.compression);
  if (!compression.ok()) return ReportError("ingest", compression);
  if (options.table.empty()) {
    return ReportError("ingest", Status::InvalidArgument("--table must name a directory"));
  }
  if (options.wal.empty() &&
      (options.sync_flag->count() > 0 || options.sync_interval_flag->count() > 0)) {
    return ReportError(
        "ingest", Status::InvalidArgument("--sync and --sync-interval-ms need --wal DIR (without a "
                                          "write-ahead log nothing is synced before the commit)"));
  }
  ingest::JournalOptions journal_options;
  journal_options.batch_rows = options.batch_rows;
  journal_options.batch_bytes = options.batch_bytes;
  if (!options.wal.empty()) {
    Status st = ParseSyncMode(options.sync, options.sync_interval_ms, &journal_options.wal);
    if (!st.ok()) return ReportError("ingest", st);
  }

  // The input, and what identifies it.
  InputFd input_fd;
  ingest::InputIdentity identity;
  identity.path = "-";
  if (options.input == "-") {
    // Stdin has no path to check on resume, but when it is a file, --rejects must not be it.
    struct stat st;
    if (::fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode)) {
      identity.device = st.st_dev;
      identity.inode = st.st_ino;
    }
  } else {
    input_fd.fd = ::open(options.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (input_fd.fd < 0) return ReportFailure("ingest", InputOpenError(options.input, errno));
    struct stat st;
    if (::fstat(input_fd.fd, &st) != 0)
      return ReportFailure("ingest", InputOpenError(options.input, errno));
    if (S_ISDIR(st.st_mode)) {
      return ReportFailure("ingest",
                           Status::InvalidArgument("--input " + options.input +
                                                   " is a directory; give an NDJSON file"));
    }
    identity.path = CanonicalPath(options.input);
    identity.device = st.st_dev;
    identity.inode = st.st_ino;
    identity.size = static_cast<uint64_t>(st.st_size);
  }
  auto location = OpenTableLocation(options.table);
  if (!location.ok()) return ReportFailure("ingest: opening " + options.table, location.status());
  // The journal binds the WAL to this name: a local table's real path, or the URI.
  const std::string table_root = location->remote() ? options.table : CanonicalPath(options.table);

  // --rejects must not name a file lakelog reads or owns: opening it for writing would
  // truncate it. Checked before anything is opened for writing.
  if (!options.rejects.empty()) {
    struct stat st;
    if (::stat(options.rejects.c_str(), &st) == 0 && identity.inode != 0 &&
        st.st_dev == identity.device && st.st_ino == identity.inode) {
      return ReportError("ingest", Status::InvalidArgument(
                                       "--rejects " + options.rejects + " is the --input file " +
                                       (options.input == "-" ? "(stdin)" : options.input) +
                                       "; writing rejects there would destroy "
                                       "the input: give --rejects another file"));
    }
    const std::string rejects = CanonicalPath(options.rejects);
    if (!location->remote() && IsWithin(rejects, table_root)) {
      return ReportError(
          "ingest", Status::InvalidArgument("--rejects " + options.rejects +
                                            " lies inside the table directory " + options.table +
                                            ": give --rejects a file outside the table"));
    }
    if (!options.wal.empty() && IsWithin(rejects, CanonicalPath(options.wal))) {
      return ReportError("ingest",
                         Status::InvalidArgument("--rejects " + options.rejects +
                                                 " lies inside the WAL directory " + options.wal +
                                                 ": give --rejects a file outside it"));
    }
  }

  // The journal first: it refuses a WAL directory it cannot own before the table is created.
  std::unique_ptr<ingest::IngestJournal> journal;
  if (!options.wal.empty()) {
    auto opened = ingest::IngestJournal::Open(PosixFileSystem(), options.wal, table_root, identity,
                                              journal_options);
    if (!opened.ok())
      return ReportFailure("ingest: opening the WAL " + options.wal, opened.status());
    journal = std::move(opened).value();
  }
  // A journal made by this run is removed again when the run fails before using it, so that
  // the directory is not bound to an ingest that never started.
  auto abandon = [&journal]() {
    if (journal != nullptr && journal->created()) (void)journal->Finish();
  };
  // A resumed run appends to its rejects file instead of truncating the first run's.
  RejectsFile rejects;
  if (!options.rejects.empty()) {
    Status st = rejects.Open(options.rejects, journal != nullptr && !journal->created());
    if (!st.ok()) {
      abandon();
      return ReportFailure("ingest", st);
    }
  }
  auto table = DeltaTable::Open(location->fs, location->root, table_options);
  if (!table.ok()) {
    abandon();
    return ReportFailure("ingest: opening " + options.table, table.status());
  }

  Ingester ingester(options, table->get(), options.rejects.empty() ? nullptr : &rejects,
                    journal.get(), journal_options.wal.sync_mode);
  LineReader reader(options.input == "-" ? STDIN_FILENO : input_fd.fd, options.input,
                    /*checksum=*/journal != nullptr);
  Status st = ingester.Run(reader);
  IngestSummary summary = ingester.summary();
  if (summary.version < 0) {
    auto snapshot = (*table)->Snapshot();
    if (snapshot.ok()) summary.version = snapshot->version;
  }
  if (options.json) {
    nlohmann::json out = {{"accepted", summary.accepted},
                          {"rejected", summary.rejected},
                          {"files", summary.files},
                          {"commits", summary.commits},
                          {"version", summary.version},
                          {"recovered", summary.recovered},
                          {"resumed_after_line", summary.resumed_after},
                          {"checkpoints", summary.checkpoints}};
    std::cout << out.dump() << std::endl;
  } else {
    std::printf("ingest: accepted %lld, rejected %lld, files %lld, commits %lld, version %lld\n",
                static_cast<long long>(summary.accepted), static_cast<long long>(summary.rejected),
                static_cast<long long>(summary.files), static_cast<long long>(summary.commits),
                static_cast<long long>(summary.version));
  }
  if (!st.ok()) return ReportFailure("ingest", st);
  return summary.rejected > 0 ? ExitCode::kRejectedLines : ExitCode::kOk;
}

}  // namespace

Command AddIngestCommand(CLI::App& root) {
  auto options = std::make_shared<IngestOptions>();
  CLI::App* app = root.add_subcommand(
      "ingest",
      "Append NDJSON events to a Delta table (created if missing).\n"
      "Each line is an object: pipeline (string, required), ts (RFC 3339 text or integer epoch\n"
      "milliseconds, required, within 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z),\n"
      "level (TRACE, DEBUG, INFO, WARN, ERROR, FATAL in any case, WARNING for WARN; default\n"
      "INFO), stage, status, message, run_id, host (string or null), attributes (object of\n"
      "strings). A key repeated in one object rejects the line. A malformed line never\n"
      "stops the others: it is rejected with its line number and reason. Each batch (at most\n"
      "--batch-rows events and about --batch-bytes of input) is one Delta commit with one\n"
      "Parquet file per (pipeline, log_date); every delta.checkpointInterval-th version\n"
      "(default 10) also gets a checkpoint (a failed one is a warning on stderr: the commit\n"
      "stands). Exit 1 when the input, the rejects file, the WAL or the table refuses (e.g. a\n"
      "table of another schema); exit 2 for flags that make no sense together.");
  app->add_option("--table", options->table,
                  "Delta table: a directory, or s3://bucket/prefix (docs/object-storage.md)")
      ->required();
  app->add_option("--input", options->input, "NDJSON file; '-' or absent reads stdin");
  app->add_option("--batch-rows", options->batch_rows, "events per commit")
      ->check(CLI::Range(size_t{1}, size_t{100'000'000}))
      ->capture_default_str();
  app->add_option("--batch-bytes", options->batch_bytes,
                  "input bytes per commit: a batch is committed once either bound is reached\n"
                  "(this one bounds the memory a batch of long lines takes)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 40))
      ->capture_default_str();
  app->add_option("--compression", options->compression, "zstd | snappy | lz4_raw | none")
      ->capture_default_str();
  app->add_option("--rejects", options->rejects,
                  "write rejected lines here as NDJSON {line, reason, text}; default: stderr.\n"
                  "Must not be the --input file nor lie inside the table or the WAL directory.\n"
                  "With --wal it is synced before the WAL, so a line reported `durable` is\n"
                  "either committed (or in the WAL) or in this file");
  app->add_flag("--json", options->json, "print the summary as one JSON object");
  app->add_option("--wal", options->wal,
                  "write-ahead log directory: accepted lines are logged before they are\n"
                  "committed, `durable N` lines on stderr say how many input lines are safe,\n"
                  "and after a crash `lakelog recover` (or the same ingest again) commits\n"
                  "them exactly once. The directory must be new, empty, or this ingest's WAL\n"
                  "(an engine's WAL or other files are refused). A re-run resumes only on the\n"
                  "same table and the same input file (path, inode, and the bytes of the lines\n"
                  "already read, checked by CRC32C; appended lines are fine); `--input -`\n"
                  "cannot be identified, so only the checksum of the lines read guards it");
  options->sync_flag =
      app->add_option("--sync", options->sync,
                      "WAL sync mode (needs --wal): none (survives kill -9), interval (fsync\n"
                      "every --sync-interval-ms), group (fsync before every `durable` report)")
          ->check(CLI::IsMember({"none", "interval", "group"}))
          ->capture_default_str();
  options->sync_interval_flag =
      app->add_option("--sync-interval-ms", options->sync_interval_ms, "for --sync interval")
          ->check(CLI::Range(1u, 3'600'000u))
          ->capture_default_str();
  return Command{app, [options] { return RunIngest(*options); }};
}

}  // namespace lakelog::cli
