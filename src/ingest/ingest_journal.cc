#include "ingest/ingest_journal.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "delta/uuid.h"
#include "wal/coding.h"
#include "wal/record_codec.h"
#include "wal/wal_owner.h"

namespace lakelog::ingest {
namespace {

constexpr const char* kMetaFile = wal::kIngestMetaFile;
constexpr const char* kEngineMetaFile = wal::kEngineMetaFile;

// A WAL record: format (1 byte, = kRecordFormat) | fixed64 input line | fixed64 end offset |
// fixed32 CRC32C of the input up to the end offset | the encoded event.
constexpr uint8_t kRecordFormat = 2;
constexpr size_t kRecordHeaderSize = 1 + 8 + 8 + 4;

void EncodeRecord(const InputPosition& at, const LogEvent& event, std::string* out) {
  out->push_back(static_cast<char>(kRecordFormat));
  wal::PutFixed64(out, static_cast<uint64_t>(at.line));
  wal::PutFixed64(out, at.end_offset);
  char crc[4];
  wal::EncodeFixed32(crc, at.crc32c);
  out->append(crc, sizeof(crc));
  wal::EncodeLogEvent(event, out);
}

// Decodes the header; the event's bytes are left in *event_bytes.
Status DecodeRecordHeader(std::string_view record, InputPosition* at,
                          std::string_view* event_bytes) {
  if (record.size() < kRecordHeaderSize) {
    return Status::Corruption("ingest WAL record shorter than its header");
  }
  if (static_cast<uint8_t>(record[0]) != kRecordFormat) {
    return Status::NotSupported("ingest WAL record of unknown format " +
                                std::to_string(static_cast<uint8_t>(record[0])));
  }
  at->line = static_cast<int64_t>(wal::DecodeFixed64(record.data() + 1));
  at->end_offset = wal::DecodeFixed64(record.data() + 9);
  at->crc32c = wal::DecodeFixed32(record.data() + 17);
  *event_bytes = record.substr(kRecordHeaderSize);
  return Status::OK();
}

nlohmann::json PositionJson(const InputPosition& at) {
  return {{"line", at.line}, {"end_offset", at.end_offset}, {"crc32c", at.crc32c}};
}

bool ParsePosition(const nlohmann::json& j, InputPosition* at) {
  if (!j.is_object() || !j["line"].is_number_integer() || !j["end_offset"].is_number_unsigned() ||
      !j["crc32c"].is_number_unsigned()) {
    return false;
  }
  at->line = j["line"].get<int64_t>();
  at->end_offset = j["end_offset"].get<uint64_t>();
  at->crc32c = j["crc32c"].get<uint32_t>();
  return true;
}

}  // namespace

IngestJournal::IngestJournal(FileSystem* fs, std::string dir, std::string table,
                             InputIdentity input, std::string app_id, std::unique_ptr<wal::Wal> wal)
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
                                                           const InputIdentity& input,
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
                                                               const InputIdentity* input,
                                                               const JournalOptions& options) {
  // Who owns the directory is settled before anything is written into it.
  Result<std::vector<std::string>> names = fs->ListDir(dir);
  if (!names.ok() && !names.status().IsNotFound()) {
    return names.status().WithContext("WAL directory " + dir);
  }
  if (!names.ok() && input == nullptr) {
    return Status::NotFound("WAL " + dir + " does not exist: it holds no unfinished ingest");
  }
  // What is in the directory, by the WAL's own rule (wal/wal_owner.h): LOCK, damaged/ (segments
  // the WAL set aside) and interrupted marker writes are nobody's data.
  const wal::WalDirContents contents =
      wal::ClassifyWalDir(names.ok() ? *names : std::vector<std::string>{});
  if (contents.engine_meta) {
    return Status::InvalidArgument(
        "WAL " + dir + " belongs to a logging engine (it holds " + kEngineMetaFile +
        "): commit what it holds with `lakelog recover --table TABLE --wal " + dir +
        "` (TABLE being the engine's table), and give `lakelog ingest` another --wal "
        "directory");
  }
  const bool has_meta = contents.ingest_meta;
  std::vector<std::string> unknown = contents.segments;
  unknown.insert(unknown.end(), contents.other.begin(), contents.other.end());
  std::sort(unknown.begin(), unknown.end());
  const std::string foreign = unknown.empty() ? std::string() : unknown.front();
  if (!has_meta && !foreign.empty()) {
    uint64_t number = 0;
    const std::string what = wal::Wal::ParseSegmentFileName(foreign, &number)
                                 ? "WAL segments (" + foreign + ") but no " + kMetaFile +
                                       " naming the ingest they belong to"
                                 : "files that are not an ingest WAL (" + foreign + ")";
    return Status::InvalidArgument("WAL directory " + dir + " holds " + what +
                                   "; refusing to adopt it: give --wal a new or empty directory");
  }
  if (!has_meta && input == nullptr) {
    return Status::NotFound("WAL " + dir + " holds no unfinished ingest");
  }

  const std::string meta_path = JoinPath(dir, kMetaFile);
  std::string app_id;
  InputIdentity journal_input;
  InputPosition committed;
  bool created = false;
  if (has_meta) {
    std::string text;
    LAKELOG_RETURN_IF_ERROR(fs->ReadFile(meta_path, &text));
    nlohmann::json meta = nlohmann::json::parse(text, nullptr, false);
    if (meta.is_discarded() || !meta.is_object() || !meta["app_id"].is_string() ||
        !meta["table"].is_string()) {
      return Status::Corruption(meta_path + " is damaged; it names the ingest this WAL belongs to");
    }
    if (!meta.contains("format")) {
      return Status::NotSupported(
          "WAL " + dir + " was written by an older lakelog (ingest journal format 1, records " +
          "without input positions), which this version cannot resume or recover: finish it " +
          "with `lakelog recover` of the version that wrote it, or move the directory aside " +
          "and ingest again with a new --wal directory");
    }
    if (!meta["format"].is_number_integer() || meta["format"].get<int>() != kJournalFormat) {
      return Status::NotSupported(meta_path + " has ingest journal format " +
                                  meta["format"].dump() + "; this lakelog reads format " +
                                  std::to_string(kJournalFormat));
    }
    const nlohmann::json& in = meta["input"];
    if (!in.is_object() || !in["path"].is_string() || !in["device"].is_number_unsigned() ||
        !in["inode"].is_number_unsigned() || !in["size"].is_number_unsigned() ||
        !ParsePosition(meta["committed"], &committed)) {
      return Status::Corruption(meta_path + " is damaged; it names the ingest this WAL belongs to");
    }
    app_id = meta["app_id"];
    journal_input.path = in["path"];
    journal_input.device = in["device"];
    journal_input.inode = in["inode"];
    journal_input.size = in["size"];
    const std::string journal_table = meta["table"];
    const std::string recover_hint =
        "run `lakelog recover --table " + journal_table + " --wal " + dir +
        "` to commit what it made durable, then re-run that ingest to finish it, or use "
        "another --wal directory";
    if (journal_table != table_root) {
      return Status::InvalidArgument("WAL " + dir + " holds an unfinished ingest into table " +
                                     journal_table + ", not " + table_root + ": " + recover_hint);
    }
    if (input != nullptr) {
      std::string differs;
      if (input->path != journal_input.path) {
        differs = "of " + journal_input.path + ", not " + input->path;
      } else if (!input->is_stdin() &&
                 (input->device != journal_input.device || input->inode != journal_input.inode)) {
        differs = "of " + journal_input.path + ", but that path now names another file (inode " +
                  std::to_string(input->inode) + ", was " + std::to_string(journal_input.inode) +
                  "): the input was replaced";
      }
      if (!differs.empty()) {
        return Status::InvalidArgument("WAL " + dir + " holds an unfinished ingest " + differs +
                                       "; " + recover_hint);
      }
    }
  } else {
    app_id = "lakelog-ingest-" + delta::NewUuidV4();
    journal_input = *input;
    created = true;
  }
  auto journal = std::unique_ptr<IngestJournal>(
      new IngestJournal(fs, dir, table_root, journal_input, app_id, nullptr));
  journal->options_ = options;
  journal->committed_ = committed;
  journal->created_ = created;
  if (created) {
    LAKELOG_RETURN_IF_ERROR(fs->CreateDirs(dir));
    LAKELOG_RETURN_IF_ERROR(journal->WriteMeta());
  }
  LAKELOG_ASSIGN_OR_RETURN(journal->wal_, wal::Wal::Open(fs, dir, options.wal));
  return journal;
}

Status IngestJournal::WriteMeta() {
  nlohmann::json meta = {{"format", kJournalFormat},
                         {"app_id", app_id_},
                         {"table", table_},
                         {"input",
                          {{"path", input_.path},
                           {"device", input_.device},
                           {"inode", input_.inode},
                           {"size", input_.size}}},
                         {"committed", PositionJson(committed_)}};
  return fs_->WriteFileAtomic(JoinPath(dir_, kMetaFile), meta.dump(2) + "\n");
}

std::string IngestJournal::NextSteps() const {
  return "run `lakelog recover --table " + table_ + " --wal " + dir_ +
         "` to commit what the interrupted run made durable, then ingest the changed input "
         "with a new --wal directory (or restore the original input and re-run the same "
         "command to finish it)";
}

Result<ResumePoint> IngestJournal::FindResumePoint(DeltaTable* table) {
  ResumePoint resume;
  resume.known = committed_;
  LAKELOG_ASSIGN_OR_RETURN(std::optional<int64_t> txn, table->TxnVersion(app_id_));
  resume.line = std::max(txn.value_or(0), committed_.line);
  LAKELOG_RETURN_IF_ERROR(wal_->Replay([&](uint64_t, std::string_view record) -> Status {
                                InputPosition at;
                                std::string_view event;
                                Status decoded = DecodeRecordHeader(record, &at, &event);
                                if (!decoded.ok()) return decoded.WithContext("WAL " + dir_);
                                if (at.line > resume.known.line) resume.known = at;
                                resume.line = std::max(resume.line, at.line);
                                return Status::OK();
                              })
                              .status());
  return resume;
}

Status IngestJournal::CheckPrefix(const ResumePoint& resume, const InputPosition& seen,
                                  bool input_ended) const {
  if (input_ended && seen.line < resume.line) {
    return Status::InvalidArgument(
        "input " + input_.path + " has only " + std::to_string(seen.line) +
        " lines, but the interrupted run in WAL " + dir_ + " had read " +
        std::to_string(resume.line) + " (the input was truncated or replaced); " + NextSteps());
  }
  if (resume.known.line == 0 || seen.line != resume.known.line) return Status::OK();
  if (seen.end_offset != resume.known.end_offset || seen.crc32c != resume.known.crc32c) {
    return Status::InvalidArgument("input lines 1-" + std::to_string(resume.known.line) + " of " +
                                   input_.path + " are not the bytes the interrupted run in WAL " +
                                   dir_ + " read (" +
                                   (seen.end_offset != resume.known.end_offset
                                        ? "they end at byte " + std::to_string(seen.end_offset) +
                                              ", not " + std::to_string(resume.known.end_offset)
                                        : std::string("their CRC32C differs")) +
                                   "): the input was changed; " + NextSteps());
  }
  return Status::OK();
}

Result<RecoveryResult> IngestJournal::Recover(DeltaTable* table) {
  RecoveryResult result;
  LAKELOG_ASSIGN_OR_RETURN(std::optional<int64_t> committed, table->TxnVersion(app_id_));
  const int64_t committed_line = committed.value_or(0);
  int64_t max_line = std::max(committed_line, committed_.line);

  std::vector<LogEvent> batch;
  size_t batch_bytes = 0;
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
    batch_bytes = 0;
    return Status::OK();
  };
  LAKELOG_ASSIGN_OR_RETURN(
      result.wal, wal_->Replay([&](uint64_t, std::string_view record) -> Status {
        InputPosition at;
        std::string_view event_bytes;
        LogEvent event;
        Status decoded = DecodeRecordHeader(record, &at, &event_bytes);
        if (decoded.ok()) decoded = wal::DecodeLogEvent(event_bytes, &event);
        // A record that passed its CRC but does not decode was written by a different version
        // of lakelog or is damaged beyond the checksum's reach: refuse to guess.
        if (!decoded.ok()) return decoded.WithContext("WAL " + dir_);
        max_line = std::max(max_line, at.line);
        if (at.line <= committed_line) {
          ++result.skipped_events;
          return Status::OK();
        }
        batch.push_back(std::move(event));
        // The encoded size stands for the decoded event's memory (the strings dominate both).
        batch_bytes += event_bytes.size();
        batch_last_line = at.line;
        if (batch.size() >= options_.batch_rows || batch_bytes >= options_.batch_bytes) {
          return commit();
        }
        return Status::OK();
      }));
  LAKELOG_RETURN_IF_ERROR(commit());
  LAKELOG_RETURN_IF_ERROR(wal_->MarkCommitted(wal_->LastSequence()));
  result.resume_after_line = max_line;
  last_line_ = max_line;
  durable_line_ = max_line;
  return result;
}

Status IngestJournal::Append(const InputPosition& at, const LogEvent& event) {
  EncodeRecord(at, event, staged_.buffer());
  staged_.EndRecord();
  staged_lines_.push_back(at.line);
  last_line_ = at.line;
  if (staged_.bytes() >= kStagedBytes) return FlushStaged();
  return Status::OK();
}

Status IngestJournal::FlushStaged() {
  if (staged_.empty()) return Status::OK();
  if (before_wal_write_) LAKELOG_RETURN_IF_ERROR(before_wal_write_());
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
                                                const InputPosition& last) {
  // Staged records go to the WAL first, so that the MarkCommitted below covers every line of
  // the commit.
  LAKELOG_RETURN_IF_ERROR(FlushStaged());
  DeltaAppendOptions append;
  append.txn = DeltaTxn{app_id_, last.line};
  LAKELOG_ASSIGN_OR_RETURN(DeltaCommitResult result, table->Append(events, append));
  // Invariant: the WAL records of a commit are released only after ingest.json holds the
  // commit's position, so a resume always knows the position of its resume line (unless a
  // power loss took records the WAL had not synced, see ResumePoint::known).
  committed_ = last;
  LAKELOG_RETURN_IF_ERROR(WriteMeta());
  // Every record appended so far belongs to this or an earlier commit.
  LAKELOG_RETURN_IF_ERROR(wal_->MarkCommitted(wal_->LastSequence()));
  pending_.clear();
  durable_line_ = std::max(durable_line_, last.line);
  return result;
}

Status IngestJournal::Finish() {
  LAKELOG_RETURN_IF_ERROR(FlushStaged());
  LAKELOG_RETURN_IF_ERROR(wal_->MarkCommitted(wal_->LastSequence()));
  LAKELOG_RETURN_IF_ERROR(wal_->Close());
  LAKELOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir_));
  for (const std::string& name : names) {
    uint64_t number;
    if (wal::Wal::ParseSegmentFileName(name, &number)) {
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
