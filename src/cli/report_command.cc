// `lakelog report`: per-pipeline health of a table over a time window, with SLA compliance
// (src/analytics/report.h has the definitions).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "analytics/output.h"
#include "analytics/report.h"
#include "analytics/time_spec.h"
#include "cli/analytics_flags.h"
#include "cli/command.h"
#include "cli/table_location.h"

namespace lakelog::cli {
namespace {

struct ReportFlags {
  std::string table;
  std::string since, until, now;
  std::string sla;
  std::vector<std::string> pipelines;
  std::string format = "text";
  size_t runs = 0;
  size_t top_stages = 5;
  std::string bucket;
  size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  bool explain = false;
};

ExitCode RunReport(const ReportFlags& flags) {
  const std::string context = "report " + flags.table;
  analytics::OutputFormat format;
  Status status = ParseFormatFlag(flags.format, &format);
  if (!status.ok()) return ReportError(context, status);
  auto window = ParseTimeWindow(flags.since, flags.until, flags.now);
  if (!window.ok()) return ReportError(context, window.status());
  analytics::ReportOptions options;
  options.now_micros = window->now_micros;
  options.since_micros = window->since_micros;
  options.until_micros = window->until_micros;
  options.pipelines.values = flags.pipelines;
  options.runs_listed = flags.runs;
  options.top_stages = flags.top_stages;
  options.threads = flags.threads;
  if (!flags.bucket.empty()) {
    auto bucket = ParseBucketFlag(flags.bucket);
    if (!bucket.ok()) return ReportError(context, bucket.status());
    options.bucket_micros = *bucket;
  }
  if (!flags.sla.empty()) {
    auto sla = LoadSlaFile(flags.sla);
    if (!sla.ok()) return ReportError(context, sla.status());
    options.sla = std::move(*sla);
  }
  auto location = OpenTableLocation(flags.table);
  if (!location.ok()) return ReportError(context, location.status());
  auto snapshot = ReadDeltaSnapshot(location->fs, location->root);
  if (!snapshot.ok()) return ReportFailure(context, snapshot.status());
  auto report = analytics::BuildReport(location->fs, location->root, *snapshot, options);
  if (!report.ok()) return ReportFailure(context, report.status());
  analytics::WriteReport(*report, format, std::cout);
  std::cout.flush();
  if (flags.explain) {
    std::fprintf(stderr, "lakelog report: table version %lld; %s\n",
                 static_cast<long long>(report->table_version),
                 analytics::DescribeScan(report->stats).c_str());
  }
  return std::cout.good() ? ExitCode::kOk : ExitCode::kFailure;
}

}  // namespace

Result<analytics::SlaConfig> LoadSlaFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("--sla " + path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return analytics::ParseSlaConfig(text.str(), path);
}

Command AddReportCommand(CLI::App& root) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* app = root.add_subcommand(
      "report",
      "Per pipeline over a time window: events, failures, success rate, errors, top failing\n"
      "stages, last event (freshness), runs (run_id: first to last event, SUCCESS/FAILED) and\n"
      "their SLA compliance; worst first, then one health line. Definitions and the SLA file:\n"
      "docs/analytics.md.");
  app->add_option("--table", flags->table, "Delta table: a directory, or s3://bucket/prefix")
      ->required();
  app->add_option("--since", flags->since,
                  "window start: RFC 3339 or a duration back from now (24h, 7d) [no bound]");
  app->add_option("--until", flags->until, "window end (same forms) [no bound]");
  app->add_option("--now", flags->now,
                  "the instant staleness and relative times count from (RFC 3339) [the clock]");
  app->add_option("--sla", flags->sla,
                  "TOML file of per-pipeline objectives: [default] and [pipeline.NAME] with "
                  "max_run_duration, max_staleness");
  app->add_option("--pipeline", flags->pipelines, "only these pipeline(s)");
  app->add_option("--format", flags->format, "text, json, ndjson or csv [text]");
  app->add_option("--runs", flags->runs, "list the latest N runs of each pipeline (json) [0]");
  app->add_option("--top-stages", flags->top_stages, "failing stages listed per pipeline [5]");
  app->add_option("--bucket", flags->bucket,
                  "add a timeline of events/failures per bucket of this width (1h) (json)");
  app->add_option("--threads", flags->threads,
                  "threads scanning files (the answer is the same) [cores, at most 4]")
      ->check(CLI::Range(1, 64));
  app->add_flag("--explain", flags->explain, "print the scan summary on stderr");
  return Command{app, [flags] { return RunReport(*flags); }};
}

}  // namespace lakelog::cli
