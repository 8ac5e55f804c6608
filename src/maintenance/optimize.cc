#include "maintenance/optimize.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <set>
#include <span>
#include <string_view>
#include <thread>

#include "delta/actions.h"
#include "delta/log_store.h"
#include "delta/partition_path.h"
#include "delta/snapshot.h"
#include "delta/stats.h"
#include "delta/table_schema.h"
#include "delta/transaction.h"
#include "maintenance/partition_filter.h"
#include "maintenance/protocol.h"
#include "maintenance/zorder.h"
#include "parquet/columnar_reader.h"
#include "parquet/log_file_writer.h"
#include "query/log_columns.h"

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

using parquet::ColumnVector;
using parquet::VectorLayout;
using query::LogColumn;

// The level spelled exactly as LevelName gives it, else nullopt.
std::optional<Level> ExactLevel(std::string_view text) {
  Level level;
  if (!ParseLevel(text, &level) || LevelName(level) != text) return std::nullopt;
  return level;
}

// Sets *out to slot `row` of a nullable string column (null when the file lacks the column),
// reusing the string's capacity: the events of a file are overwritten by the next file's.
void AssignString(const ColumnVector* column, size_t row, std::optional<std::string>* out) {
  if (column == nullptr || !column->IsValid(row)) {
    out->reset();
    return;
  }
  const std::string_view value = column->GetBytes(row);
  if (out->has_value()) {
    (*out)->assign(value.data(), value.size());
  } else {
    out->emplace(value);
  }
}

constexpr LogColumn kRowColumns[] = {LogColumn::kTs,     LogColumn::kLevel,     LogColumn::kStage,
                                     LogColumn::kStatus, LogColumn::kMessage,   LogColumn::kRunId,
                                     LogColumn::kHost,   LogColumn::kAttributes};

// The rows of one data file as LogEvents with `pipeline`, written over (*out)[0, *count), read
// row group by row group through the columnar reader. The events already in *out are reused,
// strings and attribute arrays keeping their capacity, so that a caller reading file after
// file into the same vector allocates only while its files grow; *out never shrinks.
// InvalidArgument when the file cannot be held exactly (a row without a timestamp, a level
// outside TRACE..FATAL, a null attribute value, a column of an unexpected type even if all its
// values are null): the caller then leaves the file alone. A column the file lacks (an older
// schema) reads as null. Other codes (IOError, Corruption...) are the reader's.
Status ReadFileRows(FileSystem* fs, const std::string& path, const std::string& pipeline,
                    std::vector<LogEvent>* out, size_t* count) {
  *count = 0;
  LAKELOG_ASSIGN_OR_RETURN(std::unique_ptr<parquet::ParquetFile> file,
                           parquet::ParquetFile::Open(fs, path));
  const std::vector<LogColumn> wanted(std::begin(kRowColumns), std::end(kRowColumns));
  query::LogColumnReader reader(file.get(), wanted);
  for (LogColumn column : kRowColumns) {
    if (reader.Unusable(column)) return Status::InvalidArgument("a column of an unexpected type");
  }
  std::vector<uint32_t> offsets;
  std::vector<std::optional<Level>> dictionary_levels;
  size_t n = 0;
  for (int rg = 0; rg < file->num_row_groups(); ++rg) {
    LAKELOG_RETURN_IF_ERROR(reader.Read(rg));
    const size_t rows = static_cast<size_t>(file->RowGroupNumRows(rg));
    const ColumnVector* ts = reader.Get(LogColumn::kTs);
    if (ts == nullptr && rows > 0) return Status::InvalidArgument("a row without a timestamp");
    const ColumnVector* level = reader.Get(LogColumn::kLevel);
    if (level == nullptr && rows > 0) {
      return Status::InvalidArgument("a row whose level is not TRACE..FATAL");
    }
    // The row count is now the decoded vectors' (checked against the footer by Read).
    if (n + rows > out->size()) out->resize(n + rows);
    // A dictionary-encoded level is parsed once per dictionary entry.
    dictionary_levels.clear();
    if (level != nullptr && level->layout() == VectorLayout::kDictionary) {
      const parquet::ByteArrayBuffer& dictionary = level->dictionary();
      for (size_t i = 0; i < dictionary.size(); ++i) {
        dictionary_levels.push_back(ExactLevel(dictionary.Get(i)));
      }
    }
    const ColumnVector* stage = reader.Get(LogColumn::kStage);
    const ColumnVector* status = reader.Get(LogColumn::kStatus);
    const ColumnVector* message = reader.Get(LogColumn::kMessage);
    const ColumnVector* run_id = reader.Get(LogColumn::kRunId);
    const ColumnVector* host = reader.Get(LogColumn::kHost);
    const ColumnVector* keys = reader.MapKeys();
    const ColumnVector* values = reader.MapValues();
    if (keys != nullptr) {
      if (values->size() != keys->size()) {
        return Status::Corruption(path + ": the attributes' keys and values disagree");
      }
      keys->RowOffsets(&offsets);
    }
    for (size_t row = 0; row < rows; ++row) {
      LogEvent& e = (*out)[n + row];
      e.pipeline.assign(pipeline);
      if (!ts->IsValid(row)) return Status::InvalidArgument("a row without a timestamp");
      e.ts_micros = ts->int64s()[row];
      std::optional<Level> parsed;
      if (level->IsValid(row)) {
        parsed = dictionary_levels.empty() ? ExactLevel(level->GetBytes(row))
                                           : dictionary_levels[level->indices()[row]];
      }
      if (!parsed.has_value()) {
        return Status::InvalidArgument("a row whose level is not TRACE..FATAL");
      }
      e.level = *parsed;
      AssignString(stage, row, &e.stage);
      AssignString(status, row, &e.status);
      AssignString(message, row, &e.message);
      AssignString(run_id, row, &e.run_id);
      AssignString(host, row, &e.host);
      size_t entries = 0;
      if (keys != nullptr) {
        for (uint32_t i = offsets[row]; i < offsets[row + 1]; ++i) {
          // A null or empty map has one slot and no entry.
          if (keys->DefLevel(i) < reader.map_entry_def()) continue;
          if (!keys->IsValid(i)) return Status::InvalidArgument("a null attribute key");
          if (!values->IsValid(i)) return Status::InvalidArgument("a null attribute value");
          const std::string_view key = keys->GetBytes(i);
          const std::string_view value = values->GetBytes(i);
          // A key written twice keeps its last value, as a map does.
          auto begin = e.attributes.begin();
          auto same = std::find_if(begin, begin + static_cast<ptrdiff_t>(entries),
                                   [key](const auto& kv) { return kv.first == key; });
          if (same != begin + static_cast<ptrdiff_t>(entries)) {
            same->second.assign(value.data(), value.size());
          } else if (entries < e.attributes.size()) {
            e.attributes[entries].first.assign(key.data(), key.size());
            e.attributes[entries].second.assign(value.data(), value.size());
            ++entries;
          } else {
            e.attributes.emplace_back(key, value);
            ++entries;
          }
        }
      }
      e.attributes.resize(entries);
    }
    n += rows;
    *count = n;
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

// What one OPTIMIZE commit gathers: the new files written so far and the actions naming them.
struct Rewrite {
  FileSystem* fs;
  const std::string& root;
  const OptimizeOptions& options;
  OptimizeResult* result;
  // The worker's writer, kept from bin to bin so that its buffers are allocated once; null for
  // the Rewrite that only gathers the workers' results.
  parquet::DataFileSetWriter* writer = nullptr;
  std::vector<delta::Action> actions;
  std::set<std::string> inputs;      // paths removed by this commit
  std::vector<std::string> written;  // our new files, deleted if the commit does not land

  Status Abandon(Status st) {
    for (const std::string& path : written) (void)fs->DeleteFile(JoinPath(root, path));
    return st;
  }

  // A new file of the partition in the making: rows go in with writer->AddRows(handle, ...),
  // and every BeginFile that succeeded needs its FinishFile.
  struct NewFile {
    size_t handle = 0;
    std::string relative;
  };
  Result<NewFile> BeginFile(const std::string& pipeline, int32_t day, size_t expected_rows) {
    NewFile file;
    file.relative = delta::LogPartitionDirectory(pipeline, day) + "/" +
                    delta::NewDataFileName(options.parquet.compression);
    LAKELOG_RETURN_IF_ERROR(fs->CreateDirs(JoinPath(root, ParentPath(file.relative))));
    written.push_back(file.relative);
    LAKELOG_ASSIGN_OR_RETURN(file.handle,
                             writer->Begin(fs, JoinPath(root, file.relative), expected_rows));
    return file;
  }

  // Writes the file's footer, syncs it and adds it to the commit (or returns the error the
  // writing met, which sticks from AddRows).
  Status FinishFile(const NewFile& file, const PartitionValues& partition) {
    Result<parquet::DataFileStats> stats = writer->Finish(file.handle);
    if (!stats.ok()) return stats.status().WithContext("writing " + file.relative);
    delta::AddAction add;
    add.file.path = file.relative;
    add.file.partition_values = partition;
    add.file.size = static_cast<int64_t>(stats->file_size_bytes);
    add.file.modification_time_ms = options.now_ms;
    add.file.data_change = false;
    add.file.stats = delta::BuildAddStats(*stats);
    add.file.num_records = stats->num_rows;
    actions.emplace_back(std::move(add));
    result->files_added += 1;
    result->bytes_added += stats->file_size_bytes;
    result->added_sizes.push_back(stats->file_size_bytes);
    result->rows += stats->num_rows;
    return Status::OK();
  }

  // Writes `rows` as one new file of the partition and adds it to the commit.
  Status AddFile(const PartitionValues& partition, const std::string& pipeline, int32_t day,
                 std::span<const LogEvent* const> rows) {
    LAKELOG_ASSIGN_OR_RETURN(NewFile file, BeginFile(pipeline, day, rows.size()));
    (void)writer->AddRows(file.handle, rows);  // an error sticks; FinishFile returns it
    return FinishFile(file, partition);
  }

  void RemoveFile(const DeltaAddFile& file) {
    delta::RemoveAction remove;
    remove.path = file.path;
    remove.deletion_timestamp_ms = options.now_ms;
    remove.data_change = false;
    remove.extended_file_metadata = true;
    remove.partition_values = file.partition_values;
    remove.size = file.size;
    actions.emplace_back(std::move(remove));
    inputs.insert(file.path);
    result->files_removed += 1;
    result->bytes_removed += static_cast<uint64_t>(std::max<int64_t>(0, file.size));
  }
};

// Sorts `rows` by their Z-order key (stable, so equal keys keep their input order) and writes
// them as files of about `rows_per_file` rows each.
Status WriteZOrdered(Rewrite* rewrite, const ZOrderCurve& curve, const PartitionValues& partition,
                     const std::string& pipeline, int32_t day, const std::vector<LogEvent>& rows,
                     size_t rows_per_file) {
  std::vector<std::pair<uint64_t, const LogEvent*>> keyed;
  keyed.reserve(rows.size());
  for (const LogEvent& e : rows) keyed.emplace_back(curve.Key(e), &e);
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const LogEvent*> pointers;
  pointers.reserve(keyed.size());
  for (const auto& [key, e] : keyed) pointers.push_back(e);
  // Cut into files of equal row counts near the target, rather than a full one and a runt.
  const size_t files = std::max<size_t>(1, (pointers.size() + rows_per_file / 2) / rows_per_file);
  for (size_t i = 0; i < files; ++i) {
    const size_t begin = pointers.size() * i / files;
    const size_t end = pointers.size() * (i + 1) / files;
    if (begin == end) continue;
    LAKELOG_RETURN_IF_ERROR(
        rewrite->AddFile(partition, pipeline, day,
                         std::span<const LogEvent* const>(pointers.data() + begin, end - begin)));
  }
  return Status::OK();
}

// Z-orders one partition: every readable file is rewritten. Memory: while the partition's rows
// fit the budget they are kept from the first (sampling) pass and sorted at once; beyond it the
// first pass keeps only the sample, the key space is cut into buckets of about half the budget
// each, and each bucket is gathered by one more pass over the input files, sorted and written.
// A bucket that still outgrows the budget is halved at its median key and each half gathered
// again; only rows of one single key are written out in chunks as they come, so files overlap
// at most at one key. So at most the budget plus one input file's
// rows are held, whatever the partition's size.
Status ZOrderPartition(Rewrite* rewrite, const std::vector<ZColumn>& columns,
                       const PartitionValues& partition, const std::string& pipeline, int32_t day,
                       const std::vector<const DeltaAddFile*>& files) {
  const OptimizeOptions& options = rewrite->options;
  OptimizeResult* result = rewrite->result;
  const uint64_t budget = std::max<uint64_t>(1, options.memory_budget_bytes);
  ZOrderSampler sampler(columns, options.zorder_sample_rows);
  std::vector<LogEvent> held;
  uint64_t held_bytes = 0;
  bool spilled = false;  // the partition outgrew the budget: a second pass per bucket
  uint64_t total_bytes = 0;
  uint64_t input_bytes = 0;
  int64_t expected_rows = 0;
  bool counts_known = true;
  std::vector<const DeltaAddFile*> taken;
  std::vector<LogEvent> file_rows;
  size_t file_count = 0;
  for (const DeltaAddFile* file : files) {
    Status read = ReadFileRows(rewrite->fs, JoinPath(rewrite->root, file->path), pipeline,
                               &file_rows, &file_count);
    if (!read.ok()) {
      if (read.code() != StatusCode::kInvalidArgument) {
        return read.WithContext("reading " + file->path);
      }
      ++result->files_skipped;
      continue;
    }
    taken.push_back(file);
    input_bytes += static_cast<uint64_t>(std::max<int64_t>(0, file->size));
    if (file->num_records.has_value()) {
      expected_rows += *file->num_records;
    } else {
      counts_known = false;
    }
    for (size_t i = 0; i < file_count; ++i) {
      LogEvent& e = file_rows[i];
      sampler.Add(e);
      const uint64_t bytes = EstimateEventBytes(e);
      total_bytes += bytes;
      if (spilled) continue;
      if (held_bytes + bytes > budget) {
        spilled = true;
        std::vector<LogEvent>().swap(held);
        held_bytes = 0;
        continue;
      }
      held_bytes += bytes;
      held.push_back(std::move(e));
    }
  }
  std::vector<LogEvent>().swap(file_rows);
  if (taken.empty()) return Status::OK();
  // Never lose or invent a row: what was read must be what the log says the files hold.
  if (counts_known && expected_rows != sampler.seen()) {
    return Status::Corruption("the files of a partition hold " + std::to_string(sampler.seen()) +
                              " rows, their stats say " + std::to_string(expected_rows));
  }
  const ZOrderCurve curve(sampler);
  const uint64_t bytes_per_row = std::max<uint64_t>(
      1, input_bytes / static_cast<uint64_t>(std::max<int64_t>(1, sampler.seen())));
  const size_t rows_per_file =
      static_cast<size_t>(std::max<uint64_t>(1, options.target_file_size / bytes_per_row));
  const int64_t rows_before = result->rows;
  if (!spilled) {
    LAKELOG_RETURN_IF_ERROR(
        WriteZOrdered(rewrite, curve, partition, pipeline, day, held, rows_per_file));
  } else {
    std::vector<LogEvent>().swap(held);
    const uint64_t bucket_bytes = std::max<uint64_t>(1, budget / 2);
    const size_t buckets = static_cast<size_t>((total_bytes + bucket_bytes - 1) / bucket_bytes);
    const std::vector<uint64_t> cuts = ZOrderBucketCuts(sampler, curve, buckets);
    // Key ranges still to write, inclusive, the lowest at the back.
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (size_t b = cuts.size() + 1; b-- > 0;) {
      ranges.emplace_back(b == 0 ? 0 : cuts[b - 1], b == cuts.size() ? UINT64_MAX : cuts[b] - 1);
    }
    while (!ranges.empty()) {
      const auto [lo, hi] = ranges.back();
      ranges.pop_back();
      std::vector<LogEvent> rows;
      uint64_t bytes = 0;
      bool split = false;
      for (size_t f = 0; f < taken.size() && !split; ++f) {
        Status read = ReadFileRows(rewrite->fs, JoinPath(rewrite->root, taken[f]->path), pipeline,
                                   &file_rows, &file_count);
        if (!read.ok()) return read.WithContext("reading " + taken[f]->path + " again");
        for (size_t i = 0; i < file_count; ++i) {
          LogEvent& e = file_rows[i];
          const uint64_t key = curve.Key(e);
          if (key < lo || key > hi) continue;
          bytes += EstimateEventBytes(e);
          rows.push_back(std::move(e));
          if (bytes <= budget) continue;
          if (lo < hi) {
            // The sample misjudged this range: halve it at the median of what it gathered and
            // gather each half again, so that files never overlap beyond one key.
            std::vector<uint64_t> keys;
            keys.reserve(rows.size());
            for (const LogEvent& r : rows) keys.push_back(curve.Key(r));
            std::nth_element(keys.begin(), keys.begin() + keys.size() / 2, keys.end());
            const uint64_t mid = std::min(keys[keys.size() / 2], hi - 1);
            ranges.emplace_back(mid + 1, hi);
            ranges.emplace_back(lo, mid);
            split = true;
            break;
          }
          // Rows of one key: any order is Z-order, written as they come.
          LAKELOG_RETURN_IF_ERROR(
              WriteZOrdered(rewrite, curve, partition, pipeline, day, rows, rows_per_file));
          rows.clear();
          bytes = 0;
        }
      }
      if (split) continue;
      LAKELOG_RETURN_IF_ERROR(
          WriteZOrdered(rewrite, curve, partition, pipeline, day, rows, rows_per_file));
    }
    std::vector<LogEvent>().swap(file_rows);
  }
  if (result->rows - rows_before != sampler.seen()) {
    return Status::Internal("Z-order wrote " + std::to_string(result->rows - rows_before) +
                            " rows of a partition that holds " + std::to_string(sampler.seen()));
  }
  for (const DeltaAddFile* file : taken) rewrite->RemoveFile(*file);
  return Status::OK();
}

// Rewrites one bin (bin-packing) or one partition (Z-order when `zcolumns` is set) into
// `rewrite`. Thread-compatible: each concurrent call gets its own Rewrite.
Status RewriteBin(Rewrite* rewrite, const Bin& bin, const std::vector<ZColumn>& zcolumns) {
  const std::optional<std::string>& pipeline_value = bin.partition.at("pipeline");
  const std::optional<std::string>& date_value = bin.partition.at("log_date");
  std::optional<int32_t> day = date_value.has_value() ? ParseDay(*date_value) : std::nullopt;
  if (!day.has_value()) {
    rewrite->result->files_skipped += static_cast<int64_t>(bin.files.size());
    return Status::OK();
  }
  const std::string pipeline = pipeline_value.value_or("");
  if (!zcolumns.empty()) {
    return ZOrderPartition(rewrite, zcolumns, bin.partition, pipeline, *day, bin.files);
  }
  // The bin's files are streamed into one new file: each is read into `rows` (the same events
  // file after file, so their strings keep their capacity) and handed to the writer, which
  // keeps only the encoded row group. The first readable file waits in `first` until a second
  // one is read: a bin of one readable file is not rewritten. So a bin holds two input files'
  // events and the output's open row group, whatever its size.
  std::vector<LogEvent> first, rows;
  size_t first_count = 0, count = 0;
  std::optional<Rewrite::NewFile> out;
  std::vector<const LogEvent*> pointers;
  auto add = [&](const std::vector<LogEvent>& events, size_t n) {
    pointers.clear();
    for (size_t i = 0; i < n; ++i) pointers.push_back(&events[i]);
    (void)rewrite->writer->AddRows(out->handle, pointers);  // an error sticks until FinishFile
  };
  std::vector<const DeltaAddFile*> taken;
  int64_t expected_rows = 0;
  bool counts_known = true;
  size_t listed_rows = 0;
  for (const DeltaAddFile* file : bin.files) {
    listed_rows += static_cast<size_t>(std::max<int64_t>(0, file->num_records.value_or(0)));
  }
  for (const DeltaAddFile* file : bin.files) {
    Status read =
        ReadFileRows(rewrite->fs, JoinPath(rewrite->root, file->path), pipeline, &rows, &count);
    if (!read.ok()) {
      if (read.code() != StatusCode::kInvalidArgument) {
        if (out.has_value()) (void)rewrite->writer->Finish(out->handle);
        return read.WithContext("reading " + file->path);
      }
      ++rewrite->result->files_skipped;
      continue;
    }
    taken.push_back(file);
    if (file->num_records.has_value()) {
      expected_rows += *file->num_records;
    } else {
      counts_known = false;
    }
    if (taken.size() == 1) {
      std::swap(first, rows);
      first_count = count;
      continue;
    }
    if (!out.has_value()) {
      // The log's row counts size the row group's buffers; only a hint, so believed up to one
      // row per byte of the bin.
      const size_t expected = listed_rows <= bin.bytes ? listed_rows : first_count + count;
      LAKELOG_ASSIGN_OR_RETURN(out, rewrite->BeginFile(pipeline, *day, expected));
      add(first, first_count);
      std::vector<LogEvent>().swap(first);
    }
    add(rows, count);
  }
  if (!out.has_value()) return Status::OK();  // fewer than two readable files
  const int64_t rows_before = rewrite->result->rows;
  LAKELOG_RETURN_IF_ERROR(rewrite->FinishFile(*out, bin.partition));
  // Never lose or invent a row: what was written must be what the log says the files hold.
  const int64_t written = rewrite->result->rows - rows_before;
  if (counts_known && expected_rows != written) {
    return Status::Corruption("the files of a bin hold " + std::to_string(written) +
                              " rows, their stats say " + std::to_string(expected_rows));
  }
  for (const DeltaAddFile* file : taken) rewrite->RemoveFile(*file);
  return Status::OK();
}

}  // namespace

Result<OptimizeResult> Optimize(FileSystem* fs, const std::string& root,
                                const OptimizeOptions& options) {
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
  const bool zorder = !options.zorder_by.empty();
  std::vector<ZColumn> zcolumns;
  if (zorder) {
    LAKELOG_ASSIGN_OR_RETURN(
        zcolumns, ResolveZOrderColumns(options.zorder_by, snapshot.metadata.partition_columns));
  }

  OptimizeResult result;
  result.read_version = snapshot.version;
  // Z-order rewrites every file of a partition (Delta ignores minFileSize for it).
  const uint64_t min_file_size = zorder ? UINT64_MAX : options.target_file_size / 2;
  std::map<PartitionValues, std::vector<const DeltaAddFile*>> partitions;
  for (const DeltaAddFile& file : snapshot.files) {
    if (static_cast<uint64_t>(std::max<int64_t>(0, file.size)) >= min_file_size) continue;
    if (!filter.Matches(file.partition_values)) continue;
    if (!options.only_paths.empty() && !options.only_paths.count(file.path)) continue;
    partitions[file.partition_values].push_back(&file);
  }
  std::vector<Bin> bins;
  for (auto& [partition, files] : partitions) {
    if (zorder) {
      uint64_t bytes = 0;
      for (const DeltaAddFile* file : files)
        bytes += static_cast<uint64_t>(std::max<int64_t>(0, file->size));
      bins.push_back(Bin{partition, std::move(files), bytes});
    } else {
      PackPartition(partition, std::move(files), options.target_file_size, &bins);
    }
  }

  // Bins are rewritten by `threads` workers (each bin's rows held by one of them, so the
  // Z-order budget is shared out); results are merged in bin order on this thread, which also
  // reports progress.
  const size_t hardware = std::max(1u, std::thread::hardware_concurrency());
  const size_t threads = std::max<size_t>(
      1, std::min<size_t>(bins.size(), options.threads > 0 ? options.threads : hardware));
  OptimizeOptions worker_options = options;
  worker_options.progress = nullptr;
  worker_options.memory_budget_bytes =
      std::max<uint64_t>(uint64_t{64} << 10, options.memory_budget_bytes / threads);
  struct Slot {
    OptimizeResult result;
    std::unique_ptr<Rewrite> rewrite;
    Status status;
    bool done = false;
  };
  std::vector<Slot> slots(bins.size());
  // Largest bins first, so that the last bins to finish are small ones and the workers end
  // together (the partitions of a table are often skewed: one busy pipeline).
  std::vector<size_t> order(bins.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&bins](size_t a, size_t b) { return bins[a].bytes > bins[b].bytes; });
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  // Each worker takes the next bin, largest first, with a writer of its own.
  auto work = [&] {
    parquet::DataFileSetWriter writer(worker_options.parquet);
    for (size_t k = next++; k < bins.size() && !stop; k = next++) {
      const size_t i = order[k];
      Slot& slot = slots[i];
      slot.rewrite = std::make_unique<Rewrite>(
          Rewrite{fs, root, worker_options, &slot.result, &writer, {}, {}, {}});
      Status st = RewriteBin(slot.rewrite.get(), bins[i], zcolumns);
      std::lock_guard<std::mutex> lock(mu);
      slot.status = std::move(st);
      slot.done = true;
      if (!slot.status.ok()) stop = true;
      cv.notify_all();
    }
  };
  // One worker is the calling thread itself (auto-compaction's passes run on the maintainer's
  // thread and start none); more are threads of this call, joined below.
  std::vector<std::thread> workers;
  if (threads == 1) {
    work();
  } else {
    for (size_t t = 0; t < threads; ++t) workers.emplace_back(work);
  }
  Rewrite rewrite{fs, root, options, &result, nullptr, {}, {}, {}};
  rewrite.actions.emplace_back(delta::CommitInfoAction{});
  Status failed;
  std::set<PartitionValues> touched;
  OptimizeProgress progress{0, static_cast<int64_t>(bins.size()), 0};
  for (size_t i = 0; i < bins.size(); ++i) {
    Slot& slot = slots[i];
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return slot.done || stop; });
      if (!slot.done) break;  // another bin failed
    }
    if (!slot.status.ok()) {
      failed = slot.status;
      break;
    }
    const OptimizeResult& r = slot.result;
    result.files_removed += r.files_removed;
    result.files_added += r.files_added;
    result.bytes_removed += r.bytes_removed;
    result.bytes_added += r.bytes_added;
    result.rows += r.rows;
    result.files_skipped += r.files_skipped;
    result.added_sizes.insert(result.added_sizes.end(), r.added_sizes.begin(), r.added_sizes.end());
    for (delta::Action& a : slot.rewrite->actions) rewrite.actions.push_back(std::move(a));
    rewrite.inputs.insert(slot.rewrite->inputs.begin(), slot.rewrite->inputs.end());
    rewrite.written.insert(rewrite.written.end(), slot.rewrite->written.begin(),
                           slot.rewrite->written.end());
    slot.rewrite->written.clear();
    if (r.files_added > 0) touched.insert(bins[i].partition);
    progress.bins_done++;
    progress.rows = result.rows;
    if (options.progress) options.progress(progress);
  }
  stop = true;
  for (std::thread& w : workers) w.join();
  if (failed.ok()) {
    for (Slot& slot : slots) {
      if (slot.done && !slot.status.ok()) failed = slot.status;
    }
  }
  if (!failed.ok()) {
    for (Slot& slot : slots) {
      if (slot.rewrite != nullptr) (void)slot.rewrite->Abandon(Status::OK());
    }
    return rewrite.Abandon(failed);
  }
  result.partitions = static_cast<int64_t>(touched.size());
  if (result.files_added == 0) return result;

  std::sort(result.added_sizes.begin(), result.added_sizes.end());
  std::vector<delta::Action>& actions = rewrite.actions;
  const std::set<std::string>& inputs = rewrite.inputs;
  auto& info = std::get<delta::CommitInfoAction>(actions.front());
  info.info.timestamp_ms = options.now_ms;
  info.info.operation = "OPTIMIZE";
  info.info.engine_info = "lakelog";
  nlohmann::json predicate = nlohmann::json::array();
  if (!filter.text().empty()) predicate.push_back(filter.text());
  info.info.parameters = {{"predicate", predicate.dump()},
                          {"zOrderBy", nlohmann::json(options.zorder_by).dump()},
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
      delta::CommitActions(&store, snapshot.version, std::move(actions), check,
                           delta::TransactionOptions{.clock = options.clock});
  if (!version.ok()) return rewrite.Abandon(version.status());
  result.version = *version;
  return result;
}

}  // namespace lakelog::maintenance
