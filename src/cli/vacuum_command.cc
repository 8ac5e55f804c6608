// `lakelog vacuum`: deletes the files no version inside the retention window reads.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/table_location.h"
#include "delta/table_properties.h"
#include "lakelog/clock.h"
#include "lakelog/file_system.h"
#include "maintenance/vacuum.h"

namespace lakelog::cli {
namespace {

struct VacuumCommandOptions {
  std::string table;
  std::string retain;  // empty: the table's delta.deletedFileRetentionDuration
  bool dry_run = false;
  bool force = false;
  bool json = false;
};

// "168h", "7d", "30m", "90s", "0h" (and Spark's "interval 1 week") -> milliseconds.
Result<int64_t> ParseRetention(const std::string& text) {
  static const std::pair<char, int64_t> kUnits[] = {
      {'s', 1000}, {'m', 60'000}, {'h', 3'600'000}, {'d', delta::kMillisPerDay}};
  if (!text.empty()) {
    for (const auto& [suffix, ms] : kUnits) {
      if (text.back() != suffix) continue;
      const std::string digits = text.substr(0, text.size() - 1);
      int64_t n = -1;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size() && n >= 0 &&
          n <= INT64_MAX / ms) {
        return n * ms;
      }
    }
    if (std::optional<int64_t> ms = delta::ParseIntervalMs(text)) return *ms;
  }
  return Status::InvalidArgument("--retain '" + text +
                                 "' is not a duration such as 168h, 7d, 90m or 30s");
}

std::string Hours(int64_t ms) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6gh", static_cast<double>(ms) / 3'600'000.0);
  return text;
}

ExitCode RunVacuum(const VacuumCommandOptions& options) {
  maintenance::VacuumOptions vacuum;
  if (!options.retain.empty()) {
    Result<int64_t> retain = ParseRetention(options.retain);
    if (!retain.ok()) return ReportError("vacuum", retain.status());
    vacuum.retention_ms = *retain;
  }
  vacuum.force = options.force;
  vacuum.dry_run = options.dry_run;
  vacuum.now_ms = RealClock()->NowMicros() / 1000;
  auto location = OpenTableLocation(options.table);
  if (!location.ok()) return ReportError("vacuum " + options.table, location.status());
  Result<maintenance::VacuumResult> result =
      maintenance::Vacuum(location->fs, location->root, vacuum);
  if (!result.ok()) {
    // A retention below the table's is a refusal of this run, not a malformed flag.
    std::fprintf(stderr, "lakelog: vacuum %s: %s\n", options.table.c_str(),
                 result.status().ToString().c_str());
    return ExitCode::kFailure;
  }
  if (options.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : result->files) files.push_back({{"path", f.path}, {"size", f.size}});
    nlohmann::json out = {
        {"table", options.table},
        {"dry_run", options.dry_run},
        {"version", result->table_version},
        {"retention_ms", result->retention_ms},
        {"files", files},
        {"bytes", result->bytes},
        {"directories_removed", result->directories_removed},
        {"delete_failures", result->delete_failures},
        {"start_version", result->start_version.has_value() ? nlohmann::json(*result->start_version)
                                                            : nlohmann::json(nullptr)},
        {"end_version", result->end_version.has_value() ? nlohmann::json(*result->end_version)
                                                        : nlohmann::json(nullptr)}};
    std::cout << out.dump() << std::endl;
  } else {
    for (const auto& f : result->files) {
      std::printf("%s%s\t%llu\n", options.dry_run ? "would delete " : "deleted ", f.path.c_str(),
                  static_cast<unsigned long long>(f.size));
    }
    std::printf("vacuum: %s %zu files, %llu bytes (retention %s, table version %lld)",
                options.dry_run ? "would delete" : "deleted", result->files.size(),
                static_cast<unsigned long long>(result->bytes), Hours(result->retention_ms).c_str(),
                static_cast<long long>(result->table_version));
    if (!options.dry_run) {
      std::printf(
          "; %lld empty directories removed; commits %lld (VACUUM START) and %lld "
          "(VACUUM END)",
          static_cast<long long>(result->directories_removed),
          static_cast<long long>(result->start_version.value_or(-1)),
          static_cast<long long>(result->end_version.value_or(-1)));
    }
    std::printf("\n");
  }
  if (result->delete_failures > 0) {
    std::fprintf(stderr,
                 "lakelog: vacuum: %lld files could not be deleted; a later vacuum "
                 "retries them\n",
                 static_cast<long long>(result->delete_failures));
    return ExitCode::kFailure;
  }
  return ExitCode::kOk;
}

}  // namespace

Command AddVacuumCommand(CLI::App& root) {
  auto options = std::make_shared<VacuumCommandOptions>();
  CLI::App* app = root.add_subcommand(
      "vacuum",
      "Delete the data files that no table version inside the retention window reads: files\n"
      "removed from the table (by OPTIMIZE, or by other engines) whose tombstones have\n"
      "expired, and orphans that crashed writers left — only when their modification time is\n"
      "older than the retention. Names starting with '_' or '.' (so _delta_log) are never\n"
      "touched, partition directories are walked, symbolic links are never followed, and\n"
      "directories left empty are removed. Writes VACUUM START and VACUUM END commits (as\n"
      "Spark does). Refused for a table whose protocol has features maintenance does not\n"
      "handle (e.g. deletion vectors). See docs/maintenance.md.");
  app->add_option("--table", options->table,
                  "Delta table: a directory, or s3://bucket/prefix (docs/object-storage.md)")
      ->required();
  app->add_option("--retain", options->retain,
                  "retention, e.g. 168h, 7d (default: the table's\n"
                  "delta.deletedFileRetentionDuration, one week unless set)");
  app->add_flag("--dry-run", options->dry_run,
                "list what would be deleted, with sizes; change nothing");
  app->add_flag("--force", options->force,
                "allow a retention below the table's delta.deletedFileRetentionDuration");
  app->add_flag("--json", options->json, "print the result as one JSON object");
  return Command{app, [options] { return RunVacuum(*options); }};
}

}  // namespace lakelog::cli
