// `lakelog recover`: commits what an interrupted `lakelog ingest --wal` or a crashed engine
// (`lakelog demo --wal`, an application with EngineOptions::wal_dir) left in its WAL.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/table_location.h"
#include "ingest/ingest_journal.h"
#include "lakelog/delta_sink.h"
#include "lakelog/delta_table.h"
#include "lakelog/engine.h"
#include "wal/log_reader.h"

namespace lakelog::cli {
namespace {

struct RecoverOptions {
  std::string table;
  std::string wal;
  bool json = false;
};

bool TableExists(const TableLocation& table) {
  Result<FileInfo> info = table.fs->Stat(JoinPath(table.root, "_delta_log"));
  return info.ok() && info->is_directory;
}

// `recover` had nothing to do: it says so and succeeds, having created nothing.
ExitCode NothingToRecover(const RecoverOptions& options, const std::string& why) {
  if (options.json) {
    nlohmann::json out = {
        {"recovered", 0}, {"commits", 0}, {"nothing_to_recover", true}, {"reason", why}};
    std::cout << out.dump() << std::endl;
  } else {
    std::printf("recover: nothing to recover: %s\n", why.c_str());
  }
  return ExitCode::kOk;
}

// Data records in the engine WAL's segments (kind 1 in docs/wal.md), read without opening the
// WAL (which would start a new segment). Damaged parts are skipped: the engine counts them.
Result<uint64_t> CountWalDataRecords(const std::string& dir) {
  constexpr char kDataRecordKind = 1;
  LAKELOG_ASSIGN_OR_RETURN(std::vector<std::string> names, PosixFileSystem()->ListDir(dir));
  uint64_t records = 0;
  for (const std::string& name : names) {
    uint64_t number = 0;
    if (!wal::Wal::ParseSegmentFileName(name, &number)) continue;
    LAKELOG_ASSIGN_OR_RETURN(auto file,
                             PosixFileSystem()->NewRandomAccessFile(JoinPath(dir, name)));
    wal::LogReader reader(file.get(), nullptr);
    std::string scratch;
    std::string_view record;
    while (reader.ReadRecord(&record, &scratch)) {
      if (!record.empty() && record[0] == kDataRecordKind) ++records;
    }
    LAKELOG_RETURN_IF_ERROR(reader.status());
  }
  return records;
}

// An engine's WAL: opening an engine on it replays and commits it (exactly once, keyed on the
// WAL's writer id); Stop() then leaves the directory ready for that engine's next run.
ExitCode RecoverEngineWal(const RecoverOptions& options, const TableLocation& location) {
  // The engine would create the table; recover never does (a mistyped --table must not make
  // an empty table), so a WAL with events and no table is an error naming the table.
  if (!TableExists(location)) {
    auto records = CountWalDataRecords(options.wal);
    if (!records.ok())
      return ReportFailure("recover: reading the WAL " + options.wal, records.status());
    if (*records == 0) {
      return NothingToRecover(options, "the engine WAL " + options.wal + " holds no events");
    }
    return ReportFailure(
        "recover",
        Status::NotFound("table " + options.table + " does not exist, and the engine WAL " +
                         options.wal + " holds " + std::to_string(*records) +
                         " events (some may be committed already) for the table its "
                         "engine wrote: give that table with --table"));
  }
  auto sink = NewDeltaSink(location.fs, location.root);
  if (!sink.ok()) return ReportFailure("recover: opening " + options.table, sink.status());
  EngineOptions engine_options;
  engine_options.wal_dir = options.wal;
  engine_options.stop_timeout = std::chrono::seconds(60);
  Status last_error;
  engine_options.error_handler = [&last_error](const Status& st) { last_error = st; };
  auto engine = Engine::Open(engine_options, std::move(sink).value());
  if (!engine.ok())
    return ReportFailure("recover: opening the WAL " + options.wal, engine.status());
  Status st = (*engine)->Flush(std::chrono::seconds(60));
  Engine::WalInfo info = (*engine)->wal_info();
  Status stopped = (*engine)->Stop();
  if (st.ok()) st = stopped;
  if (!st.ok()) {
    if (!last_error.ok()) st = st.WithContext(last_error.ToString());
    return ReportFailure("recover", st);
  }
  const bool nothing = info.replayed_events == 0 && info.corrupt_records == 0;
  if (nothing && !options.json) {
    return NothingToRecover(
        options, "every event in the engine WAL " + options.wal + " is committed already");
  }
  if (options.json) {
    nlohmann::json out = {
        {"recovered", info.replayed_events},       {"nothing_to_recover", nothing},
        {"commits", info.replay_writes},           {"writer_id", (*engine)->writer_id()},
        {"wal_corruptions", info.corrupt_records}, {"wal_dropped_bytes", info.corrupt_bytes}};
    std::cout << out.dump() << std::endl;
  } else {
    std::printf("recover: committed %lld events from the WAL of writer %s in %lld commits\n",
                static_cast<long long>(info.replayed_events), (*engine)->writer_id().c_str(),
                static_cast<long long>(info.replay_writes));
    if (info.corrupt_records > 0) {
      std::printf("recover: skipped %llu damaged WAL records (%llu bytes)\n",
                  static_cast<unsigned long long>(info.corrupt_records),
                  static_cast<unsigned long long>(info.corrupt_bytes));
    }
  }
  return ExitCode::kOk;
}

ExitCode RunRecover(const RecoverOptions& options) {
  // Nothing here creates the WAL directory or the table: a clean or missing WAL is a no-op.
  Result<FileInfo> wal_info = PosixFileSystem()->Stat(options.wal);
  if (!wal_info.ok() && wal_info.status().IsNotFound()) {
    return NothingToRecover(options, "the WAL directory " + options.wal + " does not exist");
  }
  if (!wal_info.ok()) return ReportFailure("recover: the WAL " + options.wal, wal_info.status());
  if (!wal_info->is_directory) {
    return ReportFailure("recover",
                         Status::InvalidArgument("--wal " + options.wal + " is not a directory"));
  }
  auto location = OpenTableLocation(options.table);
  if (!location.ok()) return ReportFailure("recover: opening " + options.table, location.status());
  if (PosixFileSystem()->Stat(JoinPath(options.wal, "engine.json")).ok()) {
    return RecoverEngineWal(options, *location);
  }
  // The name the ingest's journal bound the WAL to: the local table's real path, or the URI.
  const std::string table_root = location->remote() ? options.table : CanonicalPath(options.table);
  auto journal = ingest::IngestJournal::OpenForRecovery(PosixFileSystem(), options.wal, table_root,
                                                        ingest::JournalOptions{});
  if (!journal.ok() && journal.status().IsNotFound()) {
    return NothingToRecover(options, "the WAL " + options.wal + " holds no unfinished ingest");
  }
  if (!journal.ok())
    return ReportFailure("recover: opening the WAL " + options.wal, journal.status());
  if (!TableExists(*location)) {
    return ReportFailure(
        "recover",
        Status::NotFound("table " + options.table + " does not exist, and the WAL " + options.wal +
                         " holds an unfinished ingest into it: recover "
                         "never creates a table; re-run that ingest (it creates the table "
                         "and resumes), or restore the table"));
  }
  auto table = DeltaTable::Open(location->fs, location->root, DeltaTableOptions{});
  if (!table.ok()) return ReportFailure("recover: opening " + options.table, table.status());
  auto result = (*journal)->Recover(table->get());
  if (!result.ok()) return ReportFailure("recover", result.status());

  if (options.json) {
    nlohmann::json out = {{"recovered", result->replayed_events},
                          {"already_committed", result->skipped_events},
                          {"commits", result->commits},
                          {"files", result->files},
                          {"input", (*journal)->input()},
                          {"resume_after_line", result->resume_after_line},
                          {"wal_corruptions", result->wal.corruptions},
                          {"wal_dropped_bytes", result->wal.dropped_bytes}};
    std::cout << out.dump() << std::endl;
  } else {
    std::printf(
        "recover: committed %lld events from the WAL (%lld were already committed) in %lld "
        "commits\n",
        static_cast<long long>(result->replayed_events),
        static_cast<long long>(result->skipped_events), static_cast<long long>(result->commits));
    if (result->wal.corruptions > 0) {
      std::printf("recover: skipped %llu damaged WAL regions (%llu bytes)\n",
                  static_cast<unsigned long long>(result->wal.corruptions),
                  static_cast<unsigned long long>(result->wal.dropped_bytes));
    }
    std::printf(
        "recover: the ingest of %s is committed through input line %lld; re-run the same "
        "ingest command with --wal %s to continue after it\n",
        (*journal)->input().c_str(), static_cast<long long>(result->resume_after_line),
        options.wal.c_str());
  }
  return ExitCode::kOk;
}

}  // namespace

Command AddRecoverCommand(CLI::App& root) {
  auto options = std::make_shared<RecoverOptions>();
  CLI::App* app = root.add_subcommand(
      "recover",
      "Commit, exactly once, every event an interrupted `lakelog ingest --wal DIR` left in its\n"
      "write-ahead log (everything it reported `durable`). Events already committed before the\n"
      "crash are recognised by the table's txn for the WAL's id and skipped. The WAL stays bound\n"
      "to that ingest: re-running the same ingest command resumes after the recovered lines.\n"
      "A WAL of the logging engine (`lakelog demo --wal DIR`, or an application's\n"
      "EngineOptions::wal_dir) is recovered the same way, as the engine itself would on start.\n"
      "A missing WAL directory, or one with nothing unfinished in it, is `nothing to recover`\n"
      "(exit 0). recover never creates the WAL directory or the table: a missing table with\n"
      "something to recover is an error naming it. --table may be spelled any way (relative,\n"
      "absolute, trailing slash); it must be the table the ingest wrote to.");
  app->add_option("--table", options->table, "Delta table: a directory, or s3://bucket/prefix")
      ->required();
  app->add_option("--wal", options->wal,
                  "the WAL directory given to `lakelog ingest --wal` or `lakelog demo --wal`")
      ->required();
  app->add_flag("--json", options->json, "print the result as one JSON object");
  return Command{app, [options] { return RunRecover(*options); }};
}

}  // namespace lakelog::cli
