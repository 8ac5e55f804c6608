#include "parquet/plain_file_builder.h"

#include <cassert>
#include <cstring>

#include "parquet/column_writer.h"
#include "parquet/compression.h"
#include "parquet/rle_encoding.h"

namespace lakelog::parquet {

namespace {

// Size in `Column::values` of the value starting at `p`.
size_t StoredSize(format::Type::type type, const char* p) {
  switch (type) {
    case format::Type::INT32: return 4;
    case format::Type::INT64: return 8;
    case format::Type::BOOLEAN: return 1;
    default: {
      uint32_t length;
      std::memcpy(&length, p, 4);
      return 4 + static_cast<size_t>(length);
    }
  }
}

}  // namespace

Result<std::unique_ptr<PlainFileBuilder>> PlainFileBuilder::Make(
    std::vector<format::SchemaElement> elements, const ParquetWriteOptions& options) {
  Result<FileSchema> schema = BuildSchema(elements);
  if (!schema.ok()) return Status::InvalidArgument(schema.status().message());
  for (int node : schema->leaves) {
    const format::Type::type type = schema->nodes[node].physical_type;
    if (type != format::Type::INT32 && type != format::Type::INT64 &&
        type != format::Type::BOOLEAN && type != format::Type::BYTE_ARRAY) {
      return Status::InvalidArgument("leaf " + schema->nodes[node].name +
                                     ": only INT32, INT64, BOOLEAN and BYTE_ARRAY are written");
    }
  }
  if (options.page_size_bytes == 0) return Status::InvalidArgument("page size must be positive");
  return std::unique_ptr<PlainFileBuilder>(
      new PlainFileBuilder(std::move(elements), std::move(*schema), options));
}

PlainFileBuilder::PlainFileBuilder(std::vector<format::SchemaElement> elements, FileSchema schema,
                                   const ParquetWriteOptions& options)
    : elements_(std::move(elements)),
      schema_(std::move(schema)),
      options_(options),
      compressor_(std::make_unique<PageCompressor>(options.compression, options.zstd_level)) {
  columns_.resize(schema_.leaves.size());
  for (size_t i = 0; i < columns_.size(); ++i) {
    const SchemaNode& node = schema_.nodes[schema_.leaves[i]];
    Column& c = columns_[i];
    c.type = node.physical_type;
    c.max_def = node.max_def;
    c.max_rep = node.max_rep;
    // path_in_schema: the dotted leaf path split at the dots BuildSchema joined them with.
    std::string_view dotted = schema_.leaf_paths[i];
    size_t start = 0;
    while (true) {
      size_t dot = dotted.find('.', start);
      c.path.emplace_back(dotted.substr(start, dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
}

PlainFileBuilder::~PlainFileBuilder() = default;

void PlainFileBuilder::Push(Column& c, int16_t rep, bool has_value) {
  if (c.max_rep > 0) c.rep_levels.push_back(rep);
  if (has_value) {
    c.def_levels.push_back(c.max_def);
    ++c.num_values;
  }
}

void PlainFileBuilder::Int32(size_t leaf, int32_t value, int16_t rep) {
  Column& c = columns_[leaf];
  c.wrong_type |= c.type != format::Type::INT32;
  c.values.append(reinterpret_cast<const char*>(&value), 4);
  Push(c, rep, true);
}

void PlainFileBuilder::Int64(size_t leaf, int64_t value, int16_t rep) {
  Column& c = columns_[leaf];
  c.wrong_type |= c.type != format::Type::INT64;
  c.values.append(reinterpret_cast<const char*>(&value), 8);
  Push(c, rep, true);
}

void PlainFileBuilder::Bool(size_t leaf, bool value, int16_t rep) {
  Column& c = columns_[leaf];
  c.wrong_type |= c.type != format::Type::BOOLEAN;
  c.values.push_back(value ? 1 : 0);
  Push(c, rep, true);
}

void PlainFileBuilder::Bytes(size_t leaf, std::string_view value, int16_t rep) {
  Column& c = columns_[leaf];
  c.wrong_type |= c.type != format::Type::BYTE_ARRAY;
  const auto length = static_cast<uint32_t>(value.size());
  c.values.append(reinterpret_cast<const char*>(&length), 4);
  c.values.append(value);
  Push(c, rep, true);
}

void PlainFileBuilder::Null(size_t leaf, int16_t def, int16_t rep) {
  Column& c = columns_[leaf];
  c.wrong_type |= def >= c.max_def;
  c.def_levels.push_back(def);
  if (c.max_rep > 0) c.rep_levels.push_back(rep);
}

Status PlainFileBuilder::WritePage(const Column& c, size_t slot_begin, size_t slot_end,
                                   size_t value_begin, size_t value_end, size_t byte_begin,
                                   size_t byte_end, std::string* out, int64_t* uncompressed,
                                   int64_t* compressed) {
  std::string& body = page_;
  body.clear();
  if (c.max_rep > 0) {
    AppendLevelsV1(c.rep_levels.data() + slot_begin, slot_end - slot_begin, c.max_rep,
                   &levels_scratch_, &body);
  }
  if (c.max_def > 0) {
    AppendLevelsV1(c.def_levels.data() + slot_begin, slot_end - slot_begin, c.max_def,
                   &levels_scratch_, &body);
  }
  if (c.type == format::Type::BOOLEAN) {
    // PLAIN booleans: one bit each, least significant bit first.
    const size_t n = value_end - value_begin;
    const size_t start = body.size();
    body.resize(start + (n + 7) / 8, '\0');
    for (size_t i = 0; i < n; ++i) {
      if (c.values[value_begin + i] != 0) body[start + i / 8] |= static_cast<char>(1 << (i % 8));
    }
  } else {
    body.append(c.values, byte_begin, byte_end - byte_begin);
  }
  return AppendPage(
      DataPageV1Header(static_cast<int32_t>(slot_end - slot_begin), format::Encoding::PLAIN), body,
      compressor_.get(), &header_, out, uncompressed, compressed);
}

Status PlainFileBuilder::WriteChunk(Column& c, std::string* out, format::ColumnChunk* chunk) {
  const auto chunk_offset = static_cast<int64_t>(out->size());
  int64_t uncompressed = 0;
  int64_t compressed = 0;
  int32_t pages = 0;
  const size_t num_slots = c.def_levels.size();
  size_t slot = 0;
  size_t value = 0;
  size_t byte = 0;
  // Invariant: a page starts at a record boundary (repetition level 0). A chunk with no
  // entries at all (a file of no records) still gets one empty page.
  do {
    const size_t slot_begin = slot;
    const size_t value_begin = value;
    const size_t byte_begin = byte;
    assert(slot >= num_slots || c.max_rep == 0 || c.rep_levels[slot] == 0);
    while (slot < num_slots) {
      if (byte - byte_begin >= options_.page_size_bytes && slot > slot_begin &&
          (c.max_rep == 0 || c.rep_levels[slot] == 0)) {
        break;
      }
      if (c.def_levels[slot] == c.max_def) {
        byte += StoredSize(c.type, c.values.data() + byte);
        ++value;
      }
      ++slot;
    }
    LAKELOG_RETURN_IF_ERROR(WritePage(c, slot_begin, slot, value_begin, value, byte_begin, byte,
                                      out, &uncompressed, &compressed));
    ++pages;
  } while (slot < num_slots);

  format::ColumnMetaData meta;
  meta.type = c.type;
  meta.encodings = {format::Encoding::PLAIN, format::Encoding::RLE};
  meta.path_in_schema = c.path;
  meta.codec = CodecFor(compressor_->compression());
  meta.num_values = static_cast<int64_t>(num_slots);
  meta.total_uncompressed_size = uncompressed;
  meta.total_compressed_size = compressed;
  meta.data_page_offset = chunk_offset;
  format::Statistics stats;
  stats.__set_null_count(static_cast<int64_t>(num_slots - c.num_values));
  meta.__set_statistics(stats);
  format::PageEncodingStats encoding;
  encoding.page_type = format::PageType::DATA_PAGE;
  encoding.encoding = format::Encoding::PLAIN;
  encoding.count = pages;
  meta.__set_encoding_stats({encoding});
  chunk->file_offset = chunk_offset;
  chunk->__set_meta_data(meta);
  return Status::OK();
}

Result<std::string> PlainFileBuilder::Finish() {
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& c = columns_[i];
    const std::string& leaf = schema_.leaf_paths[i];
    if (c.wrong_type) {
      return Status::InvalidArgument("leaf " + leaf + " was given a value of another type");
    }
    size_t records = c.def_levels.size();
    if (c.max_rep > 0) {
      records = 0;
      for (int16_t rep : c.rep_levels) records += rep == 0 ? 1 : 0;
    }
    if (records != static_cast<size_t>(num_rows_)) {
      return Status::InvalidArgument("leaf " + leaf + " has " + std::to_string(records) +
                                     " records, not " + std::to_string(num_rows_));
    }
  }
  std::string out(kParquetMagic);
  format::RowGroup group;
  group.num_rows = num_rows_;
  const auto group_offset = static_cast<int64_t>(out.size());
  for (Column& c : columns_) {
    format::ColumnChunk chunk;
    LAKELOG_RETURN_IF_ERROR(WriteChunk(c, &out, &chunk));
    group.total_byte_size += chunk.meta_data.total_uncompressed_size;
    group.columns.push_back(std::move(chunk));
  }
  group.__set_file_offset(group_offset);
  group.__set_total_compressed_size(static_cast<int64_t>(out.size()) - group_offset);
  group.__set_ordinal(0);

  format::FileMetaData meta;
  meta.version = 1;
  meta.schema = elements_;
  meta.num_rows = num_rows_;
  meta.row_groups.push_back(std::move(group));
  LAKELOG_RETURN_IF_ERROR(AppendFooter(std::move(meta), columns_.size(), &out));
  return out;
}

}  // namespace lakelog::parquet
