#include "analytics/output.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analytics/time_spec.h"
#include "common/timestamp.h"

namespace lakelog::analytics {
namespace {

using nlohmann::json;

constexpr const char* kEventColumns[] = {"ts",     "pipeline", "level", "stage",
                                         "status", "run_id",   "host",  "message"};

// A JSON string literal of `text` (invalid UTF-8 is replaced, never passed through).
void AppendJsonString(std::string_view text, std::string* out) {
  out->append(json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace));
}

void AppendJsonValue(const std::optional<std::string>& value, std::string* out) {
  if (value) {
    AppendJsonString(*value, out);
  } else {
    out->append("null");
  }
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::optional<std::string> TsText(const std::optional<int64_t>& micros) {
  if (!micros) return std::nullopt;
  return FormatRfc3339Micros(*micros);
}

// The fields of an event in kEventColumns order.
std::vector<std::optional<std::string>> Fields(const EventRow& row) {
  return {TsText(row.ts_micros),
          row.pipeline,
          row.level,
          row.stage,
          row.status,
          row.run_id,
          row.host,
          row.message};
}

// {"key":"value",...}: an event's attributes as one JSON object, in the row's order.
void AppendAttributesObject(const EventRow& row, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [key, value] : row.attributes) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(key, out);
    out->push_back(':');
    AppendJsonString(value, out);
  }
  out->push_back('}');
}

void AppendEventObject(const EventRow& row, std::string* out) {
  std::vector<std::optional<std::string>> fields = Fields(row);
  out->push_back('{');
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out->push_back(',');
    out->push_back('"');
    out->append(kEventColumns[i]);
    out->append("\":");
    AppendJsonValue(fields[i], out);
  }
  out->append(",\"log_date\":");
  AppendJsonValue(row.log_date, out);
  out->append(",\"attributes\":");
  AppendAttributesObject(row, out);
  out->push_back('}');
}

// Text cells stay on one line.
std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  std::replace(text.begin(), text.end(), '\t', ' ');
  return text;
}

// Display width of UTF-8 text: code points (wide characters are rare in log fields).
size_t Width(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

void WriteTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<size_t> widths(header.size());
  for (size_t c = 0; c < header.size(); ++c) widths[c] = Width(header[c]);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], Width(row[c]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size()) text.append(widths[c] - Width(cells[c]) + 2, ' ');
    }
    out << text << '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
}

std::string Percent(const std::optional<double>& ratio) {
  if (!ratio) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", *ratio * 100);
  return buf;
}

json OptionalJson(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
template <typename T>
json OptionalNumber(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}
json Seconds(const std::optional<int64_t>& micros) {
  return micros ? json(static_cast<double>(*micros) / kMicrosPerSecond) : json(nullptr);
}
json Instant(const std::optional<int64_t>& micros) {
  return micros ? json(FormatRfc3339Micros(*micros)) : json(nullptr);
}

json RunJson(const RunSummary& run) {
  json out = {{"run_id", run.run_id},
              {"start", FormatRfc3339Micros(run.start_micros)},
              {"end", FormatRfc3339Micros(run.end_micros)},
              {"duration_seconds", static_cast<double>(run.duration_micros()) / kMicrosPerSecond},
              {"events", run.events},
              {"outcome", OutcomeName(run.outcome)}};
  out["sla"] = run.sla == SlaVerdict::kNone ? json(nullptr) : json(VerdictName(run.sla));
  return out;
}

json PipelineJson(const PipelineReport& p) {
  json stages = json::array();
  for (const StageFailureCount& s : p.top_failing_stages) {
    stages.push_back({{"stage", OptionalJson(s.stage)}, {"failures", s.failures}});
  }
  json runs = json::array();
  for (const RunSummary& r : p.recent_runs) runs.push_back(RunJson(r));
  json timeline = json::array();
  for (const TimelineBucket& b : p.timeline) {
    timeline.push_back({{"start", FormatRfc3339Micros(b.start_micros)},
                        {"events", b.events},
                        {"failures", b.failures},
                        {"successes", b.successes}});
  }
  return {
      {"pipeline", OptionalJson(p.pipeline)},
      {"state", StateName(p.state)},
      {"attention", p.attention},
      {"events", p.events},
      {"failures", p.failures},
      {"successes", p.successes},
      {"errors", p.errors},
      {"success_rate", OptionalNumber(p.success_rate)},
      {"top_failing_stages", stages},
      {"last_event", Instant(p.last_event_micros)},
      {"last_event_micros", OptionalNumber(p.last_event_micros)},
      {"staleness_seconds", Seconds(p.staleness_micros)},
      {"runs",
       {{"total", p.runs},
        {"succeeded", p.runs_succeeded},
        {"failed", p.runs_failed},
        {"running", p.runs_running},
        {"met_sla", OptionalNumber(p.runs_met)},
        {"breached_sla", OptionalNumber(p.runs_breached)}}},
      {"sla", p.sla.empty()
                  ? json(nullptr)
                  : json{{"max_run_duration_seconds", Seconds(p.sla.max_run_duration_micros)},
                         {"max_staleness_seconds", Seconds(p.sla.max_staleness_micros)}}},
      {"sla_compliance", OptionalNumber(p.sla_compliance)},
      {"fresh", OptionalNumber(p.fresh)},
      {"last_finished_run", p.last_finished_run ? RunJson(*p.last_finished_run) : json(nullptr)},
      {"recent_runs", runs},
      {"timeline", timeline},
  };
}

json ScanJson(const ScanStats& s) {
  return {{"files_total", s.files_total},
          {"files_pruned_by_partition", s.files_pruned_by_partition},
          {"files_skipped_by_stats", s.files_skipped_by_stats},
          {"files_skipped_by_limit", s.files_skipped_by_limit},
          {"files_read", s.files_read},
          {"row_groups_read", s.row_groups_read},
          {"row_groups_skipped", s.row_groups_skipped},
          {"rows_scanned", s.rows_scanned},
          {"rows_matched", s.rows_matched},
          {"bytes_read", s.bytes_read}};
}

std::string Dump(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string StagesText(const PipelineReport& p) {
  std::string out;
  for (const StageFailureCount& s : p.top_failing_stages) {
    if (!out.empty()) out += ", ";
    out += (s.stage ? *s.stage : "(null)") + " (" + std::to_string(s.failures) + ")";
  }
  return out.empty() ? "-" : out;
}

std::string StagesCsv(const PipelineReport& p) {
  std::string out;
  for (const StageFailureCount& s : p.top_failing_stages) {
    if (!out.empty()) out += ";";
    out += (s.stage ? *s.stage : "") + ":" + std::to_string(s.failures);
  }
  return out;
}

template <typename T>
std::string OrDash(const std::optional<T>& v) {
  return v ? std::to_string(*v) : "-";
}

}  // namespace

bool ParseOutputFormat(const std::string& text, OutputFormat* out) {
  if (text == "text")
    *out = OutputFormat::kText;
  else if (text == "json")
    *out = OutputFormat::kJson;
  else if (text == "ndjson")
    *out = OutputFormat::kNdjson;
  else if (text == "csv")
    *out = OutputFormat::kCsv;
  else
    return false;
  return true;
}

std::string EventsJson(const EventQueryResult& result) {
  std::string out = "[";
  for (size_t i = 0; i < result.rows.size(); ++i) {
    if (i) out += ",\n ";
    AppendEventObject(result.rows[i], &out);
  }
  out += "]";
  return out;
}

void WriteEvents(const EventQueryResult& result, OutputFormat format, std::ostream& out) {
  switch (format) {
    case OutputFormat::kJson: out << EventsJson(result) << '\n'; return;
    case OutputFormat::kNdjson: {
      std::string line;
      for (const EventRow& row : result.rows) {
        line.clear();
        AppendEventObject(row, &line);
        out << line << '\n';
      }
      return;
    }
    case OutputFormat::kCsv: {
      std::string line;
      for (const char* c : kEventColumns) line += std::string(line.empty() ? "" : ",") + c;
      // attributes: one JSON object per row ({} when there are none), quoted as CSV.
      out << line << ",log_date,attributes\n";
      std::string attributes;
      for (const EventRow& row : result.rows) {
        line.clear();
        bool first = true;
        for (const auto& field : Fields(row)) {
          if (!first) line += ',';
          first = false;
          if (field) line += CsvField(*field);
        }
        attributes.clear();
        AppendAttributesObject(row, &attributes);
        out << line << ',' << (row.log_date ? *row.log_date : "") << ',' << CsvField(attributes)
            << '\n';
      }
      return;
    }
    case OutputFormat::kText: {
      std::vector<std::vector<std::string>> rows;
      rows.reserve(result.rows.size());
      for (const EventRow& row : result.rows) {
        std::vector<std::string> cells;
        for (const auto& field : Fields(row)) cells.push_back(OneLine(field.value_or("-")));
        std::string attributes;
        if (!row.attributes.empty()) AppendAttributesObject(row, &attributes);
        cells.push_back(attributes.empty() ? "-" : OneLine(attributes));
        rows.push_back(std::move(cells));
      }
      WriteTable(
          {"TS", "PIPELINE", "LEVEL", "STAGE", "STATUS", "RUN_ID", "HOST", "MESSAGE", "ATTRIBUTES"},
          rows, out);
      return;
    }
  }
}

std::string DescribeScan(const ScanStats& s) {
  std::ostringstream out;
  out << "files: " << s.files_total << " in table, " << s.files_read << " read, "
      << s.files_pruned_by_partition << " pruned by partition, " << s.files_skipped_by_stats
      << " skipped by stats";
  if (s.files_skipped_by_limit > 0) out << ", " << s.files_skipped_by_limit << " skipped by limit";
  out << "; row groups: " << s.row_groups_read << " read, " << s.row_groups_skipped
      << " skipped; rows: " << s.rows_scanned << " scanned, " << s.rows_matched << " matched; "
      << s.bytes_read << " bytes";
  return out.str();
}

std::string DescribeScanJson(const ScanStats& stats) { return Dump(ScanJson(stats), -1); }

std::string ReportJson(const Report& report) {
  json pipelines = json::array();
  for (const PipelineReport& p : report.pipelines) pipelines.push_back(PipelineJson(p));
  json out = {
      {"table_version", report.table_version},
      {"now", FormatRfc3339Micros(report.now_micros)},
      {"since", Instant(report.since_micros)},
      {"until", Instant(report.until_micros)},
      {"bucket_seconds", report.bucket_micros > 0
                             ? json(static_cast<double>(report.bucket_micros) / kMicrosPerSecond)
                             : json(nullptr)},
      {"healthy", report.healthy},
      {"health", report.health},
      {"events", report.events},
      {"failures", report.failures},
      {"successes", report.successes},
      {"pipelines", pipelines},
      {"scan", ScanJson(report.stats)}};
  return Dump(out, 2);
}

void WriteReport(const Report& report, OutputFormat format, std::ostream& out) {
  switch (format) {
    case OutputFormat::kJson: out << ReportJson(report) << '\n'; return;
    case OutputFormat::kNdjson:
      for (const PipelineReport& p : report.pipelines) out << Dump(PipelineJson(p), -1) << '\n';
      return;
    case OutputFormat::kCsv:
      out << "pipeline,state,events,failures,successes,errors,success_rate,top_failing_stages,"
             "last_event,staleness_seconds,runs,runs_succeeded,runs_failed,runs_running,"
             "runs_met_sla,runs_breached_sla,sla_compliance,fresh\n";
      for (const PipelineReport& p : report.pipelines) {
        auto opt_double = [](const std::optional<double>& v) {
          return v ? Dump(json(*v), -1) : std::string();
        };
        auto opt_int = [](const std::optional<int64_t>& v) {
          return v ? std::to_string(*v) : std::string();
        };
        out << CsvField(p.pipeline.value_or("")) << ',' << StateName(p.state) << ',' << p.events
            << ',' << p.failures << ',' << p.successes << ',' << p.errors << ','
            << opt_double(p.success_rate) << ',' << CsvField(StagesCsv(p)) << ','
            << TsText(p.last_event_micros).value_or("") << ','
            << (p.staleness_micros
                    ? Dump(json(static_cast<double>(*p.staleness_micros) / kMicrosPerSecond), -1)
                    : "")
            << ',' << p.runs << ',' << p.runs_succeeded << ',' << p.runs_failed << ','
            << p.runs_running << ',' << opt_int(p.runs_met) << ',' << opt_int(p.runs_breached)
            << ',' << opt_double(p.sla_compliance) << ','
            << (p.fresh ? (*p.fresh ? "true" : "false") : "") << '\n';
      }
      return;
    case OutputFormat::kText: {
      std::vector<std::vector<std::string>> rows;
      for (const PipelineReport& p : report.pipelines) {
        rows.push_back(
            {p.pipeline.value_or("(null)"), StateName(p.state), std::to_string(p.events),
             std::to_string(p.failures), Percent(p.success_rate), std::to_string(p.errors),
             TsText(p.last_event_micros).value_or("-"),
             p.staleness_micros ? FormatDuration(*p.staleness_micros) : "-",
             std::to_string(p.runs) + " (" + std::to_string(p.runs_succeeded) + "/" +
                 std::to_string(p.runs_failed) + "/" + std::to_string(p.runs_running) + ")",
             p.runs_met ? Percent(p.sla_compliance) + " (" + OrDash(p.runs_breached) + " breached)"
                        : "-",
             OneLine(StagesText(p))});
      }
      WriteTable({"PIPELINE", "STATE", "EVENTS", "FAILURES", "SUCCESS", "ERRORS", "LAST EVENT",
                  "AGE", "RUNS (ok/failed/running)", "SLA", "TOP FAILING STAGES"},
                 rows, out);
      out << '\n' << report.health << '\n';
      return;
    }
  }
}

}  // namespace lakelog::analytics
