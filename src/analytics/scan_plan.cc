#include "analytics/scan_plan.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "analytics/time_spec.h"
#include "lakelog/event.h"

namespace lakelog::analytics {
namespace {

// Delta writers cut string statistics to 32 characters; a maximum that long may be a cut one
// with a tie-breaker appended, so it bounds nothing we can rely on.
constexpr size_t kTrustedMaxLength = 32;

std::optional<std::string> PartitionValue(const DeltaAddFile& file, const char* column) {
  auto it = file.partition_values.find(column);
  if (it == file.partition_values.end()) return std::nullopt;
  return it->second;
}

const nlohmann::json* Field(const nlohmann::json& stats, const char* section, const char* column) {
  auto s = stats.find(section);
  if (s == stats.end() || !s->is_object()) return nullptr;
  auto c = s->find(column);
  return c == s->end() ? nullptr : &*c;
}

// True when the stats prove that no row's `column` equals any of `set`.
bool ExcludedBy(const nlohmann::json& stats, const char* column, const ValueSet& set) {
  if (!set.active()) return false;
  const nlohmann::json* nulls = Field(stats, "nullCount", column);
  auto records = stats.find("numRecords");
  if (nulls != nullptr && nulls->is_number_integer() && records != stats.end() &&
      records->is_number_integer() && nulls->get<int64_t>() == records->get<int64_t>()) {
    return true;  // every value is null, and null matches nothing
  }
  const nlohmann::json* min = Field(stats, "minValues", column);
  const nlohmann::json* max = Field(stats, "maxValues", column);
  const std::string* lo =
      min != nullptr && min->is_string() ? min->get_ptr<const std::string*>() : nullptr;
  const std::string* hi =
      max != nullptr && max->is_string() ? max->get_ptr<const std::string*>() : nullptr;
  if (hi != nullptr && hi->size() >= kTrustedMaxLength) hi = nullptr;
  if (lo == nullptr && hi == nullptr) return false;
  for (const std::string& v : set.values) {
    const bool below = lo != nullptr && v < *lo;
    const bool above = hi != nullptr && v > *hi;
    if (!below && !above) return false;
  }
  return true;
}

std::optional<int64_t> TsStat(const nlohmann::json& stats, const char* section) {
  const nlohmann::json* v = Field(stats, section, "ts");
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return ParseRfc3339(v->get<std::string>());
}

}  // namespace

Result<std::vector<std::string>> ParseLevels(const std::vector<std::string>& values) {
  static const std::vector<std::string> kLevels = {"TRACE", "DEBUG", "INFO",
                                                   "WARN",  "ERROR", "FATAL"};
  std::vector<std::string> out;
  for (const std::string& value : values) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string level = value.substr(start, comma - start);
      start = comma + 1;
      if (level.empty()) continue;
      const bool and_above = level.back() == '+';
      if (and_above) level.pop_back();
      std::transform(level.begin(), level.end(), level.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (level == "WARNING") level = "WARN";
      auto it = std::find(kLevels.begin(), kLevels.end(), level);
      if (it == kLevels.end()) {
        return Status::InvalidArgument("level '" + level +
                                       "': expected TRACE, DEBUG, INFO, WARN, ERROR or FATAL, "
                                       "optionally with + for that level and above");
      }
      for (auto l = it; l != (and_above ? kLevels.end() : it + 1); ++l) {
        if (std::find(out.begin(), out.end(), *l) == out.end()) out.push_back(*l);
      }
    }
  }
  return out;
}

bool ValueSet::Contains(std::string_view value) const {
  for (const std::string& v : values) {
    if (v == value) return true;
  }
  return false;
}

std::vector<PlannedFile> PlanScan(const DeltaSnapshot& snapshot, const RowFilter& filter,
                                  ScanStats* stats) {
  std::vector<PlannedFile> out;
  // log_date is the UTC date of ts, so the time bounds prune whole days.
  const std::optional<std::string> first_day =
      filter.since_micros ? std::optional(FormatDate(DaysFromMicros(*filter.since_micros)))
                          : std::nullopt;
  const std::optional<std::string> last_day =
      filter.until_micros ? std::optional(FormatDate(DaysFromMicros(*filter.until_micros)))
                          : std::nullopt;
  for (const DeltaAddFile& file : snapshot.files) {
    ++stats->files_total;
    PlannedFile planned;
    planned.file = &file;
    planned.pipeline = PartitionValue(file, "pipeline");
    if (filter.pipelines.active() &&
        (!planned.pipeline || !filter.pipelines.Contains(*planned.pipeline))) {
      ++stats->files_pruned_by_partition;
      continue;
    }
    // Dates compare as text: both are YYYY-MM-DD.
    std::optional<std::string> date = PartitionValue(file, "log_date");
    if (date && date->size() == 10 &&
        ((first_day && *date < *first_day) || (last_day && *date > *last_day))) {
      ++stats->files_pruned_by_partition;
      continue;
    }
    if (file.stats) {
      nlohmann::json parsed = nlohmann::json::parse(*file.stats, nullptr, false);
      if (parsed.is_object()) {
        planned.min_ts = TsStat(parsed, "minValues");
        planned.max_ts = TsStat(parsed, "maxValues");
        if (planned.max_ts) *planned.max_ts += 999;  // cut to milliseconds
        const bool skip =
            (filter.since_micros && planned.max_ts && *planned.max_ts < *filter.since_micros) ||
            (filter.until_micros && planned.min_ts && *planned.min_ts > *filter.until_micros) ||
            ExcludedBy(parsed, "stage", filter.stages) ||
            ExcludedBy(parsed, "status", filter.statuses) ||
            ExcludedBy(parsed, "level", filter.levels) ||
            ExcludedBy(parsed, "run_id", filter.run_ids);
        if (skip) {
          ++stats->files_skipped_by_stats;
          continue;
        }
      }
    }
    out.push_back(std::move(planned));
  }
  return out;
}

}  // namespace lakelog::analytics
