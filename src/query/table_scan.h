// Reads the rows of a pipeline_logs Delta table back: the snapshot's active files through our
// Parquet reader, with the partition values from the log (the log is the truth, not the
// directory names). Used by `lakelog demo`'s summary and by tests; meant for modest tables.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::query {

// One row as read back. Strings are null when absent.
struct ScannedRow {
  std::optional<std::string> pipeline;
  std::optional<std::string> log_date;
  std::optional<int64_t> ts_micros;
  std::optional<std::string> level;
  std::optional<std::string> stage;
  std::optional<std::string> status;
  std::optional<std::string> message;
  std::optional<std::string> run_id;
  std::optional<std::string> host;
  std::map<std::string, std::string> attributes;
};

// Calls `visit` for every row of every active file of `snapshot`. Stops at the first error.
Status ScanTable(FileSystem* fs, const std::string& root, const DeltaSnapshot& snapshot,
                 const std::function<void(const ScannedRow&)>& visit);

struct StageFailures {
  std::string stage;
  int64_t failures = 0;
};

// The demo's per-pipeline summary, computed from the rows of the table.
struct PipelineSummary {
  std::string pipeline;  // "" for the null pipeline
  int64_t total = 0;
  int64_t failures = 0;                           // status == "FAILED"
  int64_t successes = 0;                          // status == "SUCCESS"
  std::vector<StageFailures> top_failing_stages;  // most failures first, at most 3
  // successes / (successes + failures); 1 when neither occurs.
  double SuccessRate() const;
};

Result<std::vector<PipelineSummary>> SummarizePipelines(FileSystem* fs, const std::string& root);

}  // namespace lakelog::query
