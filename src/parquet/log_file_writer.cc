#include "parquet/log_file_writer.h"

#include <algorithm>
#include <array>
#include <memory>

#include "common/build_info.h"
#include "parquet/column_writer.h"
#include "parquet/compression.h"
#include "parquet_types.h"

namespace lakelog::parquet {

namespace {

constexpr std::array<std::string_view, 6> kStringColumns = {"level",   "stage",  "status",
                                                            "message", "run_id", "host"};
// The optional string fields of LogEvent behind kStringColumns[1..], in the same order.
using OptionalField = std::optional<std::string> LogEvent::*;
constexpr std::array<OptionalField, 5> kOptionalFields = {
    &LogEvent::stage, &LogEvent::status, &LogEvent::message, &LogEvent::run_id, &LogEvent::host};
static_assert(kOptionalFields.size() + 1 == kStringColumns.size());
// Rough per-row bookkeeping cost (levels, offsets) added to the string bytes when sizing
// row groups.
constexpr size_t kRowOverheadBytes = 16;
// ts, the six strings, attributes.key_value.key and .value.
constexpr size_t kNumLeaves = 1 + kStringColumns.size() + 2;

format::SchemaElement StringLeaf(std::string name, format::FieldRepetitionType::type repetition) {
  format::SchemaElement e;
  e.name = std::move(name);
  e.__set_type(format::Type::BYTE_ARRAY);
  e.__set_repetition_type(repetition);
  e.__set_converted_type(format::ConvertedType::UTF8);
  format::LogicalType logical;
  logical.__set_STRING(format::StringType());
  e.__set_logicalType(logical);
  return e;
}

// The pipeline_logs data-file schema; see docs/parquet.md.
std::vector<format::SchemaElement> LogSchema() {
  std::vector<format::SchemaElement> schema;
  format::SchemaElement root;
  root.name = "schema";
  root.__set_num_children(8);
  schema.push_back(root);

  format::SchemaElement ts;
  ts.name = "ts";
  ts.__set_type(format::Type::INT64);
  ts.__set_repetition_type(format::FieldRepetitionType::OPTIONAL);
  ts.__set_converted_type(format::ConvertedType::TIMESTAMP_MICROS);
  format::TimestampType timestamp;
  timestamp.isAdjustedToUTC = true;
  timestamp.unit.__set_MICROS(format::MicroSeconds());
  format::LogicalType ts_logical;
  ts_logical.__set_TIMESTAMP(timestamp);
  ts.__set_logicalType(ts_logical);
  schema.push_back(ts);

  for (std::string_view name : kStringColumns) {
    schema.push_back(StringLeaf(std::string(name), format::FieldRepetitionType::OPTIONAL));
  }

  format::SchemaElement attributes;
  attributes.name = "attributes";
  attributes.__set_repetition_type(format::FieldRepetitionType::OPTIONAL);
  attributes.__set_num_children(1);
  attributes.__set_converted_type(format::ConvertedType::MAP);
  format::LogicalType map_logical;
  map_logical.__set_MAP(format::MapType());
  attributes.__set_logicalType(map_logical);
  schema.push_back(attributes);

  format::SchemaElement key_value;
  key_value.name = "key_value";
  key_value.__set_repetition_type(format::FieldRepetitionType::REPEATED);
  key_value.__set_num_children(2);
  key_value.__set_converted_type(format::ConvertedType::MAP_KEY_VALUE);
  schema.push_back(key_value);

  schema.push_back(StringLeaf("key", format::FieldRepetitionType::REQUIRED));
  schema.push_back(StringLeaf("value", format::FieldRepetitionType::OPTIONAL));
  return schema;
}

// Every row counts at least this much towards the row group size (overhead + ts).
constexpr size_t kMinRowBytes = kRowOverheadBytes + 8;
// The file is written in pieces of about this size: one write for a typical file, and bounded
// memory for a file of many row groups.
constexpr size_t kWriteBufferBytes = 8u << 20;
// Shredding reads every event once, and the events of one file are scattered over the batch
// (grouped by partition), so each event is a cache miss; prefetching the event kPrefetchRows
// ahead, and its heap data (message, attributes) half as far ahead, overlaps those misses.
constexpr size_t kPrefetchRows = 8;

void PrefetchEvent(const LogEvent* e) {
  const char* p = reinterpret_cast<const char*>(e);
  for (size_t offset = 0; offset < sizeof(LogEvent); offset += 64) __builtin_prefetch(p + offset);
}

// The heap blocks of an event already in cache: a long message and the attributes array.
void PrefetchEventData(const LogEvent* e) {
  if (e->message.has_value()) __builtin_prefetch(e->message->data());
  if (!e->attributes.empty()) {
    const char* p = reinterpret_cast<const char*>(e->attributes.data());
    __builtin_prefetch(p);
    if (e->attributes.size() > 1) __builtin_prefetch(p + 64);
  }
}

// Whether writers built for `a` write what writers built for `b` would.
bool SameLayout(const ParquetWriteOptions& a, const ParquetWriteOptions& b) {
  return a.compression == b.compression && a.zstd_level == b.zstd_level &&
         a.page_size_bytes == b.page_size_bytes &&
         a.row_group_size_bytes == b.row_group_size_bytes &&
         a.dictionary_limit_bytes == b.dictionary_limit_bytes;
}

}  // namespace

// One data file in progress: its column writers hold the open row group.
struct DataFileSetWriter::File {
  File(const ParquetWriteOptions& options, PageCompressor* compressor, PageScratch* scratch)
      : ts({{"ts"}, 1, 0}, options, compressor, scratch),
        key({{"attributes", "key_value", "key"}, 2, 1}, options, compressor, scratch),
        value({{"attributes", "key_value", "value"}, 3, 1}, options, compressor, scratch) {
    strings.reserve(kStringColumns.size());
    for (std::string_view name : kStringColumns) {
      strings.emplace_back(LeafSpec{{std::string(name)}, 1, 0}, options, compressor, scratch);
    }
  }

  // Forgets the previous file; the buffers keep their capacity.
  void Reset(FileSystem* new_fs, std::string new_path) {
    fs = new_fs;
    path = std::move(new_path);
    file.reset();
    row_groups.clear();
    written = 0;
    group_rows = 0;
    group_bytes = 0;
    rows = 0;
    error = Status::OK();
    ts.ResetTotals();
    for (auto& w : strings) w.ResetTotals();
    key.ResetTotals();
    value.ResetTotals();
  }

  // Every row takes at least one slot of each column (an empty map a null key and value).
  void Reserve(size_t slots) {
    ts.Reserve(slots);
    for (auto& w : strings) w.Reserve(slots);
    key.Reserve(slots);
    value.Reserve(slots);
  }

  // The estimated size of `e` in a row group, for cutting row groups.
  static size_t RowBytes(const LogEvent& e) {
    size_t bytes = kMinRowBytes + LevelName(e.level).size();
    for (OptionalField field : kOptionalFields) {
      if ((e.*field).has_value()) bytes += (e.*field)->size() + 4;
    }
    for (const auto& [k, v] : e.attributes) bytes += k.size() + v.size() + 8;
    return bytes;
  }

  // Shreds `rows` column by column: each column writer takes the whole run in one loop, so
  // its state and branches stay hot (rows are in cache from RowBytes).
  void ShredColumns(std::span<const LogEvent* const> rows) {
    for (const LogEvent* e : rows) ts.AppendValue(e->ts_micros, 0);
    for (const LogEvent* e : rows) strings[0].AppendValue(LevelName(e->level), 0);
    for (size_t f = 0; f < kOptionalFields.size(); ++f) {
      ByteArrayColumnWriter& column = strings[f + 1];
      const OptionalField field = kOptionalFields[f];
      for (const LogEvent* e : rows) {
        const std::optional<std::string>& value = e->*field;
        if (value.has_value()) {
          column.AppendValue(*value, 0);
        } else {
          column.AppendNull(0, 0);
        }
      }
    }
    for (const LogEvent* e : rows) {
      // An empty map is defined (level 1) with no key_value entry.
      if (e->attributes.empty()) {
        key.AppendNull(1, 0);
        value.AppendNull(1, 0);
        continue;
      }
      int16_t rep = 0;
      for (const auto& [k, v] : e->attributes) {
        key.AppendValue(k, rep);
        value.AppendValue(v, rep);
        rep = 1;
      }
    }
  }

  FileSystem* fs = nullptr;
  std::string path;
  std::unique_ptr<WritableFile> file;  // null until the first write
  Int64ColumnWriter ts;
  std::vector<ByteArrayColumnWriter> strings;  // kStringColumns order
  ByteArrayColumnWriter key;
  ByteArrayColumnWriter value;
  std::vector<format::RowGroup> row_groups;
  uint64_t written = 0;    // bytes handed to `file`
  size_t group_rows = 0;   // rows in the open row group
  size_t group_bytes = 0;  // their estimated size
  int64_t rows = 0;        // rows in the file, the open row group included
  Status error;            // sticky
};

DataFileSetWriter::DataFileSetWriter(const ParquetWriteOptions& options)
    : options_(options),
      compressor_(std::make_unique<PageCompressor>(options.compression, options.zstd_level)),
      scratch_(std::make_unique<PageScratch>()) {}

DataFileSetWriter::~DataFileSetWriter() = default;

Result<size_t> DataFileSetWriter::Begin(FileSystem* fs, std::string path, size_t expected_rows) {
  if (options_.page_size_bytes == 0 || options_.row_group_size_bytes == 0) {
    return Status::InvalidArgument("page and row group sizes must be positive");
  }
  size_t handle;
  if (free_.empty()) {
    handle = files_.size();
    files_.push_back(nullptr);
  } else {
    handle = free_.back();
    free_.pop_back();
  }
  // A file that failed may have left a row group half-buffered: it is rebuilt.
  if (files_[handle] == nullptr) {
    files_[handle] = std::make_unique<File>(options_, compressor_.get(), scratch_.get());
  }
  File& f = *files_[handle];
  f.Reset(fs, std::move(path));
  f.Reserve(std::min(expected_rows, options_.row_group_size_bytes / kMinRowBytes + 1));
  return handle;
}

Status DataFileSetWriter::Add(size_t handle, const LogEvent& row) {
  const LogEvent* const rows[] = {&row};
  return AddRows(handle, rows);
}

Status DataFileSetWriter::AddRows(size_t handle, std::span<const LogEvent* const> rows) {
  File& f = *files_[handle];
  size_t i = 0;
  while (i < rows.size()) {
    if (!f.error.ok()) return f.error;
    // Sizes the rows up to the one that fills the open row group (written out after it); the
    // sizing pass brings their cache lines in for the column passes.
    size_t n = 0;
    size_t bytes = f.group_bytes;
    while (i + n < rows.size()) {
      const size_t ahead = i + n + kPrefetchRows;
      if (ahead < rows.size()) PrefetchEvent(rows[ahead]);
      if (ahead - kPrefetchRows / 2 < rows.size())
        PrefetchEventData(rows[ahead - kPrefetchRows / 2]);
      bytes += File::RowBytes(*rows[i + n]);
      ++n;
      if (bytes >= options_.row_group_size_bytes) break;
    }
    f.ShredColumns(rows.subspan(i, n));
    f.group_bytes = bytes;
    f.group_rows += n;
    f.rows += static_cast<int64_t>(n);
    i += n;
    if (f.group_bytes >= options_.row_group_size_bytes) {
      f.error = FlushRowGroup(&f);
      if (f.error.ok()) f.error = Spill(&f);  // out_ serves the other files too
    }
  }
  return f.error;
}

Status DataFileSetWriter::Spill(File* f) {
  if (f->file == nullptr) {
    LAKELOG_ASSIGN_OR_RETURN(f->file, f->fs->NewWritableFile(f->path));
  }
  LAKELOG_RETURN_IF_ERROR(f->file->Append(out_));
  f->written += out_.size();
  out_.clear();
  return Status::OK();
}

Status DataFileSetWriter::FlushRowGroup(File* f) {
  if (f->row_groups.size() >= static_cast<size_t>(INT16_MAX)) {
    return Status::InvalidArgument("too many row groups; raise row_group_size_bytes");
  }
  out_.clear();  // whatever a failed file left
  if (f->written == 0) out_.append(kParquetMagic);
  // Offset in the file of the next byte appended to out_.
  auto offset = [&] { return f->written + out_.size(); };
  format::RowGroup group;
  group.num_rows = static_cast<int64_t>(f->group_rows);
  const uint64_t group_offset = offset();
  auto write_chunk = [&](auto& writer) -> Status {
    format::ColumnChunk chunk;
    LAKELOG_RETURN_IF_ERROR(writer.WriteChunk(offset(), &out_, &chunk));
    writer.Clear();
    if (out_.size() >= kWriteBufferBytes) LAKELOG_RETURN_IF_ERROR(Spill(f));
    group.total_byte_size += chunk.meta_data.total_uncompressed_size;
    group.columns.push_back(std::move(chunk));
    return Status::OK();
  };
  LAKELOG_RETURN_IF_ERROR(write_chunk(f->ts));
  for (auto& w : f->strings) LAKELOG_RETURN_IF_ERROR(write_chunk(w));
  LAKELOG_RETURN_IF_ERROR(write_chunk(f->key));
  LAKELOG_RETURN_IF_ERROR(write_chunk(f->value));
  group.__set_file_offset(static_cast<int64_t>(group_offset));
  group.__set_total_compressed_size(static_cast<int64_t>(offset() - group_offset));
  group.__set_ordinal(static_cast<int16_t>(f->row_groups.size()));
  f->row_groups.push_back(std::move(group));
  f->group_rows = 0;
  f->group_bytes = 0;
  return Status::OK();
}

void DataFileSetWriter::Discard(size_t handle) {
  File& f = *files_[handle];
  if (f.file != nullptr) (void)f.file->Close();
  f.file.reset();
  if (f.group_rows > 0) {
    f.ts.Clear();
    for (auto& w : f.strings) w.Clear();
    f.key.Clear();
    f.value.Clear();
    f.group_rows = 0;
    f.group_bytes = 0;
  }
  free_.push_back(handle);
}

Result<DataFileStats> DataFileSetWriter::Finish(size_t handle,
                                                std::unique_ptr<WritableFile>* unsynced) {
  File& f = *files_[handle];
  Status status = f.error;
  if (status.ok() && f.rows == 0) {
    status = Status::InvalidArgument("a Parquet data file needs at least one row");
  }
  if (status.ok()) {
    // The last row group stays in out_, to go out in one write with the footer.
    if (f.group_rows > 0) {
      status = FlushRowGroup(&f);
    } else {
      out_.clear();
    }
  }
  if (status.ok()) {
    format::FileMetaData meta;
    meta.version = 1;
    meta.schema = LogSchema();
    meta.num_rows = f.rows;
    meta.row_groups = std::move(f.row_groups);
    status = AppendFooter(std::move(meta), kNumLeaves, &out_);
    if (status.ok()) status = Spill(&f);
  }
  const uint64_t file_size = status.ok() ? f.file->Size() : 0;
  Status close;
  if (status.ok() && unsynced != nullptr) {
    *unsynced = std::move(f.file);
  } else {
    if (status.ok()) status = f.file->Sync();
    if (f.file != nullptr) close = f.file->Close();
    f.file.reset();
  }
  free_.push_back(handle);
  if (!status.ok() || !close.ok()) {
    Status failed = (!status.ok() ? status : close).WithContext(f.path);
    files_[handle].reset();  // its column writers may hold a half-written row group
    return failed;
  }

  DataFileStats stats;
  stats.num_rows = f.rows;
  stats.file_size_bytes = file_size;
  stats.min_ts_micros = f.ts.totals().min.value_or(0);
  stats.max_ts_micros = f.ts.totals().max.value_or(0);
  stats.string_columns.reserve(kStringColumns.size());
  for (size_t i = 0; i < kStringColumns.size(); ++i) {
    const auto& totals = f.strings[i].totals();
    StringColumnStats column;
    column.name = std::string(kStringColumns[i]);
    if (totals.min) column.min = std::string(*totals.min);
    if (totals.max) column.max = std::string(*totals.max);
    column.null_count = totals.null_count;
    stats.string_columns.push_back(std::move(column));
  }
  stats.attributes_null_count = 0;
  return stats;
}

std::string CreatedBy() {
  return "lakelog version " + std::string(LakelogVersion()) + " (build " +
         std::string(LakelogBuildHash()) + ")";
}

DataFileWriter::DataFileWriter() = default;
DataFileWriter::~DataFileWriter() = default;

Result<DataFileStats> DataFileWriter::Write(FileSystem* fs, const std::string& path,
                                            std::span<const LogEvent* const> rows,
                                            const ParquetWriteOptions& options) {
  if (rows.empty()) return Status::InvalidArgument("a Parquet data file needs at least one row");
  if (set_ == nullptr || !SameLayout(set_->options(), options)) {
    set_ = std::make_unique<DataFileSetWriter>(options);
  }
  LAKELOG_ASSIGN_OR_RETURN(size_t handle, set_->Begin(fs, path, rows.size()));
  (void)set_->AddRows(handle, rows);  // an error sticks; Finish reports it
  return set_->Finish(handle);
}

Result<DataFileStats> WriteLogEventsFile(FileSystem* fs, const std::string& path,
                                         std::span<const LogEvent* const> rows,
                                         const ParquetWriteOptions& options) {
  DataFileWriter writer;
  return writer.Write(fs, path, rows, options);
}

}  // namespace lakelog::parquet
