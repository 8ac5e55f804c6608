#include "analytics/report.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>
#include <unordered_map>

#include "analytics/row_matcher.h"
#include "analytics/time_spec.h"
#include "parquet/columnar_reader.h"
#include "query/log_columns.h"

namespace lakelog::analytics {
namespace {

using parquet::ColumnVector;
using parquet::VectorLayout;
using query::LogColumn;
using query::LogColumnReader;

// A row's status, ordered so that the larger wins a tie at a run's last instant.
enum Rank : uint8_t { kOther = 0, kSuccess = 1, kFailed = 2 };

Rank RankOf(std::string_view status) {
  if (status == "FAILED") return kFailed;
  if (status == "SUCCESS") return kSuccess;
  return kOther;
}

bool IsError(std::string_view level) { return level == "ERROR" || level == "FATAL"; }

struct RunAcc {
  bool has_ts = false;
  int64_t start = 0;
  int64_t end = 0;
  int64_t events = 0;
  Rank last = kOther;
};

struct PipelineAcc {
  int64_t events = 0, failures = 0, successes = 0, errors = 0;
  std::unordered_map<std::string, int64_t> stage_failures;
  int64_t null_stage_failures = 0;
  std::optional<int64_t> last;
  std::unordered_map<std::string, RunAcc> runs;
  std::unordered_map<int64_t, TimelineBucket> buckets;
};

// Per-slot classification of a string column: through a per-dictionary-entry table when the
// chunk is dictionary-encoded, else by calling `classify` on the row's bytes.
template <typename T>
class Classifier {
 public:
  Classifier(const ColumnVector* column, T (*classify)(std::string_view), T null_value)
      : column_(column), classify_(classify), null_(null_value) {
    if (column_ != nullptr && column_->layout() == VectorLayout::kDictionary) {
      const parquet::ByteArrayBuffer& dictionary = column_->dictionary();
      table_.reserve(dictionary.size());
      for (size_t i = 0; i < dictionary.size(); ++i) table_.push_back(classify(dictionary.Get(i)));
    }
  }
  T operator()(size_t row) const {
    if (column_ == nullptr || !column_->IsValid(row)) return null_;
    return table_.empty() ? classify_(column_->GetBytes(row)) : table_[column_->indices()[row]];
  }

 private:
  const ColumnVector* column_;
  T (*classify_)(std::string_view);
  T null_;
  std::vector<T> table_;
};

int64_t FloorTo(int64_t value, int64_t width) {
  int64_t q = value / width;
  if (value % width != 0 && value < 0) --q;
  return q * width;
}

void AddRowGroup(const LogColumnReader& reader, const std::vector<uint32_t>& selected,
                 int64_t bucket_micros, PipelineAcc* acc) {
  const ColumnVector* ts = reader.Get(LogColumn::kTs);
  const ColumnVector* stage = reader.Get(LogColumn::kStage);
  const ColumnVector* run_id = reader.Get(LogColumn::kRunId);
  const Classifier<Rank> status(reader.Get(LogColumn::kStatus), &RankOf, kOther);
  const Classifier<bool> error(reader.Get(LogColumn::kLevel), &IsError, false);
  const bool stage_dict = stage != nullptr && stage->layout() == VectorLayout::kDictionary;
  std::vector<int64_t> stage_counts(stage_dict ? stage->dictionary().size() : 0, 0);
  const bool run_dict = run_id != nullptr && run_id->layout() == VectorLayout::kDictionary;
  std::vector<RunAcc*> run_slots(run_dict ? run_id->dictionary().size() : 0, nullptr);
  TimelineBucket* bucket = nullptr;

  for (uint32_t row : selected) {
    ++acc->events;
    const Rank rank = status(row);
    if (rank == kFailed) {
      ++acc->failures;
      if (stage == nullptr || !stage->IsValid(row)) {
        ++acc->null_stage_failures;
      } else if (stage_dict) {
        ++stage_counts[stage->indices()[row]];
      } else {
        ++acc->stage_failures[std::string(stage->GetBytes(row))];
      }
    } else if (rank == kSuccess) {
      ++acc->successes;
    }
    if (error(row)) ++acc->errors;
    const bool has_ts = ts != nullptr && ts->IsValid(row);
    const int64_t t = has_ts ? ts->int64s()[row] : 0;
    if (has_ts) {
      if (!acc->last || t > *acc->last) acc->last = t;
      if (bucket_micros > 0) {
        const int64_t start = FloorTo(t, bucket_micros);
        if (bucket == nullptr || bucket->start_micros != start) {
          bucket = &acc->buckets[start];
          bucket->start_micros = start;
        }
        ++bucket->events;
        bucket->failures += rank == kFailed;
        bucket->successes += rank == kSuccess;
      }
    }
    if (run_id == nullptr || !run_id->IsValid(row)) continue;
    RunAcc* run;
    if (run_dict) {
      RunAcc*& slot = run_slots[run_id->indices()[row]];
      if (slot == nullptr) slot = &acc->runs[std::string(run_id->GetBytes(row))];
      run = slot;
    } else {
      run = &acc->runs[std::string(run_id->GetBytes(row))];
    }
    ++run->events;
    if (!has_ts) continue;
    if (!run->has_ts) {
      run->has_ts = true;
      run->start = run->end = t;
      run->last = rank;
    } else {
      run->start = std::min(run->start, t);
      if (t > run->end) {
        run->end = t;
        run->last = rank;
      } else if (t == run->end) {
        run->last = std::max(run->last, rank);
      }
    }
  }
  for (size_t i = 0; i < stage_counts.size(); ++i) {
    if (stage_counts[i] != 0) {
      acc->stage_failures[std::string(stage->dictionary().Get(i))] += stage_counts[i];
    }
  }
}

// Folds `from` (another worker's totals of the same pipeline) into `into`.
void Merge(PipelineAcc&& from, PipelineAcc* into) {
  into->events += from.events;
  into->failures += from.failures;
  into->successes += from.successes;
  into->errors += from.errors;
  into->null_stage_failures += from.null_stage_failures;
  for (auto& [stage, n] : from.stage_failures) into->stage_failures[stage] += n;
  if (from.last && (!into->last || *from.last > *into->last)) into->last = from.last;
  for (auto& [id, run] : from.runs) {
    RunAcc& r = into->runs[id];
    r.events += run.events;
    if (!run.has_ts) continue;
    if (!r.has_ts) {
      r.has_ts = true;
      r.start = run.start;
      r.end = run.end;
      r.last = run.last;
      continue;
    }
    r.start = std::min(r.start, run.start);
    if (run.end > r.end) {
      r.end = run.end;
      r.last = run.last;
    } else if (run.end == r.end) {
      r.last = std::max(r.last, run.last);
    }
  }
  for (auto& [start, bucket] : from.buckets) {
    TimelineBucket& b = into->buckets[start];
    b.start_micros = start;
    b.events += bucket.events;
    b.failures += bucket.failures;
    b.successes += bucket.successes;
  }
}

void AddStats(const ScanStats& from, ScanStats* into) {
  into->files_read += from.files_read;
  into->bytes_read += from.bytes_read;
  into->row_groups_read += from.row_groups_read;
  into->rows_scanned += from.rows_scanned;
  into->rows_matched += from.rows_matched;
}

using Totals = std::map<std::optional<std::string>, PipelineAcc>;

// Scans files[next++] until none is left, into its own totals. Returns the first error.
Status ScanFiles(FileSystem* fs, const std::string& root, const std::vector<PlannedFile>& files,
                 const RowFilter& filter, int64_t bucket_micros, std::atomic<size_t>* next,
                 std::atomic<bool>* failed, Totals* totals, ScanStats* stats) {
  const std::vector<LogColumn> columns = {LogColumn::kTs, LogColumn::kLevel, LogColumn::kStage,
                                          LogColumn::kStatus, LogColumn::kRunId};
  std::vector<uint32_t> selected;
  for (size_t i = next->fetch_add(1); i < files.size() && !failed->load(); i = next->fetch_add(1)) {
    const PlannedFile& planned = files[i];
    auto opened = parquet::ParquetFile::Open(fs, JoinPath(root, planned.file->path));
    if (!opened.ok()) return opened.status().WithContext(planned.file->path);
    ++stats->files_read;
    stats->bytes_read += planned.file->size;
    LogColumnReader reader(opened->get(), columns);
    PipelineAcc& acc = (*totals)[planned.pipeline];
    for (int rg = 0; rg < (*opened)->num_row_groups(); ++rg) {
      Status s = reader.Read(rg);
      if (!s.ok()) return s.WithContext(planned.file->path);
      const size_t rows = static_cast<size_t>((*opened)->RowGroupNumRows(rg));
      ++stats->row_groups_read;
      stats->rows_scanned += static_cast<int64_t>(rows);
      SelectRows(filter, reader, rows, &selected);
      stats->rows_matched += static_cast<int64_t>(selected.size());
      AddRowGroup(reader, selected, bucket_micros, &acc);
    }
  }
  return Status::OK();
}

std::string Percent(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", ratio * 100);
  return buf;
}

std::string Name(const std::optional<std::string>& pipeline) {
  return pipeline ? *pipeline : "(null pipeline)";
}

PipelineReport Finish(const std::optional<std::string>& name, PipelineAcc& acc,
                      const ReportOptions& options) {
  PipelineReport out;
  out.pipeline = name;
  out.events = acc.events;
  out.failures = acc.failures;
  out.successes = acc.successes;
  out.errors = acc.errors;
  if (acc.successes + acc.failures > 0) {
    out.success_rate =
        static_cast<double>(acc.successes) / static_cast<double>(acc.successes + acc.failures);
  }
  if (acc.null_stage_failures > 0) {
    out.top_failing_stages.push_back({std::nullopt, acc.null_stage_failures});
  }
  for (auto& [stage, n] : acc.stage_failures) out.top_failing_stages.push_back({stage, n});
  std::sort(out.top_failing_stages.begin(), out.top_failing_stages.end(),
            [](const StageFailureCount& a, const StageFailureCount& b) {
              if (a.failures != b.failures) return a.failures > b.failures;
              return a.stage < b.stage;  // nullopt first
            });
  if (out.top_failing_stages.size() > options.top_stages) {
    out.top_failing_stages.resize(options.top_stages);
  }
  out.last_event_micros = acc.last;
  if (acc.last) out.staleness_micros = std::max<int64_t>(0, options.now_micros - *acc.last);

  out.sla = options.sla.For(name);
  const bool has_sla = !out.sla.empty();
  if (has_sla) {
    out.runs_met = 0;
    out.runs_breached = 0;
  }
  std::vector<RunSummary> runs;
  runs.reserve(acc.runs.size());
  for (auto& [id, run] : acc.runs) {
    RunSummary r;
    r.run_id = id;
    r.events = run.events;
    r.start_micros = run.start;
    r.end_micros = run.end;
    r.outcome = !run.has_ts            ? RunOutcome::kRunning
                : run.last == kFailed  ? RunOutcome::kFailed
                : run.last == kSuccess ? RunOutcome::kSuccess
                                       : RunOutcome::kRunning;
    ++out.runs;
    if (r.outcome == RunOutcome::kSuccess) ++out.runs_succeeded;
    if (r.outcome == RunOutcome::kFailed) ++out.runs_failed;
    if (r.outcome == RunOutcome::kRunning) ++out.runs_running;
    if (has_sla) {
      const std::optional<int64_t>& max = out.sla.max_run_duration_micros;
      if (r.outcome == RunOutcome::kFailed) {
        r.sla = SlaVerdict::kBreached;
      } else if (r.outcome == RunOutcome::kSuccess) {
        r.sla = max && r.duration_micros() > *max ? SlaVerdict::kBreached : SlaVerdict::kMet;
      } else {
        r.sla = max && run.has_ts && options.now_micros - r.start_micros > *max
                    ? SlaVerdict::kBreached
                    : SlaVerdict::kPending;
      }
      if (r.sla == SlaVerdict::kMet) ++*out.runs_met;
      if (r.sla == SlaVerdict::kBreached) ++*out.runs_breached;
    }
    if (r.outcome != RunOutcome::kRunning &&
        (!out.last_finished_run || r.end_micros > out.last_finished_run->end_micros ||
         (r.end_micros == out.last_finished_run->end_micros &&
          r.run_id > out.last_finished_run->run_id))) {
      out.last_finished_run = r;
    }
    runs.push_back(std::move(r));
  }
  if (has_sla && *out.runs_met + *out.runs_breached > 0) {
    out.sla_compliance = static_cast<double>(*out.runs_met) /
                         static_cast<double>(*out.runs_met + *out.runs_breached);
  }
  if (options.runs_listed > 0) {
    std::sort(runs.begin(), runs.end(), [](const RunSummary& a, const RunSummary& b) {
      return a.end_micros != b.end_micros ? a.end_micros > b.end_micros : a.run_id > b.run_id;
    });
    if (runs.size() > options.runs_listed) runs.resize(options.runs_listed);
    out.recent_runs = std::move(runs);
  }
  for (auto& [start, bucket] : acc.buckets) out.timeline.push_back(bucket);
  std::sort(out.timeline.begin(), out.timeline.end(),
            [](const TimelineBucket& a, const TimelineBucket& b) {
              return a.start_micros < b.start_micros;
            });

  // State, worst first.
  if (out.sla.max_staleness_micros && out.staleness_micros) {
    out.fresh = *out.staleness_micros <= *out.sla.max_staleness_micros;
  }
  if (out.events == 0) {
    out.state = PipelineState::kNoData;
    out.attention = "no events in the window";
  } else if (out.fresh && !*out.fresh) {
    out.state = PipelineState::kStale;
    out.attention = "stale: last event " + FormatDuration(*out.staleness_micros) + " ago (SLA " +
                    FormatDuration(*out.sla.max_staleness_micros) + ")";
  } else if (out.runs_breached && *out.runs_breached > 0) {
    out.state = PipelineState::kBreaching;
    out.attention = std::to_string(*out.runs_breached) + " of " +
                    std::to_string(*out.runs_met + *out.runs_breached) +
                    " finished or overdue runs outside the SLA";
  } else if (out.last_finished_run && out.last_finished_run->outcome == RunOutcome::kFailed) {
    out.state = PipelineState::kFailing;
    out.attention = "latest run " + out.last_finished_run->run_id + " FAILED";
  }
  return out;
}

}  // namespace

const char* OutcomeName(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kSuccess: return "SUCCESS";
    case RunOutcome::kFailed: return "FAILED";
    case RunOutcome::kRunning: return "RUNNING";
  }
  return "RUNNING";
}

const char* VerdictName(SlaVerdict verdict) {
  switch (verdict) {
    case SlaVerdict::kMet: return "met";
    case SlaVerdict::kBreached: return "breached";
    case SlaVerdict::kPending: return "pending";
    case SlaVerdict::kNone: return "";
  }
  return "";
}

const char* StateName(PipelineState state) {
  switch (state) {
    case PipelineState::kStale: return "stale";
    case PipelineState::kNoData: return "no_data";
    case PipelineState::kBreaching: return "breaching";
    case PipelineState::kFailing: return "failing";
    case PipelineState::kOk: return "ok";
  }
  return "ok";
}

Result<Report> BuildReport(FileSystem* fs, const std::string& root, const DeltaSnapshot& snapshot,
                           const ReportOptions& options) {
  Report report;
  report.table_version = snapshot.version;
  report.now_micros = options.now_micros;
  report.since_micros = options.since_micros;
  report.until_micros = options.until_micros;
  report.bucket_micros = options.bucket_micros;
  RowFilter filter;
  filter.pipelines = options.pipelines;
  filter.since_micros = options.since_micros;
  filter.until_micros = options.until_micros;
  std::vector<PlannedFile> files = PlanScan(snapshot, filter, &report.stats);

  Totals by_pipeline;
  // Pipelines the SLA file names are reported even when silent.
  for (const auto& [name, sla] : options.sla.pipelines) {
    if (!options.pipelines.active() || options.pipelines.Contains(name)) by_pipeline[name];
  }
  // Files are shared out to `threads` workers, each with totals of its own, merged at the end.
  const size_t threads = std::max<size_t>(1, std::min(options.threads, files.size()));
  std::vector<Totals> partial(threads);
  std::vector<ScanStats> stats(threads);
  std::vector<Status> results(threads);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&](size_t w) {
    results[w] = ScanFiles(fs, root, files, filter, options.bucket_micros, &next, &failed,
                           &partial[w], &stats[w]);
    if (!results[w].ok()) failed = true;
  };
  std::vector<std::thread> workers;
  for (size_t w = 1; w < threads; ++w) workers.emplace_back(work, w);
  work(0);
  for (std::thread& t : workers) t.join();
  for (size_t w = 0; w < threads; ++w) {
    if (!results[w].ok()) return results[w];
    AddStats(stats[w], &report.stats);
    for (auto& [name, acc] : partial[w]) Merge(std::move(acc), &by_pipeline[name]);
  }
  for (auto& [name, acc] : by_pipeline) {
    report.pipelines.push_back(Finish(name, acc, options));
    const PipelineReport& p = report.pipelines.back();
    report.events += p.events;
    report.failures += p.failures;
    report.successes += p.successes;
  }
  std::stable_sort(report.pipelines.begin(), report.pipelines.end(),
                   [](const PipelineReport& a, const PipelineReport& b) {
                     if (a.state != b.state) return a.state < b.state;
                     const double ra = a.success_rate.value_or(1), rb = b.success_rate.value_or(1);
                     if (ra != rb) return ra < rb;
                     return a.failures > b.failures;
                   });
  std::vector<std::string> attention;
  for (const PipelineReport& p : report.pipelines) {
    if (p.state != PipelineState::kOk) attention.push_back(Name(p.pipeline) + " " + p.attention);
  }
  report.healthy = attention.empty();
  std::string totals = std::to_string(report.pipelines.size()) + " pipelines, " +
                       std::to_string(report.events) + " events, " +
                       std::to_string(report.failures) + " failures";
  if (report.successes + report.failures > 0) {
    totals += " (" +
              Percent(static_cast<double>(report.successes) /
                      static_cast<double>(report.successes + report.failures)) +
              " success)";
  }
  if (report.healthy) {
    report.health = "HEALTHY: " + totals + "; no pipeline stale, failing or outside its SLA";
  } else {
    report.health = "UNHEALTHY: " + std::to_string(attention.size()) + " of " +
                    std::to_string(report.pipelines.size()) + " pipelines need attention: ";
    for (size_t i = 0; i < attention.size(); ++i) {
      report.health += (i ? "; " : "") + attention[i];
    }
    report.health += " (" + totals + ")";
  }
  return report;
}

}  // namespace lakelog::analytics
