// The pieces every `lakelog` subcommand shares: registration, exit codes, error reporting.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "lakelog/parquet_options.h"
#include "lakelog/status.h"
#include "lakelog/wal_options.h"

namespace lakelog::analytics {
struct SlaConfig;
}  // namespace lakelog::analytics

namespace lakelog::cli {

// Documented in `lakelog --help`; scripts rely on them.
enum class ExitCode : int {
  kOk = 0,
  kFailure = 1,        // runtime failure: I/O, a damaged table, a sink that never recovered
  kUsage = 2,          // bad flags or values
  kRejectedLines = 3,  // the run completed, but some input lines were rejected
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
Command AddOptimizeCommand(CLI::App& root);
Command AddKafkaIngestCommand(CLI::App& root);
Command AddQueryCommand(CLI::App& root);
Command AddReportCommand(CLI::App& root);
Command AddServeCommand(CLI::App& root);

// Reads and parses an SLA file (`report --sla`, `serve --sla`); InvalidArgument otherwise.
Result<analytics::SlaConfig> LoadSlaFile(const std::string& path);

// "none" | "interval" | "group" into options->sync_mode (and the interval).
Status ParseSyncMode(const std::string& mode, uint32_t interval_ms, WalOptions* options);

// `--compression` into *out; InvalidArgument naming the accepted codecs otherwise.
Status ParseCompressionFlag(const std::string& text, Compression* out);

// Prints "lakelog: <context>: <status>" to stderr and returns kFailure (kUsage for
// InvalidArgument raised by option validation).
ExitCode ReportError(const std::string& context, const Status& status);

// As ReportError, but always kFailure: for refusals of the run itself (a table of another
// schema, a WAL that is not ours), which are not usage errors whatever their Status code.
ExitCode ReportFailure(const std::string& context, const Status& status);

// `path` made absolute and normalised (symbolic links of its existing part resolved, no
// trailing slash), so that every spelling of one file or directory compares equal.
std::string CanonicalPath(const std::string& path);

}  // namespace lakelog::cli
