// `lakelog report`: per pipeline, over the events of a time window, what an on-call engineer
// asks first: how many events and failures, the success rate, which stages fail, when the
// pipeline last logged, and how its runs (events sharing a run_id) did against the SLA.
//
// Definitions (docs/analytics.md; tests/analytics/test_report_matches_spark.py computes each
// with Spark SQL on the same table and requires equality):
//   events        rows with since <= ts <= until (every row when no window is given)
//   failures      those with status = 'FAILED'; successes: status = 'SUCCESS'
//   errors        those with level in ('ERROR', 'FATAL')
//   success_rate  successes / (successes + failures); none when both are 0
//   top stages    stages by count of FAILED rows, most first, then by name (null first)
//   last_event    max(ts); staleness = now - last_event
//   run           the rows of one (pipeline, run_id), run_id not null; duration = max(ts) -
//                 min(ts); outcome = the status of its latest row if SUCCESS or FAILED
//                 (FAILED wins a tie), else RUNNING
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/scan_plan.h"
#include "analytics/sla.h"
#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::analytics {

struct ReportOptions {
  std::optional<int64_t> since_micros;
  std::optional<int64_t> until_micros;
  int64_t now_micros = 0;
  SlaConfig sla;
  ValueSet pipelines;  // empty = every pipeline
  size_t top_stages = 5;
  // Runs listed per pipeline (the latest ones by end); the counts always cover every run.
  size_t runs_listed = 0;
  // Width of the timeline's buckets; 0 = no timeline.
  int64_t bucket_micros = 0;
  // Files are scanned by this many threads at most (the answer does not depend on it).
  size_t threads = 1;
};

enum class RunOutcome { kRunning, kSuccess, kFailed };
enum class SlaVerdict { kNone, kMet, kBreached, kPending };

struct RunSummary {
  std::string run_id;
  int64_t start_micros = 0;
  int64_t end_micros = 0;
  int64_t events = 0;
  RunOutcome outcome = RunOutcome::kRunning;
  SlaVerdict sla = SlaVerdict::kNone;
  int64_t duration_micros() const { return end_micros - start_micros; }
};

struct StageFailureCount {
  std::optional<std::string> stage;
  int64_t failures = 0;
};

struct TimelineBucket {
  int64_t start_micros = 0;
  int64_t events = 0;
  int64_t failures = 0;
  int64_t successes = 0;
};

// Worst first: the order of the dashboard's table.
enum class PipelineState { kStale, kNoData, kBreaching, kFailing, kOk };

struct PipelineReport {
  std::optional<std::string> pipeline;  // nullopt: rows whose pipeline is null
  int64_t events = 0;
  int64_t failures = 0;
  int64_t successes = 0;
  int64_t errors = 0;
  std::optional<double> success_rate;
  std::vector<StageFailureCount> top_failing_stages;
  std::optional<int64_t> last_event_micros;
  std::optional<int64_t> staleness_micros;
  // Runs (run_id not null) of the window.
  int64_t runs = 0, runs_succeeded = 0, runs_failed = 0, runs_running = 0;
  std::optional<RunSummary> last_finished_run;
  PipelineSla sla;
  // With a max_run_duration (or any SLA): runs that met it (SUCCESS within the duration) and
  // that breached it (FAILED, too long, or still running past it). nullopt without an SLA.
  std::optional<int64_t> runs_met, runs_breached;
  std::optional<double> sla_compliance;  // met / (met + breached)
  std::optional<bool> fresh;             // staleness <= max_staleness
  PipelineState state = PipelineState::kOk;
  std::string attention;                 // why the state is not ok, in words; "" when ok
  std::vector<RunSummary> recent_runs;   // the latest runs_listed runs, latest first
  std::vector<TimelineBucket> timeline;  // ascending, empty buckets left out
};

struct Report {
  int64_t table_version = -1;
  int64_t now_micros = 0;
  std::optional<int64_t> since_micros, until_micros;
  int64_t bucket_micros = 0;              // the timeline's bucket width (0: none)
  std::vector<PipelineReport> pipelines;  // worst first
  int64_t events = 0, failures = 0, successes = 0;
  bool healthy = true;
  std::string health;  // one line: "HEALTHY: ..." or "UNHEALTHY: ..."
  ScanStats stats;
};

Result<Report> BuildReport(FileSystem* fs, const std::string& root, const DeltaSnapshot& snapshot,
                           const ReportOptions& options);

const char* OutcomeName(RunOutcome outcome);
const char* VerdictName(SlaVerdict verdict);  // "" for kNone
const char* StateName(PipelineState state);

}  // namespace lakelog::analytics
