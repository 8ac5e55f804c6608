#include "parquet/columnar_reader.h"

#include <algorithm>
#include <cstring>

#include "parquet/file_format.h"
#include "parquet/thrift_serde.h"

namespace lakelog::parquet {

namespace {

// Checks a decoded chunk against its row group: one slot per row, or for a repeated column
// exactly num_rows record starts (repetition level 0), the first slot among them.
Status CheckRowCount(const ColumnVector& column, int64_t num_rows) {
  if (column.max_rep() == 0) {
    if (static_cast<int64_t>(column.size()) != num_rows) {
      return Status::Corruption("column has " + std::to_string(column.size()) +
                                " values for a row group of " + std::to_string(num_rows) + " rows");
    }
    return Status::OK();
  }
  const std::vector<uint16_t>& rep = column.rep_levels();
  if (!rep.empty() && rep[0] != 0) {
    return Status::Corruption("repeated column does not start with a record");
  }
  const int64_t records = static_cast<int64_t>(std::count(rep.begin(), rep.end(), 0));
  if (records != num_rows) {
    return Status::Corruption("repeated column has " + std::to_string(records) +
                              " records for a row group of " + std::to_string(num_rows) + " rows");
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<ParquetFile>> ParquetFile::Open(FileSystem* fs, const std::string& path) {
  std::unique_ptr<ParquetFile> file(new ParquetFile());
  file->path_ = path;
  LAKELOG_ASSIGN_OR_RETURN(file->file_, fs->NewRandomAccessFile(path));
  LAKELOG_RETURN_IF_ERROR(file->ReadFooter().WithContext(path));
  return file;
}

Status ParquetFile::ReadFooter() {
  size_ = file_->Size();
  if (size_ < kParquetMagic.size() + kFooterTrailerSize)
    return Status::Corruption("file too small");
  std::string bytes;
  LAKELOG_RETURN_IF_ERROR(file_->Read(0, kParquetMagic.size(), &bytes));
  if (bytes != kParquetMagic) return Status::Corruption("missing PAR1 header magic");
  LAKELOG_RETURN_IF_ERROR(file_->Read(size_ - kFooterTrailerSize, kFooterTrailerSize, &bytes));
  if (bytes.size() != kFooterTrailerSize) return Status::Corruption("short read of the trailer");
  if (bytes.substr(4) == kEncryptedParquetMagic) {
    return Status::NotSupported("encrypted parquet footer");
  }
  if (bytes.substr(4) != kParquetMagic) return Status::Corruption("missing PAR1 trailer magic");
  uint32_t footer_length;
  std::memcpy(&footer_length, bytes.data(), 4);
  if (footer_length > size_ - kParquetMagic.size() - kFooterTrailerSize) {
    return Status::Corruption("footer length exceeds the file");
  }
  footer_start_ = size_ - kFooterTrailerSize - footer_length;
  LAKELOG_RETURN_IF_ERROR(file_->Read(footer_start_, footer_length, &bytes));
  if (bytes.size() != footer_length) return Status::Corruption("short read of the footer");
  size_t consumed = 0;
  LAKELOG_RETURN_IF_ERROR(DeserializeThrift(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            bytes.size(), meta_.get(), &consumed));
  LAKELOG_ASSIGN_OR_RETURN(schema_, BuildSchema(meta_->schema));
  if (meta_->num_rows < 0) return Status::Corruption("negative row count");
  for (const format::RowGroup& group : meta_->row_groups) {
    if (group.num_rows < 0) return Status::Corruption("negative row group size");
  }
  return Status::OK();
}

std::optional<int> ParquetFile::FindLeaf(std::string_view dotted_path) const {
  for (size_t i = 0; i < schema_.leaf_paths.size(); ++i) {
    if (schema_.leaf_paths[i] == dotted_path) return static_cast<int>(i);
  }
  return std::nullopt;
}

Result<std::vector<int>> ParquetFile::ResolveProjection(
    const std::vector<std::string>& paths) const {
  std::vector<bool> selected(schema_.leaves.size(), false);
  std::vector<int> leaves;
  for (const std::string& path : paths) {
    bool found = false;
    for (size_t i = 0; i < schema_.leaf_paths.size(); ++i) {
      const std::string& leaf = schema_.leaf_paths[i];
      // The path itself, or a group on the way to it.
      if (leaf == path || (leaf.size() > path.size() && leaf.compare(0, path.size(), path) == 0 &&
                           leaf[path.size()] == '.')) {
        found = true;
        if (!selected[i]) leaves.push_back(static_cast<int>(i));
        selected[i] = true;
      }
    }
    if (!found) {
      return Status::InvalidArgument(path_ + ": no column " + path + " in the file");
    }
  }
  return leaves;
}

Result<ColumnStatistics> ParquetFile::Statistics(int rg, int leaf) const {
  const format::RowGroup& group = meta_->row_groups[rg];
  if (group.columns.size() != schema_.leaves.size()) {
    return Status::Corruption(path_ + ": row group column count differs from the schema");
  }
  const format::ColumnChunk& chunk = group.columns[leaf];
  ColumnStatistics out;
  if (!chunk.__isset.meta_data || !chunk.meta_data.__isset.statistics) return out;
  const format::Statistics& stats = chunk.meta_data.statistics;
  if (stats.__isset.null_count) {
    if (stats.null_count < 0) return Status::Corruption(path_ + ": negative null count");
    out.null_count = stats.null_count;
  }
  if (meta_->__isset.column_orders) {
    if (stats.__isset.min_value) {
      out.min_value = stats.min_value;
      out.min_is_exact = stats.__isset.is_min_value_exact && stats.is_min_value_exact;
    }
    if (stats.__isset.max_value) {
      out.max_value = stats.max_value;
      out.max_is_exact = stats.__isset.is_max_value_exact && stats.is_max_value_exact;
    }
  }
  return out;
}

Status ParquetFile::ReadRowGroup(int rg, const std::vector<int>& leaves,
                                 std::vector<ColumnVector>* columns) {
  if (rg < 0 || rg >= num_row_groups()) {
    return Status::InvalidArgument(path_ + ": no row group " + std::to_string(rg));
  }
  const format::RowGroup& group = meta_->row_groups[rg];
  if (group.columns.size() != schema_.leaves.size()) {
    return Status::Corruption(path_ + ": row group column count differs from the schema");
  }
  // One budget per call: the vectors of the previous call are overwritten, not kept.
  DecodeBudget budget(size_);
  columns->resize(leaves.size());
  for (size_t k = 0; k < leaves.size(); ++k) {
    const int leaf = leaves[k];
    if (leaf < 0 || leaf >= num_leaves()) {
      return Status::InvalidArgument(path_ + ": no leaf column " + std::to_string(leaf));
    }
    ColumnVector& column = (*columns)[k];
    Status s = ReadColumnChunk(*file_, footer_start_, group.columns[leaf],
                               schema_.nodes[schema_.leaves[leaf]], &budget, &scratch_, &column);
    if (s.ok()) s = CheckRowCount(column, group.num_rows);
    if (!s.ok()) return s.WithContext(path_ + ": column " + schema_.leaf_paths[leaf]);
  }
  return Status::OK();
}

}  // namespace lakelog::parquet
