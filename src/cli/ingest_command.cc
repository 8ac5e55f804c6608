// `lakelog ingest`: NDJSON events from a file or stdin into a Delta table, in batches.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "ingest/event_parser.h"
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
};

struct IngestSummary {
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t files = 0;
  int64_t commits = 0;
  int64_t version = -1;
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
  Ingester(const IngestOptions& options, DeltaTable* table, std::ostream* rejects)
      : options_(options), table_(table), rejects_(rejects) {
    batch_.reserve(std::min<size_t>(options.batch_rows, 65'536));
  }

  Status Run(std::istream& in) {
    std::string line;
    int64_t line_number = 0;
    while (std::getline(in, line)) {
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
      if (batch_.size() >= options_.batch_rows) LAKELOG_RETURN_IF_ERROR(CommitBatch());
      batch_.emplace_back();
      Status st = ingest::ParseEventLine(line, parser_options_, &batch_.back());
      if (!st.ok()) {
        batch_.pop_back();
        LAKELOG_RETURN_IF_ERROR(Reject(line_number, st.message(), line));
        continue;
      }
      ++summary_.accepted;
    }
    if (in.bad()) return Status::IOError("reading " + options_.input + " failed");
    return CommitBatch();
  }

  const IngestSummary& summary() const { return summary_; }

 private:
  Status CommitBatch() {
    if (batch_.empty()) return Status::OK();
    std::vector<const LogEvent*> rows;
    rows.reserve(batch_.size());
    for (const LogEvent& e : batch_) rows.push_back(&e);
    LAKELOG_ASSIGN_OR_RETURN(DeltaCommitResult result, table_->Append(rows));
    summary_.files += result.files_written;
    summary_.commits += 1;
    summary_.version = result.version;
    batch_.clear();
    return Status::OK();
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
  ingest::EventParserOptions parser_options_;
  std::vector<LogEvent> batch_;
  IngestSummary summary_;
};

ExitCode RunIngest(const IngestOptions& options) {
  DeltaTableOptions table_options;
  if (!ParseCompression(options.compression, &table_options.parquet.compression)) {
    return ReportError("ingest", Status::InvalidArgument("unknown --compression '" +
                                                         options.compression +
                                                         "' (zstd, snappy, lz4_raw, none)"));
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (options.input != "-") {
    file.open(options.input, std::ios::binary);
    if (!file) return ReportError("ingest", Status::NotFound("cannot open --input " + options.input));
    in = &file;
  }
  std::ofstream rejects;
  if (!options.rejects.empty()) {
    rejects.open(options.rejects, std::ios::binary | std::ios::trunc);
    if (!rejects) {
      return ReportError("ingest", Status::IOError("cannot create --rejects " + options.rejects));
    }
  }
  auto table = DeltaTable::Open(PosixFileSystem(), options.table, table_options);
  if (!table.ok()) return ReportError("ingest: opening " + options.table, table.status());

  Ingester ingester(options, table->get(), options.rejects.empty() ? nullptr : &rejects);
  Status st = ingester.Run(*in);
  IngestSummary summary = ingester.summary();
  if (summary.version < 0) {
    auto snapshot = (*table)->Snapshot();
    if (snapshot.ok()) summary.version = snapshot->version;
  }
  if (options.json) {
    nlohmann::json out = {{"accepted", summary.accepted}, {"rejected", summary.rejected},
                          {"files", summary.files},       {"commits", summary.commits},
                          {"version", summary.version}};
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
      "Delta commit with one Parquet file per (pipeline, log_date).");
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
  return Command{app, [options] { return RunIngest(*options); }};
}

}  // namespace lakelog::cli
