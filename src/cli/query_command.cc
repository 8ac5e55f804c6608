// `lakelog query`: grep a table's events by pipeline, stage, status, level, run, time and
// message text, newest first, without a SQL engine (src/analytics/event_query.h).
#include <iostream>
#include <memory>

#include "analytics/event_query.h"
#include "analytics/output.h"
#include "cli/analytics_flags.h"
#include "cli/command.h"
#include "cli/table_location.h"

namespace lakelog::cli {
namespace {

struct QueryFlags {
  std::string table;
  std::vector<std::string> pipelines, stages, statuses, levels, run_ids;
  std::string since, until, now, contains;
  size_t limit = 100;
  bool oldest_first = false;
  std::string format = "text";
  bool explain = false;
  bool quiet = false;
};

ExitCode RunQuery(const QueryFlags& flags) {
  const std::string context = "query " + flags.table;
  analytics::EventQuery query;
  analytics::OutputFormat format;
  Status status = ParseFormatFlag(flags.format, &format);
  if (!status.ok()) return ReportError(context, status);
  auto window = ParseTimeWindow(flags.since, flags.until, flags.now);
  if (!window.ok()) return ReportError(context, window.status());
  auto levels = analytics::ParseLevels(flags.levels);
  if (!levels.ok()) return ReportError(context, levels.status().WithContext("--level"));
  query.filter.pipelines.values = flags.pipelines;
  query.filter.stages.values = flags.stages;
  query.filter.statuses.values = flags.statuses;
  query.filter.run_ids.values = flags.run_ids;
  query.filter.levels.values = *levels;
  query.filter.since_micros = window->since_micros;
  query.filter.until_micros = window->until_micros;
  query.filter.contains = flags.contains;
  query.limit = flags.limit;
  query.oldest_first = flags.oldest_first;

  auto location = OpenTableLocation(flags.table);
  if (!location.ok()) return ReportError(context, location.status());
  auto snapshot = ReadDeltaSnapshot(location->fs, location->root);
  if (!snapshot.ok()) return ReportFailure(context, snapshot.status());
  auto result = analytics::QueryEvents(location->fs, location->root, *snapshot, query);
  if (!result.ok()) return ReportFailure(context, result.status());
  analytics::WriteEvents(*result, format, std::cout);
  std::cout.flush();
  if (flags.explain || !flags.quiet) {
    std::fprintf(stderr, "lakelog query: %zu events (table version %lld); %s\n",
                 result->rows.size(), static_cast<long long>(result->table_version),
                 analytics::DescribeScan(result->stats).c_str());
  }
  return std::cout.good() ? ExitCode::kOk : ExitCode::kFailure;
}

}  // namespace

Command AddQueryCommand(CLI::App& root) {
  auto flags = std::make_shared<QueryFlags>();
  CLI::App* app = root.add_subcommand(
      "query",
      "Find events the way one greps logs: filters on pipeline, stage, status, level, run id,\n"
      "time and message text; newest first. Files are pruned by partition (pipeline, log_date)\n"
      "and skipped by their min/max statistics; what was read and skipped goes to stderr.\n"
      "A flag given several times matches any of its values (names may hold commas).");
  app->add_option("--table", flags->table, "Delta table: a directory, or s3://bucket/prefix")
      ->required();
  app->add_option("--pipeline", flags->pipelines, "pipeline name(s)");
  app->add_option("--stage", flags->stages, "stage(s)");
  app->add_option("--status", flags->statuses, "status(es), e.g. FAILED");
  app->add_option("--level", flags->levels,
                  "level(s): TRACE, DEBUG, INFO, WARN, ERROR, FATAL; LEVEL+ for that level and "
                  "above (ERROR+)");
  app->add_option("--run-id", flags->run_ids, "run id(s)");
  app->add_option("--since", flags->since,
                  "events at or after: RFC 3339 (2026-11-24T10:00:00Z, 2026-11-24) or a "
                  "duration back from now (30m, 1h, 7d)");
  app->add_option("--until", flags->until, "events at or before (same forms as --since)");
  app->add_option("--now", flags->now,
                  "the instant relative --since/--until count back from (RFC 3339) [the clock]");
  app->add_option("--contains", flags->contains, "text the message contains (case-sensitive)");
  app->add_option("--limit", flags->limit, "at most this many events; 0 = all [100]");
  app->add_flag("--oldest-first", flags->oldest_first, "oldest first instead of newest first");
  app->add_option("--format", flags->format, "text, json, ndjson or csv [text]");
  app->add_flag("--explain", flags->explain,
                "print the scan summary (files read, pruned, skipped) on stderr even with "
                "--quiet");
  app->add_flag("--quiet", flags->quiet, "no scan summary on stderr");
  return Command{app, [flags] { return RunQuery(*flags); }};
}

}  // namespace lakelog::cli
