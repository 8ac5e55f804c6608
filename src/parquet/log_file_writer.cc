#include "parquet/log_file_writer.h"

#include <algorithm>
#include <array>
#include <memory>

#include "common/build_info.h"
#include "parquet/column_writer.h"
#include "parquet/compression.h"
#include "parquet/thrift_serde.h"
#include "parquet_types.h"

namespace lakelog::parquet {

namespace {

constexpr std::string_view kMagic = "PAR1";
constexpr std::array<std::string_view, 6> kStringColumns = {"level",   "stage",  "status",
                                                            "message", "run_id", "host"};
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

}  // namespace

// Writes one file at a time: shreds LogEvents into the leaf column writers, one row group at a
// time. Everything it allocates is kept for the next file.
class DataFileWriter::Impl {
 public:
  explicit Impl(const ParquetWriteOptions& options)
      : options_(options),
        compressor_(options.compression, options.zstd_level),
        ts_({{"ts"}, 1, 0}, options_, &compressor_),
        key_({{"attributes", "key_value", "key"}, 2, 1}, options_, &compressor_),
        value_({{"attributes", "key_value", "value"}, 3, 1}, options_, &compressor_) {
    strings_.reserve(kStringColumns.size());
    for (std::string_view name : kStringColumns) {
      strings_.emplace_back(LeafSpec{{std::string(name)}, 1, 0}, options_, &compressor_);
    }
  }

  // Whether this writer was built for `options` (the column writers and the codec keep them).
  bool Matches(const ParquetWriteOptions& options) const {
    return options.compression == options_.compression &&
           options.zstd_level == options_.zstd_level &&
           options.page_size_bytes == options_.page_size_bytes &&
           options.row_group_size_bytes == options_.row_group_size_bytes &&
           options.dictionary_limit_bytes == options_.dictionary_limit_bytes;
  }

  Status Write(WritableFile* file, std::span<const LogEvent* const> rows, DataFileStats* stats);

 private:
  // Shreds rows[begin, end) into the column writers, where `end` closes the row group once
  // the rows' estimated size reaches row_group_size_bytes. Returns `end`.
  size_t Shred(std::span<const LogEvent* const> rows, size_t begin);
  Status FlushRowGroup(WritableFile* file, int64_t num_rows);
  // Offset in the file of the next byte appended to buffer_.
  uint64_t Offset(const WritableFile* file) const { return file->Size() + buffer_.size(); }

  const ParquetWriteOptions options_;  // the column writers refer to this copy
  PageCompressor compressor_;
  Int64ColumnWriter ts_;
  std::vector<ByteArrayColumnWriter> strings_;  // kStringColumns order
  ByteArrayColumnWriter key_;
  ByteArrayColumnWriter value_;
  std::vector<format::RowGroup> row_groups_;
  std::string buffer_;  // file bytes not yet handed to the file
};

size_t DataFileWriter::Impl::Shred(std::span<const LogEvent* const> rows, size_t begin) {
  const size_t expected =
      std::min(rows.size() - begin, options_.row_group_size_bytes / kMinRowBytes + 1);
  ts_.Reserve(expected);
  for (auto& w : strings_) w.Reserve(expected);
  ByteArrayColumnWriter& level = strings_[0];
  ByteArrayColumnWriter* const optional_columns[] = {&strings_[1], &strings_[2], &strings_[3],
                                                     &strings_[4], &strings_[5]};
  size_t bytes = 0;
  size_t i = begin;
  for (; i < rows.size() && (i == begin || bytes < options_.row_group_size_bytes); ++i) {
    if (i + kPrefetchRows < rows.size()) PrefetchEvent(rows[i + kPrefetchRows]);
    if (i + kPrefetchRows / 2 < rows.size()) PrefetchEventData(rows[i + kPrefetchRows / 2]);
    const LogEvent& e = *rows[i];
    const std::string_view level_name = LevelName(e.level);
    bytes += kMinRowBytes + level_name.size();
    ts_.AppendValue(e.ts_micros, 0);
    level.AppendValue(level_name, 0);
    const std::optional<std::string>* optional_fields[] = {&e.stage, &e.status, &e.message,
                                                           &e.run_id, &e.host};
    for (size_t f = 0; f < 5; ++f) {
      const std::optional<std::string>& field = *optional_fields[f];
      if (field.has_value()) {
        optional_columns[f]->AppendValue(*field, 0);
        bytes += field->size() + 4;
      } else {
        optional_columns[f]->AppendNull(0, 0);
      }
    }
    // An empty map is defined (level 1) with no key_value entry.
    if (e.attributes.empty()) {
      key_.AppendNull(1, 0);
      value_.AppendNull(1, 0);
    } else {
      int16_t rep = 0;
      for (const auto& [key, value] : e.attributes) {
        key_.AppendValue(key, rep);
        value_.AppendValue(value, rep);
        bytes += key.size() + value.size() + 8;
        rep = 1;
      }
    }
  }
  return i;
}

Status DataFileWriter::Impl::FlushRowGroup(WritableFile* file, int64_t num_rows) {
  format::RowGroup group;
  group.num_rows = num_rows;
  const uint64_t group_offset = Offset(file);
  auto write_chunk = [&](auto& writer) -> Status {
    format::ColumnChunk chunk;
    LAKELOG_RETURN_IF_ERROR(writer.WriteChunk(Offset(file), &buffer_, &chunk));
    writer.Clear();
    if (buffer_.size() >= kWriteBufferBytes) {
      LAKELOG_RETURN_IF_ERROR(file->Append(buffer_));
      buffer_.clear();
    }
    group.total_byte_size += chunk.meta_data.total_uncompressed_size;
    group.columns.push_back(std::move(chunk));
    return Status::OK();
  };
  LAKELOG_RETURN_IF_ERROR(write_chunk(ts_));
  for (auto& w : strings_) LAKELOG_RETURN_IF_ERROR(write_chunk(w));
  LAKELOG_RETURN_IF_ERROR(write_chunk(key_));
  LAKELOG_RETURN_IF_ERROR(write_chunk(value_));
  group.__set_file_offset(static_cast<int64_t>(group_offset));
  group.__set_total_compressed_size(static_cast<int64_t>(Offset(file) - group_offset));
  group.__set_ordinal(static_cast<int16_t>(row_groups_.size()));
  row_groups_.push_back(std::move(group));
  return Status::OK();
}

Status DataFileWriter::Impl::Write(WritableFile* file, std::span<const LogEvent* const> rows,
                            DataFileStats* stats) {
  // State of the previous file, if any; the buffers' capacity stays.
  row_groups_.clear();
  ts_.ResetTotals();
  for (auto& w : strings_) w.ResetTotals();
  key_.ResetTotals();
  value_.ResetTotals();
  buffer_.clear();
  buffer_.append(kMagic);
  size_t begin = 0;
  while (begin < rows.size()) {
    if (row_groups_.size() >= static_cast<size_t>(INT16_MAX)) {
      return Status::InvalidArgument("too many row groups; raise row_group_size_bytes");
    }
    const size_t end = Shred(rows, begin);
    LAKELOG_RETURN_IF_ERROR(FlushRowGroup(file, static_cast<int64_t>(end - begin)));
    begin = end;
  }

  format::FileMetaData meta;
  meta.version = 1;
  meta.schema = LogSchema();
  meta.num_rows = static_cast<int64_t>(rows.size());
  meta.row_groups = std::move(row_groups_);
  meta.__set_created_by(CreatedBy());
  // Without column_orders, readers must ignore min_value/max_value.
  std::vector<format::ColumnOrder> orders(kNumLeaves);
  for (auto& order : orders) order.__set_TYPE_ORDER(format::TypeDefinedOrder());
  meta.__set_column_orders(orders);

  const size_t footer_start = buffer_.size();
  LAKELOG_RETURN_IF_ERROR(SerializeThrift(meta, &buffer_));
  const uint32_t footer_length = static_cast<uint32_t>(buffer_.size() - footer_start);
  for (int i = 0; i < 4; ++i) buffer_.push_back(static_cast<char>((footer_length >> (8 * i)) & 0xff));
  buffer_.append(kMagic);
  LAKELOG_RETURN_IF_ERROR(file->Append(buffer_));
  buffer_.clear();

  stats->num_rows = static_cast<int64_t>(rows.size());
  stats->file_size_bytes = file->Size();
  stats->min_ts_micros = ts_.totals().min.value_or(0);
  stats->max_ts_micros = ts_.totals().max.value_or(0);
  stats->string_columns.clear();
  for (size_t i = 0; i < kStringColumns.size(); ++i) {
    const auto& totals = strings_[i].totals();
    StringColumnStats column;
    column.name = std::string(kStringColumns[i]);
    if (totals.min) column.min = std::string(*totals.min);
    if (totals.max) column.max = std::string(*totals.max);
    column.null_count = totals.null_count;
    stats->string_columns.push_back(std::move(column));
  }
  stats->attributes_null_count = 0;
  return Status::OK();
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
  if (options.page_size_bytes == 0 || options.row_group_size_bytes == 0) {
    return Status::InvalidArgument("page and row group sizes must be positive");
  }
  LAKELOG_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs->NewWritableFile(path));
  if (impl_ == nullptr || !impl_->Matches(options)) impl_ = std::make_unique<Impl>(options);
  DataFileStats stats;
  Status status = impl_->Write(file.get(), rows, &stats);
  // A failure can leave a row group half-buffered in the column writers: start afresh.
  if (!status.ok()) impl_.reset();
  if (status.ok()) status = file->Sync();
  Status close = file->Close();
  if (!status.ok()) return status.WithContext(path);
  if (!close.ok()) return close.WithContext(path);
  return stats;
}

Result<DataFileStats> WriteLogEventsFile(FileSystem* fs, const std::string& path,
                                         std::span<const LogEvent* const> rows,
                                         const ParquetWriteOptions& options) {
  DataFileWriter writer;
  return writer.Write(fs, path, rows, options);
}

}  // namespace lakelog::parquet
