// IngestJournal: exactly-once `lakelog ingest` through a write-ahead log.
//
// Every accepted input line is appended to the WAL as one record: (line, where the line ends in
// the input, CRC32C of the input up to there, event). Each Delta commit of a batch carries txn
// {appId, version = the batch's last input line}, where the appId is the journal's own id, made
// once per WAL directory and kept in `ingest.json` beside the segments (so two WAL directories
// never share an appId). ingest.json also names the table and the input (absolute paths, and the
// input's device, inode and size), and after each commit the input position it covers. Hence:
//   - the table's txn version for the appId is the last input line whose batch is committed;
//   - recovery replays WAL records with a line above it and commits them, once;
//   - a re-run of the same ingest skips the input lines the journal already holds, after
//     checking that they are the same bytes (the CRC32C of the prefix) in the same file.
// Segments are deleted only after their records are committed. A finished run empties the WAL
// and removes ingest.json, so the directory can serve the next run.
//
// A directory is adopted only when it is missing, empty, or holds an ingest journal: one that
// holds an engine's WAL (engine.json) or anything else is refused before anything is written.
//
// What "durable" means per sync mode is in docs/durability.md; the files in docs/wal.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "wal/wal.h"

namespace lakelog::ingest {

// The ingest.json format this journal writes and reads. Format 1 (lakelog before the input
// checks) had records without positions and is refused.
inline constexpr int kJournalFormat = 2;

struct JournalOptions {
  WalOptions wal;
  // A recovery commit holds at most this many events, and at most about this many bytes of
  // them (whichever bound is reached first; one event over the byte bound is still committed).
  size_t batch_rows = 100'000;
  size_t batch_bytes = size_t{64} << 20;
};

// How far into the input a run has read: input lines 1..line end at byte `end_offset`, and
// `crc32c` is the CRC32C of the input's bytes [0, end_offset).
struct InputPosition {
  int64_t line = 0;
  uint64_t end_offset = 0;
  uint32_t crc32c = 0;
};

// What identifies the input of an ingest. `path` is absolute, or "-" for stdin (which has no
// identity: only the prefix checksum can tell a different stream).
struct InputIdentity {
  std::string path;
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  bool is_stdin() const { return path == "-"; }
};

// Where an interrupted run stopped, found before anything is recovered.
struct ResumePoint {
  // Input lines 1..line are accounted for (committed, in the WAL, or rejected before them).
  int64_t line = 0;
  // The position of the last of those lines that the journal knows (line 0: none). It equals
  // `line` except after a power loss took WAL records that a commit then covered.
  InputPosition known;
};

struct RecoveryResult {
  int64_t replayed_events = 0;  // committed now from the WAL
  int64_t skipped_events = 0;   // in the WAL, already committed before the crash
  int64_t commits = 0;
  int64_t files = 0;
  int64_t resume_after_line = 0;  // the highest input line the journal accounts for
  wal::WalReplayStats wal;
};

class IngestJournal {
 public:
  // Opens the journal in `wal_dir` for ingesting `input` into the table at `table_root` (an
  // absolute path), creating the directory and the journal when there is none. Nothing is
  // written when the directory is refused:
  //   - InvalidArgument: it holds an engine's WAL, files that are not an ingest journal, or an
  //     unfinished ingest of another table or input (another path, device or inode, or a file
  //     now shorter than what the run read);
  //   - NotSupported: an ingest journal of an older format;
  //   - Corruption: a damaged ingest.json.
  static Result<std::unique_ptr<IngestJournal>> Open(FileSystem* fs, const std::string& wal_dir,
                                                     const std::string& table_root,
                                                     const InputIdentity& input,
                                                     const JournalOptions& options);
  // Opens an existing journal for `lakelog recover`, whatever input it was for; never creates
  // the directory. NotFound when the directory is missing or holds no unfinished ingest;
  // otherwise the errors of Open().
  static Result<std::unique_ptr<IngestJournal>> OpenForRecovery(FileSystem* fs,
                                                                const std::string& wal_dir,
                                                                const std::string& table_root,
                                                                const JournalOptions& options);
  ~IngestJournal();

  const std::string& app_id() const { return app_id_; }
  const std::string& table() const { return table_; }
  // The input recorded for the unfinished ingest ("-" for stdin).
  const std::string& input() const { return input_.path; }
  // True when Open() created the journal (no earlier run left one).
  bool created() const { return created_; }

  // Where the interrupted run stopped: reads the table's txn version and scans the WAL, and
  // checks that the input is long enough for it. Commits nothing. InvalidArgument when the
  // input is shorter than the part the interrupted run read.
  Result<ResumePoint> FindResumePoint(DeltaTable* table);
  // OK when `seen`, the position the current input reached at resume.known.line, matches the
  // one the interrupted run recorded. With `input_ended`, `seen` is where the input ended before
  // reaching resume.line, which is refused too. Refusals are InvalidArgument saying what differs
  // and how to proceed.
  Status CheckPrefix(const ResumePoint& resume, const InputPosition& seen, bool input_ended) const;

  // Commits what the WAL holds beyond the table's txn version for this journal.
  Result<RecoveryResult> Recover(DeltaTable* table);

  // Called before every write of records to the WAL; its error fails that write. The CLI
  // syncs the rejects file here, so that no WAL record of a line can outlive a rejected line
  // before it (a resume skips both).
  void SetBeforeWalWrite(std::function<Status()> hook) { before_wal_write_ = std::move(hook); }

  // Appends one accepted line's event; `at` is the position after that line. Lines must be
  // appended in increasing order. Records are framed into a buffer and handed to the WAL in
  // batches (one write each) by Sync(), Commit() and Finish(), or once the buffer passes
  // kStagedBytes.
  Status Append(const InputPosition& at, const LogEvent& event);
  // Makes the appended records durable per the sync mode; returns the highest line that is now
  // durable (0 if none).
  Result<int64_t> Sync();

  // Commits `events` (lines up to `last.line`) in one Delta commit with the journal's txn,
  // records `last` in ingest.json, and then releases their WAL records.
  Result<DeltaCommitResult> Commit(DeltaTable* table, std::span<const LogEvent* const> events,
                                   const InputPosition& last);

  // Everything is committed: closes the WAL, deletes its segments and ingest.json.
  Status Finish();

 private:
  IngestJournal(FileSystem* fs, std::string dir, std::string table, InputIdentity input,
                std::string app_id, std::unique_ptr<wal::Wal> wal);
  static Result<std::unique_ptr<IngestJournal>> OpenImpl(FileSystem* fs, const std::string& dir,
                                                         const std::string& table_root,
                                                         const InputIdentity* input,
                                                         const JournalOptions& options);
  // Writes ingest.json with `committed_` as the last commit's position.
  Status WriteMeta();
  // Writes the staged records to the WAL with one AppendBatch.
  Status FlushStaged();
  // How to get out of a refused resume, for messages.
  std::string NextSteps() const;

  static constexpr size_t kStagedBytes = 1 << 20;

  FileSystem* fs_;
  std::string dir_;
  std::string table_;
  InputIdentity input_;
  std::string app_id_;
  std::unique_ptr<wal::Wal> wal_;
  JournalOptions options_;
  bool created_ = false;
  std::function<Status()> before_wal_write_;
  // The position the last commit covered, as in ingest.json.
  InputPosition committed_;
  // Records appended but not yet handed to the WAL, and their input lines.
  wal::WalRecordBatch staged_;
  std::vector<int64_t> staged_lines_;
  // (sequence, line) of appended records not yet known durable, oldest first.
  std::vector<std::pair<uint64_t, int64_t>> pending_;
  int64_t durable_line_ = 0;
  int64_t last_line_ = 0;
};

}  // namespace lakelog::ingest
