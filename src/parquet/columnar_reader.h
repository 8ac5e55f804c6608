// The columnar Parquet reader: opens a file, exposes its footer (schema, row groups, column
// statistics) and decodes the column chunks a caller asks for straight into ColumnVectors.
//
//   auto file = ParquetFile::Open(fs, path);                   // reads and checks the footer
//   auto leaves = (*file)->ResolveProjection({"status", "stage"});
//   std::vector<ColumnVector> columns;
//   for (int rg = 0; rg < (*file)->num_row_groups(); ++rg) {
//     Status s = (*file)->ReadRowGroup(rg, *leaves, &columns); // only those chunks are read
//   }
//
// It reads what lakelog writes and what Spark, delta-rs and pyarrow write for Delta tables:
// data pages v1 and v2, PLAIN / PLAIN_DICTIONARY / RLE_DICTIONARY values, RLE booleans,
// RLE-hybrid levels, and the codecs of compression.h. Malformed input gives Corruption (never a
// crash, never an allocation beyond the DecodeBudget); encodings and codecs outside that set
// give NotSupported.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "parquet/column_chunk_reader.h"
#include "parquet/column_vector.h"
#include "parquet/schema.h"
#include "parquet_types.h"

namespace lakelog::parquet {

// A column chunk's statistics as the writer stored them. min/max are the PLAIN encoding of the
// value without a length prefix (the bytes themselves for byte arrays, little-endian for
// numbers). They are only given when the file declares its column orders (the format says to
// ignore min_value/max_value otherwise); the deprecated min/max fields are never used.
struct ColumnStatistics {
  std::optional<std::string> min_value;
  std::optional<std::string> max_value;
  bool min_is_exact = false;  // false when the writer truncated or did not say
  bool max_is_exact = false;
  std::optional<int64_t> null_count;
};

// One open Parquet file. Not thread-safe (it reuses decode buffers); open one per thread.
class ParquetFile {
 public:
  // Reads the footer. NotFound/IOError from `fs`; Corruption on a bad magic, footer length,
  // Thrift footer or schema; NotSupported for encrypted footers. Errors name `path`.
  static Result<std::unique_ptr<ParquetFile>> Open(FileSystem* fs, const std::string& path);

  const std::string& path() const { return path_; }
  const FileSchema& schema() const { return schema_; }
  const format::FileMetaData& metadata() const { return *meta_; }
  uint64_t file_size() const { return size_; }
  int64_t num_rows() const { return meta_->num_rows; }
  int num_row_groups() const { return static_cast<int>(meta_->row_groups.size()); }
  int num_leaves() const { return static_cast<int>(schema_.leaves.size()); }
  // Rows of row group `rg`, in [0, num_row_groups()).
  int64_t RowGroupNumRows(int rg) const { return meta_->row_groups[rg].num_rows; }

  // The leaf with this dotted path ("status", "attributes.key_value.key"), if any.
  std::optional<int> FindLeaf(std::string_view dotted_path) const;
  // Leaf indices for a list of dotted paths, in the order of `paths` (a group's leaves in
  // schema order), each leaf once: a leaf's path selects it, a group's path ("attributes",
  // "add.partitionValues") every leaf below it.
  // InvalidArgument naming the first path that matches nothing.
  Result<std::vector<int>> ResolveProjection(const std::vector<std::string>& paths) const;

  // Statistics of leaf `leaf` in row group `rg`; Corruption when the chunk is malformed.
  Result<ColumnStatistics> Statistics(int rg, int leaf) const;

  // Decodes leaves[k] of row group `rg` into (*columns)[k], resizing *columns to
  // leaves.size() and reusing the vectors' buffers. Every vector is checked against the row
  // group's row count (one slot per row, or num_rows records for a repeated column), so a
  // caller may index slots by row. Corruption/NotSupported as described above, with the file
  // and column in the message.
  Status ReadRowGroup(int rg, const std::vector<int>& leaves, std::vector<ColumnVector>* columns);

 private:
  ParquetFile() = default;
  Status ReadFooter();

  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t size_ = 0;
  uint64_t footer_start_ = 0;  // column data lies in [4, footer_start_)
  // Held by pointer: deserialized structs are never copied or moved (see RawEnum).
  std::unique_ptr<format::FileMetaData> meta_ = std::make_unique<format::FileMetaData>();
  FileSchema schema_;
  DecodeScratch scratch_;
};

}  // namespace lakelog::parquet
