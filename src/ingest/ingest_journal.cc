#include "ingest/ingest_journal.h"

#include <nlohmann/json.hpp>

#include "delta/uuid.h"
#include "wal/coding.h"
#include "wal/event_codec.h"

namespace lakelog::ingest {
namespace {

constexpr char kMetaFile[] = "ingest.json";

// A WAL record: fixed64 input line, then the encoded event. Appends to *out.
void EncodeRecord(int64_t line, const LogEvent& event, std::string* out) {
  wal::PutFixed64(out, static_cast<uint64_t>(line));
  EncodeLogEvent(event, out);
}

Status DecodeRecord(std::string_view record, int64_t* line, LogEvent* event) {
  if (record.size() < 8) return Status::Corruption("ingest WAL record shorter than its header");
  *line = static_cast<int64_t>(wal::DecodeFixed64(record.data()));
  return DecodeLogEvent(record.substr(8), event);
}

}  // namespace

IngestJournal::IngestJournal(FileSystem* fs, std::string dir, std::string table, std::string input,
                             std::string app_id, std::unique_ptr<Wal> wal)
    : fs_(fs),
      dir_(std::move(dir)),
      table_(std::move(table)),
      input_(std::move(input)),
      app_id_(std::move(app_id)),
      wal_(std::move(wal)) {}

IngestJournal::~IngestJournal() = default;

Result<std::unique_ptr<IngestJournal>> IngestJournal::Open(FileSystem* fs,
                                                           const std::string& wal_dir,
                                                           const std::string& table_root,
                                                           const std::string& input,
                                                           const JournalOptions& options) {
  return OpenImpl(fs, wal_dir, table_root, &input, options);
}

Result<std::unique_ptr<IngestJournal>> IngestJournal::OpenForRecovery(
    FileSystem* fs, const std::string& wal_dir, const std::string& table_root,
    const JournalOptions& options) {
  return OpenImpl(fs, wal_dir, table_root, nullptr, options);
}

Result<std::unique_ptr<IngestJournal>> IngestJournal::OpenImpl(FileSystem* fs,
                                                               const std::string& dir,
                                                               const std::string& table_root,
                                                               const std::string* input,
                                                               const JournalOptions& options) {
  LAKELOG_RETURN_IF_ERROR(fs->CreateDirs(dir));
  const std::string meta_path = JoinPath(dir, kMetaFile);
  std::string app_id;
  std::string journal_input;
  std::string text;
  Status read = fs->ReadFile(meta_path, &text);
  if (read.ok()) {
    nlohmann::json meta = nlohmann::json::parse(text, nullptr, false);
    if (meta.is_discarded() || !meta.is_object() || !meta["app_id"].is_string() ||
        !meta["table"].is_string() || !meta["input"].is_string()) {
      return Status::Corruption(meta_path + " is damaged; it names the ingest this WAL belongs to");
    }
    app_id = meta["app_id"];
    journal_input = meta["input"];
    const std::string journal_table = meta["table"];
    if (journal_table != table_root) {
      return Status::InvalidArgument("WAL " + dir + " holds an unfinished ingest into table " +
                                     journal_table + ", not " + table_root);
    }
    if (input != nullptr && *input != journal_input) {
      return Status::InvalidArgument("WAL " + dir + " holds an unfinished ingest of " +
                                     journal_input + "; run `lakelog recover --table " +
                                     table_root + " --wal " + dir +
                                     "` and re-run that ingest, or use another --wal directory");
    }
  } else if (read.IsNotFound()) {
    if (input == nullptr) return Status::NotFound("WAL " + dir + " holds no unfinished ingest");
    app_id = "lakelog-ingest-" + delta::NewUuidV4();
    journal_input = *input;
    nlohmann::json meta = {{"app_id", app_id}, {"table", table_root}, {"input", journal_input}};
    LAKELOG_RETURN_IF_ERROR(fs->WriteFileAtomic(meta_path, meta.dump(2) + "\n"));
  } else {
    return read;
  }
  LAKELOG_ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal, Wal::Open(fs, dir, options.wal));
  auto journal = std::unique_ptr<IngestJournal>(
      new IngestJournal(fs, dir, table_root, journal_input, app_id, std::move(wal)));
  journal->options_ = options;
  return journal;
}

Result<RecoveryResult> IngestJournal::Recover(DeltaTable* table) {
  RecoveryResult result;
  LAKELOG_ASSIGN_OR_RETURN(std::optional<int64_t> committed, table->TxnVersion(app_id_));
  const int64_t committed_line = committed.value_or(0);
  int64_t max_line = committed_line;

  std::vector<LogEvent> batch;
  int64_t batch_last_line = 0;
  auto commit = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    std::vector<const LogEvent*> rows;
    rows.reserve(batch.size());
    for (const LogEvent& e : batch) rows.push_back(&e);
    DeltaAppendOptions append;
    append.txn = DeltaTxn{app_id_, batch_last_line};
    LAKELOG_ASSIGN_OR_RETURN(DeltaCommitResult done, table->Append(rows, append));
    if (!done.skipped) {
      result.commits += 1;
      result.files += done.files_written;
    }
    result.replayed_events += static_cast<int64_t>(batch.size());
    batch.clear();
    return Status::OK();
  };
  LAKELOG_ASSIGN_OR_RETURN(
      result.wal, wal_->Replay([&](uint64_t, std::string_view record) -> Status {
        int64_t line = 0;
        LogEvent event;
        Status decoded = DecodeRecord(record, &line, &event);
        // A record that passed its CRC but does not decode was written by a different version
        // of lakelog or is damaged beyond the checksum's reach: refuse to guess.
        if (!decoded.ok()) return decoded.WithContext("WAL " + dir_);
        max_line = std::max(max_line, line);
        if (line <= committed_line) {
          ++result.skipped_events;
          return Status::OK();
        }
        batch.push_back(std::move(event));
        batch_last_line = line;
        if (batch.size() >= options_.batch_rows) return commit();
        return Status::OK();
      }));
  LAKELOG_RETURN_IF_ERROR(commit());
  LAKELOG_RETURN_IF_ERROR(wal_->MarkCommitted(wal_->LastSequence()));
  result.resume_after_line = max_line;
  last_line_ = max_line;
  durable_line_ = max_line;
  return result;
}

Status IngestJournal::Append(int64_t line, const LogEvent& event) {
  EncodeRecord(line, event, staged_.buffer());
  staged_.EndRecord();
  staged_lines_.push_back(line);
  last_line_ = line;
  if (staged_.bytes() >= kStagedBytes) return FlushStaged();
  return Status::OK();
}

Status IngestJournal::FlushStaged() {
  if (staged_.empty()) return Status::OK();
  Result<uint64_t> last = wal_->AppendBatch(staged_.records());
  const size_t n = staged_lines_.size();
  if (last.ok()) {
    // The batch took the consecutive sequences last-n+1 .. last.
    for (size_t i = 0; i < n; ++i) pending_.emplace_back(*last - (n - 1 - i), staged_lines_[i]);
  }
  staged_.Clear();
  staged_lines_.clear();
  return last.status();
}

Result<int64_t> IngestJournal::Sync() {
  LAKELOG_RETURN_IF_ERROR(FlushStaged());
  LAKELOG_RETURN_IF_ERROR(wal_->Sync());
  if (options_.wal.sync_mode == WalSyncMode::kNone) {
    // Handed to the OS: survives the process, not the machine (docs/durability.md).
    if (!pending_.empty()) durable_line_ = pending_.back().second;
    pending_.clear();
    return durable_line_;
  }
  const uint64_t durable = wal_->DurableSequence();
  size_t done = 0;
  while (done < pending_.size() && pending_[done].first <= durable) {
    durable_line_ = pending_[done].second;
    ++done;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
  return durable_line_;
}

Result<DeltaCommitResult> IngestJournal::Commit(DeltaTable* table,
                                                std::span<const LogEvent* const> events,
                                                int64_t last_line) {
  // Staged records go to the WAL first, so that the MarkCommitted below covers every line of
  // the commit.
  LAKELOG_RETURN_IF_ERROR(FlushStaged());
  DeltaAppendOptions append;
  append.txn = DeltaTxn{app_id_, last_line};
  LAKELOG_ASSIGN_OR_RETURN(DeltaCommitResult result, table->Append(events, append));
  // Every record appended so far belongs to this or an earlier commit.
  LAKELOG_RETURN_IF_ERROR(wal_->MarkCommitted(wal_->LastSequence()));
  pending_.clear();
  durable_line_ = std::max(durable_line_, last_line);
  return result;
}

Status IngestJournal::Finish() {
  LAKELOG_RETURN_IF_ERROR(FlushStaged());
  LAKELOG_RETURN_IF_ERROR(wal_->MarkCommitted(wal_->LastSequence()));
  LAKELOG_RETURN_IF_ERROR(wal_->Close());
  LAKELOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir_));
  for (const std::string& name : names) {
    uint64_t number;
    if (Wal::ParseSegmentFileName(name, &number)) {
      LAKELOG_RETURN_IF_ERROR(fs_->DeleteFile(JoinPath(dir_, name)));
    }
  }
  // Last: while ingest.json exists the run counts as unfinished.
  LAKELOG_RETURN_IF_ERROR(fs_->DeleteFile(JoinPath(dir_, kMetaFile)));
  // From here on the run is finished, and an error would make the operator re-run it: with
  // ingest.json gone that is a new ingest of the whole input, every line twice. So a failed
  // directory sync is not an error: if a power loss brings ingest.json back, a re-run finds
  // every line committed and does nothing. (Found by tests/ingest/ingest_fault_matrix_test.cc.)
  (void)fs_->SyncDir(dir_);
  return Status::OK();
}

}  // namespace lakelog::ingest
