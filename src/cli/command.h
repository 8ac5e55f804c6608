// The pieces every `lakelog` subcommand shares: registration, exit codes, error reporting.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "lakelog/parquet_options.h"
#include "lakelog/status.h"
#include "wal/wal.h"

namespace lakelog::cli {

// Documented in `lakelog --help`; scripts rely on them.
enum class ExitCode : int {
  kOk = 0,
  kFailure = 1,       // runtime failure: I/O, a damaged table, a sink that never recovered
  kUsage = 2,         // bad flags or values
  kRejectedLines = 3, // the run completed, but some input lines were rejected
};

struct Command {
  CLI::App* app = nullptr;
  std::function<ExitCode()> run;
};

// Each subcommand registers itself on the root app and returns how to run it.
Command AddIngestCommand(CLI::App& root);
Command AddDescribeCommand(CLI::App& root);
Command AddHistoryCommand(CLI::App& root);
Command AddDemoCommand(CLI::App& root);
Command AddRecoverCommand(CLI::App& root);
Command AddCheckpointCommand(CLI::App& root);
Command AddVacuumCommand(CLI::App& root);
Command AddKafkaIngestCommand(CLI::App& root);

// "none" | "interval" | "group" into options->sync_mode (and the interval).
Status ParseSyncMode(const std::string& mode, uint32_t interval_ms, WalOptions* options);

// `--compression` into *out; InvalidArgument naming the accepted codecs otherwise.
Status ParseCompressionFlag(const std::string& text, Compression* out);

// Prints "lakelog: <context>: <status>" to stderr and returns kFailure (kUsage for
// InvalidArgument raised by option validation).
ExitCode ReportError(const std::string& context, const Status& status);

}  // namespace lakelog::cli
