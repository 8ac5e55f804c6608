// PlainFileBuilder: a whole Parquet file of any schema, built in memory, every value PLAIN.
//
// The data-file writer (log_file_writer.h) is built for one schema and for speed. Delta
// checkpoints need the other extreme: a nested schema (structs, maps, lists), a few rows per
// table file, written once every few commits. This builder takes the schema as the footer's
// flattened SchemaElement list and is fed leaf by leaf: the caller shreds each record itself,
// giving every leaf column one entry per record (more for repeated fields) as a value or a
// null at a definition level, with its repetition level. BuildSchema (schema.h) supplies the
// levels of each leaf, so the caller reads them instead of counting.
//
// Layout: one row group; per column chunk, data pages v1 of about page_size_bytes cut at record
// boundaries; levels RLE/bit-packed with the 4-byte length prefix; values PLAIN (BOOLEAN
// bit-packed); null_count statistics; column_orders written. INT32, INT64, BOOLEAN and
// BYTE_ARRAY leaves only.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lakelog/parquet_options.h"
#include "lakelog/status.h"
#include "parquet/schema.h"
#include "parquet_types.h"

namespace lakelog::parquet {

class PlainFileBuilder {
 public:
  // InvalidArgument when the schema is not a well-formed tree or has a leaf of another type.
  static Result<std::unique_ptr<PlainFileBuilder>> Make(std::vector<format::SchemaElement> elements,
                                                        const ParquetWriteOptions& options);
  ~PlainFileBuilder();

  // Leaves in schema order, each named by its dotted path (e.g.
  // "add.partitionValues.key_value.key"); the names live as long as the builder. The leaves
  // under any group are consecutive.
  size_t num_leaves() const { return columns_.size(); }
  const std::string& leaf_path(size_t leaf) const { return schema_.leaf_paths[leaf]; }
  int16_t max_def(size_t leaf) const { return columns_[leaf].max_def; }

  // A value of leaf `leaf` (its definition level is max_def). The type must be the leaf's.
  void Int32(size_t leaf, int32_t value, int16_t rep = 0);
  void Int64(size_t leaf, int64_t value, int16_t rep = 0);
  void Bool(size_t leaf, bool value, int16_t rep = 0);
  void Bytes(size_t leaf, std::string_view value, int16_t rep = 0);
  // No value: the deepest defined ancestor is at definition level `def` (< max_def).
  void Null(size_t leaf, int16_t def, int16_t rep = 0);
  // Ends a record. Every leaf must have been given its entries for it.
  void EndRecord() { ++num_rows_; }

  // The whole file: magic, the row group, the footer. InvalidArgument when a leaf was given a
  // value of the wrong type or the leaves disagree on the record count.
  Result<std::string> Finish();

 private:
  struct Column {
    std::vector<std::string> path;
    format::Type::type type = format::Type::BYTE_ARRAY;
    int16_t max_def = 0;
    int16_t max_rep = 0;
    std::vector<int16_t> def_levels;
    std::vector<int16_t> rep_levels;
    std::string values;  // PLAIN, except BOOLEAN: one byte (0/1) per value, packed on output
    size_t num_values = 0;
    bool wrong_type = false;
  };

  PlainFileBuilder(std::vector<format::SchemaElement> elements, FileSchema schema,
                   const ParquetWriteOptions& options);
  void Push(Column& c, int16_t rep, bool has_value);
  Status WriteChunk(Column& c, std::string* out, format::ColumnChunk* chunk);
  Status WritePage(const Column& c, size_t slot_begin, size_t slot_end, size_t value_begin,
                   size_t value_end, size_t byte_begin, size_t byte_end, std::string* out,
                   int64_t* uncompressed, int64_t* compressed);

  std::vector<format::SchemaElement> elements_;
  FileSchema schema_;
  ParquetWriteOptions options_;
  std::vector<Column> columns_;
  int64_t num_rows_ = 0;
  std::unique_ptr<class PageCompressor> compressor_;
  // Reused across pages.
  std::string page_;
  std::string levels_scratch_;
  std::string header_;
};

}  // namespace lakelog::parquet
