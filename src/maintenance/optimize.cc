#include "maintenance/optimize.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "delta/actions.h"
#include "delta/log_store.h"
#include "delta/partition_path.h"
#include "delta/snapshot.h"
#include "delta/stats.h"
#include "delta/table_schema.h"
#include "delta/transaction.h"
#include "maintenance/partition_filter.h"
#include "maintenance/protocol.h"
#include "parquet/file_reader.h"
#include "parquet/log_file_writer.h"

namespace lakelog::maintenance {
namespace {

using PartitionValues = std::map<std::string, std::optional<std::string>>;

// "2026-11-24" -> days since the epoch; nullopt when not a valid date.
std::optional<int32_t> ParseDay(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto num = [&text](size_t at, size_t len, auto* out) {
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + len, *out);
    return ec == std::errc() && end == text.data() + at + len;
  };
  if (!num(0, 4, &y) || !num(5, 2, &m) || !num(8, 2, &d)) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<int32_t>(std::chrono::sys_days(ymd).time_since_epoch().count());
}

std::optional<std::string> StringField(const nlohmann::json& row, const char* name, bool* exact) {
  auto it = row.find(name);
  if (it == row.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    *exact = false;
    return std::nullopt;
  }
  return it->get<std::string>();
}

// The rows of one data file as LogEvents with `pipeline`. FailedPrecondition-like
// InvalidArgument when a row cannot be held exactly (the file is then left alone).
Status ReadFileRows(FileSystem* fs, const std::string& path, const std::string& pipeline,
                    std::vector<LogEvent>* out) {
  LAKELOG_ASSIGN_OR_RETURN(std::vector<nlohmann::json> rows,
                           parquet::ReadParquetRowsAsJson(fs, path));
  out->reserve(out->size() + rows.size());
  for (const nlohmann::json& row : rows) {
    LogEvent e;
    e.pipeline = pipeline;
    bool exact = true;
    auto ts = row.find("ts");
    if (ts == row.end() || !ts->is_number_integer()) {
      return Status::InvalidArgument("a row without a timestamp");
    }
    e.ts_micros = ts->get<int64_t>();
    std::optional<std::string> level = StringField(row, "level", &exact);
    if (!level.has_value() || !ParseLevel(*level, &e.level) || LevelName(e.level) != *level) {
      return Status::InvalidArgument("a row whose level is not TRACE..FATAL");
    }
    e.stage = StringField(row, "stage", &exact);
    e.status = StringField(row, "status", &exact);
    e.message = StringField(row, "message", &exact);
    e.run_id = StringField(row, "run_id", &exact);
    e.host = StringField(row, "host", &exact);
    auto attrs = row.find("attributes");
    if (attrs != row.end() && attrs->is_object()) {
      for (auto it = attrs->begin(); it != attrs->end(); ++it) {
        if (!it.value().is_string()) return Status::InvalidArgument("a null attribute value");
        e.attributes.emplace_back(it.key(), it.value().get<std::string>());
      }
    } else if (attrs != row.end() && !attrs->is_null()) {
      exact = false;
    }
    if (!exact) return Status::InvalidArgument("a column of an unexpected type");
    out->push_back(std::move(e));
  }
  return Status::OK();
}

struct Bin {
  PartitionValues partition;
  std::vector<const DeltaAddFile*> files;
  uint64_t bytes = 0;
};

// Greedy packing of one partition's small files, smallest first, as Delta's OPTIMIZE.
void PackPartition(const PartitionValues& partition, std::vector<const DeltaAddFile*> files,
                   uint64_t target, std::vector<Bin>* bins) {
  std::stable_sort(files.begin(), files.end(), [](const DeltaAddFile* a, const DeltaAddFile* b) {
    return a->size != b->size ? a->size < b->size : a->path < b->path;
  });
  Bin bin{partition, {}, 0};
  auto close = [&] {
    if (bin.files.size() > 1) bins->push_back(std::move(bin));
    bin = Bin{partition, {}, 0};
  };
  for (const DeltaAddFile* file : files) {
    const uint64_t size = static_cast<uint64_t>(std::max<int64_t>(0, file->size));
    if (!bin.files.empty() && bin.bytes + size > target) close();
    bin.files.push_back(file);
    bin.bytes += size;
  }
  close();
}

uint64_t Percentile(const std::vector<uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace

Result<OptimizeResult> Optimize(FileSystem* fs, const std::string& root,
                                const OptimizeOptions& options) {
  if (!options.zorder_by.empty()) {
    return Status::NotSupported("Z-order (--zorder-by) is not implemented yet");
  }
  if (options.target_file_size < 1024) {
    return Status::InvalidArgument("the target file size must be at least 1024 bytes");
  }
  delta::LogStore store(fs, root);
  LAKELOG_ASSIGN_OR_RETURN(DeltaSnapshot snapshot, delta::ReplayLatest(fs, store, true));
  LAKELOG_RETURN_IF_ERROR(CheckMaintainable(snapshot.protocol));
  LAKELOG_RETURN_IF_ERROR(delta::CheckLogTableMetadata(snapshot.metadata));
  LAKELOG_RETURN_IF_ERROR(delta::CheckWritableProtocol(snapshot.protocol, snapshot.metadata));
  LAKELOG_ASSIGN_OR_RETURN(
      PartitionFilter filter,
      PartitionFilter::Parse(options.where, snapshot.metadata.partition_columns));

  OptimizeResult result;
  result.read_version = snapshot.version;
  const uint64_t min_file_size = options.target_file_size / 2;
  std::map<PartitionValues, std::vector<const DeltaAddFile*>> partitions;
  for (const DeltaAddFile& file : snapshot.files) {
    if (static_cast<uint64_t>(std::max<int64_t>(0, file.size)) >= min_file_size) continue;
    if (!filter.Matches(file.partition_values)) continue;
    if (!options.only_paths.empty() && !options.only_paths.count(file.path)) continue;
    partitions[file.partition_values].push_back(&file);
  }
  std::vector<Bin> bins;
  for (auto& [partition, files] : partitions) {
    PackPartition(partition, std::move(files), options.target_file_size, &bins);
  }

  std::vector<delta::Action> actions;
  actions.emplace_back(delta::CommitInfoAction{});
  std::set<std::string> inputs;      // decoded paths removed by this commit
  std::vector<std::string> written;  // our new files, deleted if the commit does not land
  auto abandon = [&](Status st) {
    for (const std::string& path : written) (void)fs->DeleteFile(JoinPath(root, path));
    return st;
  };
  std::set<PartitionValues> touched;
  OptimizeProgress progress{0, static_cast<int64_t>(bins.size()), 0};
  for (const Bin& bin : bins) {
    const std::optional<std::string>& pipeline_value = bin.partition.at("pipeline");
    const std::optional<std::string>& date_value = bin.partition.at("log_date");
    std::optional<int32_t> day = date_value.has_value() ? ParseDay(*date_value) : std::nullopt;
    if (!day.has_value()) {
      result.files_skipped += static_cast<int64_t>(bin.files.size());
      continue;
    }
    const std::string pipeline = pipeline_value.value_or("");
    std::vector<LogEvent> rows;
    std::vector<const DeltaAddFile*> taken;
    int64_t expected_rows = 0;
    bool counts_known = true;
    for (const DeltaAddFile* file : bin.files) {
      const size_t before = rows.size();
      Status read = ReadFileRows(fs, JoinPath(root, file->path), pipeline, &rows);
      if (!read.ok()) {
        if (read.code() != StatusCode::kInvalidArgument) {
          return abandon(read.WithContext("reading " + file->path));
        }
        rows.resize(before);
        ++result.files_skipped;
        continue;
      }
      taken.push_back(file);
      if (file->num_records.has_value()) {
        expected_rows += *file->num_records;
      } else {
        counts_known = false;
      }
    }
    if (taken.size() < 2) {
      progress.bins_done++;
      continue;
    }
    // Never lose or invent a row: what was read must be what the log says the files hold.
    if (counts_known && expected_rows != static_cast<int64_t>(rows.size())) {
      return abandon(Status::Corruption("the files of a bin hold " + std::to_string(rows.size()) +
                                        " rows, their stats say " + std::to_string(expected_rows)));
    }
    const std::string relative = delta::LogPartitionDirectory(pipeline, *day) + "/" +
                                 delta::NewDataFileName(options.parquet.compression);
    Status dirs = fs->CreateDirs(JoinPath(root, ParentPath(relative)));
    if (!dirs.ok()) return abandon(dirs);
    std::vector<const LogEvent*> pointers;
    pointers.reserve(rows.size());
    for (const LogEvent& e : rows) pointers.push_back(&e);
    written.push_back(relative);
    Result<parquet::DataFileStats> stats =
        parquet::WriteLogEventsFile(fs, JoinPath(root, relative), pointers, options.parquet);
    if (!stats.ok()) return abandon(stats.status().WithContext("writing " + relative));

    delta::AddAction add;
    add.file.path = relative;
    add.file.partition_values = bin.partition;
    add.file.size = static_cast<int64_t>(stats->file_size_bytes);
    add.file.modification_time_ms = options.now_ms;
    add.file.data_change = false;
    add.file.stats = delta::BuildAddStats(*stats);
    add.file.num_records = stats->num_rows;
    actions.emplace_back(std::move(add));
    result.files_added += 1;
    result.bytes_added += stats->file_size_bytes;
    result.added_sizes.push_back(stats->file_size_bytes);
    result.rows += stats->num_rows;
    for (const DeltaAddFile* file : taken) {
      delta::RemoveAction remove;
      remove.path = file->path;
      remove.deletion_timestamp_ms = options.now_ms;
      remove.data_change = false;
      remove.extended_file_metadata = true;
      remove.partition_values = file->partition_values;
      remove.size = file->size;
      actions.emplace_back(std::move(remove));
      inputs.insert(file->path);
      result.files_removed += 1;
      result.bytes_removed += static_cast<uint64_t>(std::max<int64_t>(0, file->size));
    }
    touched.insert(bin.partition);
    progress.bins_done++;
    progress.rows = result.rows;
    if (options.progress) options.progress(progress);
  }
  result.partitions = static_cast<int64_t>(touched.size());
  if (result.files_added == 0) return result;

  std::sort(result.added_sizes.begin(), result.added_sizes.end());
  auto& info = std::get<delta::CommitInfoAction>(actions.front());
  info.info.timestamp_ms = options.now_ms;
  info.info.operation = "OPTIMIZE";
  info.info.engine_info = "lakelog";
  nlohmann::json predicate = nlohmann::json::array();
  if (!filter.text().empty()) predicate.push_back(filter.text());
  info.info.parameters = {{"predicate", predicate.dump()},
                          {"zOrderBy", "[]"},
                          {"auto", options.auto_compaction ? "true" : "false"}};
  const auto& sizes = result.added_sizes;
  info.info.metrics = {{"numAddedFiles", std::to_string(result.files_added)},
                       {"numRemovedFiles", std::to_string(result.files_removed)},
                       {"numAddedBytes", std::to_string(result.bytes_added)},
                       {"numRemovedBytes", std::to_string(result.bytes_removed)},
                       {"minFileSize", std::to_string(sizes.front())},
                       {"p25FileSize", std::to_string(Percentile(sizes, 0.25))},
                       {"p50FileSize", std::to_string(Percentile(sizes, 0.50))},
                       {"p75FileSize", std::to_string(Percentile(sizes, 0.75))},
                       {"maxFileSize", std::to_string(sizes.back())},
                       {"numDeletionVectorsRemoved", "0"}};
  info.isolation_level = "SnapshotIsolation";
  info.is_blind_append = false;

  // Appends may land meanwhile; a winner that removed one of our inputs (another compaction, a
  // delete) or changed the table's definition means this rewrite is stale.
  auto check = [&inputs](int64_t version, const std::vector<delta::Action>& winner) -> Status {
    for (const delta::Action& action : winner) {
      if (const auto* removed = std::get_if<delta::RemoveAction>(&action)) {
        if (inputs.count(removed->path)) {
          return Status::Conflict("commit " + std::to_string(version) + " removed " +
                                  removed->path +
                                  ", which this OPTIMIZE rewrote; nothing was committed (run it "
                                  "again to compact what is live now)");
        }
      } else if (std::holds_alternative<DeltaProtocol>(action) ||
                 std::holds_alternative<DeltaMetadata>(action)) {
        return Status::Conflict("commit " + std::to_string(version) +
                                " changed the table's protocol or metaData; nothing was committed");
      }
    }
    return Status::OK();
  };
  Result<int64_t> version =
      delta::CommitActions(&store, snapshot.version, std::move(actions), check);
  if (!version.ok()) return abandon(version.status());
  result.version = *version;
  return result;
}

}  // namespace lakelog::maintenance
