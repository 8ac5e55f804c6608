// `lakelog recover`: commits what an interrupted `lakelog ingest --wal` or a crashed engine
// (`lakelog demo --wal`, an application with EngineOptions::wal_dir) left in its WAL.
#include <cstdio>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "ingest/ingest_journal.h"
#include "lakelog/delta_table.h"
#include "lakelog/engine.h"

namespace lakelog::cli {
namespace {

struct RecoverOptions {
  std::string table;
  std::string wal;
  bool json = false;
};

// An engine's WAL: opening an engine on it replays and commits it (exactly once, keyed on the
// WAL's writer id); Stop() then leaves the directory ready for that engine's next run.
ExitCode RecoverEngineWal(const RecoverOptions& options) {
  auto sink = NewDeltaSink(PosixFileSystem(), options.table);
  if (!sink.ok()) return ReportError("recover: opening " + options.table, sink.status());
  EngineOptions engine_options;
  engine_options.wal_dir = options.wal;
  engine_options.stop_timeout = std::chrono::seconds(60);
  Status last_error;
  engine_options.error_handler = [&last_error](const Status& st) { last_error = st; };
  auto engine = Engine::Open(engine_options, std::move(sink).value());
  if (!engine.ok()) return ReportError("recover: opening the WAL " + options.wal, engine.status());
  Status st = (*engine)->Flush(std::chrono::seconds(60));
  Engine::WalInfo info = (*engine)->wal_info();
  Status stopped = (*engine)->Stop();
  if (st.ok()) st = stopped;
  if (!st.ok()) {
    if (!last_error.ok()) st = st.WithContext(last_error.ToString());
    return ReportError("recover", st);
  }
  if (options.json) {
    nlohmann::json out = {{"recovered", info.replayed_events},
                          {"commits", info.replay_writes},
                          {"writer_id", (*engine)->writer_id()},
                          {"wal_corruptions", info.corrupt_records},
                          {"wal_dropped_bytes", info.corrupt_bytes}};
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
  if (PosixFileSystem()->Stat(JoinPath(options.wal, "engine.json")).ok()) {
    return RecoverEngineWal(options);
  }
  auto table = DeltaTable::Open(PosixFileSystem(), options.table, DeltaTableOptions{});
  if (!table.ok()) return ReportError("recover: opening " + options.table, table.status());
  auto journal = ingest::IngestJournal::OpenForRecovery(PosixFileSystem(), options.wal,
                                                        options.table, ingest::JournalOptions{});
  if (!journal.ok()) return ReportError("recover: opening the WAL " + options.wal, journal.status());
  auto result = (*journal)->Recover(table->get());
  if (!result.ok()) return ReportError("recover", result.status());

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
      "EngineOptions::wal_dir) is recovered the same way, as the engine itself would on start.");
  app->add_option("--table", options->table, "Delta table directory")->required();
  app->add_option("--wal", options->wal,
                  "the WAL directory given to `lakelog ingest --wal` or `lakelog demo --wal`")
      ->required();
  app->add_flag("--json", options->json, "print the result as one JSON object");
  return Command{app, [options] { return RunRecover(*options); }};
}

}  // namespace lakelog::cli
