// IngestJournal: exactly-once `lakelog ingest` through a write-ahead log.
//
// Every accepted input line is appended to the WAL as one record: (line number, event). Each
// Delta commit of a batch carries txn {appId, version = the batch's last input line}, where the
// appId is the journal's own id, made once per WAL directory and kept in `ingest.json` beside
// the segments (so two WAL directories never share an appId). Hence:
//   - the table's txn version for the appId is the last input line whose batch is committed;
//   - recovery replays WAL records with a line above it and commits them, once;
//   - a re-run of the same ingest skips the input lines the journal already holds.
// Segments are deleted only after their records are committed. A finished run empties the WAL
// and removes ingest.json, so the directory can serve the next run.
//
// What "durable" means per sync mode is in docs/durability.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "wal/wal.h"

namespace lakelog::ingest {

struct JournalOptions {
  WalOptions wal;
  // Events per recovery commit.
  size_t batch_rows = 100'000;
};

struct RecoveryResult {
  int64_t replayed_events = 0;  // committed now from the WAL
  int64_t skipped_events = 0;   // in the WAL, already committed before the crash
  int64_t commits = 0;
  int64_t files = 0;
  int64_t resume_after_line = 0;  // the highest input line the journal accounts for
  WalReplayStats wal;
};

class IngestJournal {
 public:
  // Opens (creating) the journal in `wal_dir` for ingesting `input` into `table_root`.
  // InvalidArgument when the directory holds an unfinished ingest of another input or table.
  static Result<std::unique_ptr<IngestJournal>> Open(FileSystem* fs, const std::string& wal_dir,
                                                     const std::string& table_root,
                                                     const std::string& input,
                                                     const JournalOptions& options);
  // Opens an existing journal for `lakelog recover`, whatever input it was for. NotFound when
  // the directory holds no unfinished ingest.
  static Result<std::unique_ptr<IngestJournal>> OpenForRecovery(FileSystem* fs,
                                                                const std::string& wal_dir,
                                                                const std::string& table_root,
                                                                const JournalOptions& options);
  ~IngestJournal();

  const std::string& app_id() const { return app_id_; }
  const std::string& input() const { return input_; }

  // Commits what the WAL holds beyond the table's txn version for this journal.
  Result<RecoveryResult> Recover(DeltaTable* table);

  // Appends one accepted line's event. Lines must be appended in increasing order. Records are
  // framed into a buffer and handed to the WAL in batches (one write each) by Sync(), Commit()
  // and Finish(), or once the buffer passes kStagedBytes.
  Status Append(int64_t line, const LogEvent& event);
  // Makes the appended records durable per the sync mode; returns the highest line that is now
  // durable (0 if none).
  Result<int64_t> Sync();

  // Commits `events` (lines up to `last_line`) in one Delta commit with the journal's txn and
  // then releases their WAL records.
  Result<DeltaCommitResult> Commit(DeltaTable* table, std::span<const LogEvent* const> events,
                                   int64_t last_line);

  // Everything is committed: closes the WAL, deletes its segments and ingest.json.
  Status Finish();

 private:
  IngestJournal(FileSystem* fs, std::string dir, std::string table, std::string input,
                std::string app_id, std::unique_ptr<Wal> wal);
  static Result<std::unique_ptr<IngestJournal>> OpenImpl(FileSystem* fs, const std::string& dir,
                                                         const std::string& table_root,
                                                         const std::string* input,
                                                         const JournalOptions& options);
  // Writes the staged records to the WAL with one AppendBatch.
  Status FlushStaged();

  static constexpr size_t kStagedBytes = 1 << 20;

  FileSystem* fs_;
  std::string dir_;
  std::string table_;
  std::string input_;
  std::string app_id_;
  std::unique_ptr<Wal> wal_;
  JournalOptions options_;
  // Records appended but not yet handed to the WAL, and their input lines.
  WalRecordBatch staged_;
  std::vector<int64_t> staged_lines_;
  // (sequence, line) of appended records not yet known durable, oldest first.
  std::vector<std::pair<uint64_t, int64_t>> pending_;
  int64_t durable_line_ = 0;
  int64_t last_line_ = 0;
};

}  // namespace lakelog::ingest
