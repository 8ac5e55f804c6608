// `lakelog ingest`: NDJSON events from a file or stdin into a Delta table, in batches.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "ingest/event_parser.h"
#include "ingest/ingest_journal.h"
#include "lakelog/delta_table.h"

namespace lakelog::cli {
namespace {

constexpr size_t kRejectTextLimit = 1000;

struct IngestOptions {
  std::string table;
  std::string input = "-";
  std::string rejects;
  std::string compression = "zstd";
  size_t batch_rows = 100'000;
  bool json = false;
  std::string wal;            // empty: no write-ahead log
  std::string sync = "group";  // none | interval | group
  uint32_t sync_interval_ms = 100;
};

// Accepted lines between two WAL syncs (and `durable N` reports).
constexpr int64_t kSyncEveryLines = 1024;

struct IngestSummary {
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t files = 0;
  int64_t commits = 0;
  int64_t version = -1;
  int64_t recovered = 0;       // events committed from the WAL of an interrupted run
  int64_t resumed_after = 0;   // input lines skipped because an earlier run holds them
  int64_t checkpoints = 0;     // Delta checkpoints written after our commits
};

// Cuts `text` to at most `limit` bytes without splitting a UTF-8 sequence.
std::string CutUtf8(std::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

class Ingester {
 public:
  // `journal` may be null (no WAL).
  Ingester(const IngestOptions& options, DeltaTable* table, std::ostream* rejects,
           ingest::IngestJournal* journal)
      : options_(options), table_(table), rejects_(rejects), journal_(journal) {
    batch_.reserve(std::min<size_t>(options.batch_rows, 65'536));
  }

  // With a journal: commits what an interrupted run left in the WAL, and skips the input lines
  // that run already accounted for.
  Status Recover() {
    if (journal_ == nullptr) return Status::OK();
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

  Status Run(std::istream& in) {
    std::string line;
    int64_t line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      if (line_number <= summary_.resumed_after) continue;
      last_line_ = line_number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
      batch_.emplace_back();
      Status st = ingest::ParseEventLine(line, parser_options_, &batch_.back());
      if (!st.ok()) {
        batch_.pop_back();
        LAKELOG_RETURN_IF_ERROR(Reject(line_number, st.message(), line));
        continue;
      }
      ++summary_.accepted;
      if (journal_ != nullptr) {
        LAKELOG_RETURN_IF_ERROR(journal_->Append(line_number, batch_.back()));
        if (++unsynced_ >= kSyncEveryLines) LAKELOG_RETURN_IF_ERROR(SyncJournal());
      }
      // Invariant: a commit covers exactly the lines up to last_line_, so a batch is committed
      // right after the line that fills it (the commit's txn version is that line).
      if (batch_.size() >= options_.batch_rows) LAKELOG_RETURN_IF_ERROR(CommitBatch());
    }
    if (in.bad()) return Status::IOError("reading " + options_.input + " failed");
    LAKELOG_RETURN_IF_ERROR(CommitBatch());
    if (journal_ != nullptr) {
      LAKELOG_RETURN_IF_ERROR(journal_->Finish());
      ReportDurable(last_line_);
    }
    return Status::OK();
  }

  const IngestSummary& summary() const { return summary_; }

 private:
  Status CommitBatch() {
    if (batch_.empty()) return Status::OK();
    std::vector<const LogEvent*> rows;
    rows.reserve(batch_.size());
    for (const LogEvent& e : batch_) rows.push_back(&e);
    DeltaCommitResult result;
    if (journal_ != nullptr) {
      LAKELOG_RETURN_IF_ERROR(SyncJournal());
      LAKELOG_ASSIGN_OR_RETURN(result, journal_->Commit(table_, rows, last_line_));
      ReportDurable(last_line_);
    } else {
      LAKELOG_ASSIGN_OR_RETURN(result, table_->Append(rows));
    }
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
    batch_.clear();
    return Status::OK();
  }

  Status SyncJournal() {
    unsynced_ = 0;
    LAKELOG_ASSIGN_OR_RETURN(int64_t durable, journal_->Sync());
    // Rejected lines after the last accepted one are handled too: nothing of them is owed.
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
    nlohmann::json entry = {{"line", line_number}, {"reason", reason},
                            {"text", CutUtf8(text, kRejectTextLimit)}};
    *rejects_ << entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    if (!*rejects_) return Status::IOError("writing the rejects file " + options_.rejects);
    return Status::OK();
  }

  const IngestOptions& options_;
  DeltaTable* table_;
  std::ostream* rejects_;
  ingest::IngestJournal* journal_;
  int64_t last_line_ = 0;        // the last input line read
  int64_t unsynced_ = 0;         // accepted lines since the last WAL sync
  int64_t reported_durable_ = 0;
  ingest::EventParserOptions parser_options_;
  std::vector<LogEvent> batch_;
  IngestSummary summary_;
};

ExitCode RunIngest(const IngestOptions& options) {
  DeltaTableOptions table_options;
  Status compression = ParseCompressionFlag(options.compression, &table_options.parquet.compression);
  if (!compression.ok()) return ReportError("ingest", compression);
  std::ifstream file;
  std::istream* in = &std::cin;
  if (options.input != "-") {
    file.open(options.input, std::ios::binary);
    if (!file) return ReportError("ingest", Status::NotFound("cannot open --input " + options.input));
    in = &file;
  }
  ingest::JournalOptions journal_options;
  journal_options.batch_rows = options.batch_rows;
  if (!options.wal.empty()) {
    Status st = ParseSyncMode(options.sync, options.sync_interval_ms, &journal_options.wal);
    if (!st.ok()) return ReportError("ingest", st);
  }
  // A resumed run appends to its rejects file instead of truncating the first run's.
  const bool may_resume = !options.wal.empty() &&
                          PosixFileSystem()->Exists(JoinPath(options.wal, "ingest.json"));
  std::ofstream rejects;
  if (!options.rejects.empty()) {
    rejects.open(options.rejects,
                 std::ios::binary | (may_resume ? std::ios::app : std::ios::trunc));
    if (!rejects) {
      return ReportError("ingest", Status::IOError("cannot create --rejects " + options.rejects));
    }
  }
  auto table = DeltaTable::Open(PosixFileSystem(), options.table, table_options);
  if (!table.ok()) return ReportError("ingest: opening " + options.table, table.status());

  std::unique_ptr<ingest::IngestJournal> journal;
  if (!options.wal.empty()) {
    auto opened = ingest::IngestJournal::Open(PosixFileSystem(), options.wal, options.table,
                                              options.input, journal_options);
    if (!opened.ok()) return ReportError("ingest: opening the WAL " + options.wal, opened.status());
    journal = std::move(opened).value();
  }
  Ingester ingester(options, table->get(), options.rejects.empty() ? nullptr : &rejects,
                    journal.get());
  Status st = ingester.Recover();
  if (st.ok()) st = ingester.Run(*in);
  IngestSummary summary = ingester.summary();
  if (summary.version < 0) {
    auto snapshot = (*table)->Snapshot();
    if (snapshot.ok()) summary.version = snapshot->version;
  }
  if (options.json) {
    nlohmann::json out = {{"accepted", summary.accepted}, {"rejected", summary.rejected},
                          {"files", summary.files},       {"commits", summary.commits},
                          {"version", summary.version},   {"recovered", summary.recovered},
                          {"resumed_after_line", summary.resumed_after},
                          {"checkpoints", summary.checkpoints}};
    std::cout << out.dump() << std::endl;
  } else {
    std::printf("ingest: accepted %lld, rejected %lld, files %lld, commits %lld, version %lld\n",
                static_cast<long long>(summary.accepted), static_cast<long long>(summary.rejected),
                static_cast<long long>(summary.files), static_cast<long long>(summary.commits),
                static_cast<long long>(summary.version));
  }
  if (!st.ok()) return ReportError("ingest", st);
  return summary.rejected > 0 ? ExitCode::kRejectedLines : ExitCode::kOk;
}

}  // namespace

Command AddIngestCommand(CLI::App& root) {
  auto options = std::make_shared<IngestOptions>();
  CLI::App* app = root.add_subcommand(
      "ingest",
      "Append NDJSON events to a Delta table (created if missing).\n"
      "Each line is an object: pipeline (string, required), ts (RFC 3339 text or integer epoch\n"
      "milliseconds, required), level (TRACE..FATAL, default INFO), stage, status, message,\n"
      "run_id, host (string or null), attributes (object of strings). A malformed line never\n"
      "stops the others: it is rejected with its line number and reason. Each batch is one\n"
      "Delta commit with one Parquet file per (pipeline, log_date); every\n"
      "delta.checkpointInterval-th version (default 10) also gets a checkpoint (a failed one is\n"
      "a warning on stderr: the commit stands).");
  app->add_option("--table", options->table, "Delta table directory")->required();
  app->add_option("--input", options->input, "NDJSON file; '-' or absent reads stdin");
  app->add_option("--batch-rows", options->batch_rows, "events per commit")
      ->check(CLI::Range(size_t{1}, size_t{100'000'000}))
      ->capture_default_str();
  app->add_option("--compression", options->compression, "zstd | snappy | lz4_raw | none")
      ->capture_default_str();
  app->add_option("--rejects", options->rejects,
                  "write rejected lines here as NDJSON {line, reason, text}; default: stderr");
  app->add_flag("--json", options->json, "print the summary as one JSON object");
  app->add_option("--wal", options->wal,
                  "write-ahead log directory: accepted lines are logged before they are\n"
                  "committed, `durable N` lines on stderr say how many input lines are safe,\n"
                  "and after a crash `lakelog recover` (or the same ingest again) commits\n"
                  "them exactly once");
  app->add_option("--sync", options->sync,
                  "WAL sync mode: none (survives kill -9), interval (fsync every\n"
                  "--sync-interval-ms), group (fsync before every `durable` report)")
      ->check(CLI::IsMember({"none", "interval", "group"}))
      ->capture_default_str();
  app->add_option("--sync-interval-ms", options->sync_interval_ms, "for --sync interval")
      ->check(CLI::Range(1u, 3'600'000u))
      ->capture_default_str();
  return Command{app, [options] { return RunIngest(*options); }};
}

}  // namespace lakelog::cli
