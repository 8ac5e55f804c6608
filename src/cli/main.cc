// `lakelog`: the command-line front end. Each subcommand lives in its own file.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "common/build_info.h"

namespace lakelog::cli {

ExitCode ReportError(const std::string& context, const Status& status) {
  std::fprintf(stderr, "lakelog: %s: %s\n", context.c_str(), status.ToString().c_str());
  return status.code() == StatusCode::kInvalidArgument ? ExitCode::kUsage : ExitCode::kFailure;
}

ExitCode ReportFailure(const std::string& context, const Status& status) {
  std::fprintf(stderr, "lakelog: %s: %s\n", context.c_str(), status.ToString().c_str());
  return ExitCode::kFailure;
}

std::string CanonicalPath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec) return path;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(abs, ec);
  std::string out = (ec ? abs.lexically_normal() : canonical).string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Status ParseCompressionFlag(const std::string& text, Compression* out) {
  if (ParseCompression(text, out)) return Status::OK();
  return Status::InvalidArgument("unknown --compression '" + text +
                                 "' (zstd, snappy, lz4_raw, none)");
}

Status ParseSyncMode(const std::string& mode, uint32_t interval_ms, WalOptions* options) {
  if (!ParseWalSyncMode(mode, &options->sync_mode)) {
    return Status::InvalidArgument("unknown --sync mode '" + mode + "' (none, interval, group)");
  }
  options->sync_interval_ms = interval_ms;
  return Status::OK();
}

}  // namespace lakelog::cli

int main(int argc, char** argv) {
  using namespace lakelog::cli;
  CLI::App app{
      "lakelog: lands structured pipeline logs in a Delta Lake table.\n"
      "Every subcommand has its own --help."};
  app.name("lakelog");
  app.require_subcommand(1);
  app.footer(
      "Exit codes:\n"
      "  0  success\n"
      "  1  runtime failure (I/O error, damaged table, commit conflict that did not resolve)\n"
      "  2  usage error (unknown flag, missing or invalid value)\n"
      "  3  ingest completed, but some input lines were rejected (see --rejects)");
  app.set_version_flag("--version", "lakelog " + std::string(lakelog::LakelogVersion()) +
                                        " (build " + std::string(lakelog::LakelogBuildHash()) +
                                        ")");

  std::vector<Command> commands = {
      AddIngestCommand(app), AddDescribeCommand(app), AddHistoryCommand(app),
      AddDemoCommand(app),   AddRecoverCommand(app),  AddCheckpointCommand(app),
      AddVacuumCommand(app), AddOptimizeCommand(app), AddKafkaIngestCommand(app),
      AddQueryCommand(app),  AddReportCommand(app),   AddServeCommand(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
  }
  for (const Command& command : commands) {
    if (command.app->parsed()) return static_cast<int>(command.run());
  }
  return static_cast<int>(ExitCode::kUsage);
}
