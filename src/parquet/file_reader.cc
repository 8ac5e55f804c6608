#include "parquet/file_reader.h"

#include <cstring>
#include <memory>

#include "parquet/column_chunk_reader.h"
#include "parquet/schema.h"
#include "parquet/thrift_serde.h"
#include "parquet_types.h"

namespace lakelog::parquet {

namespace {

using nlohmann::json;

constexpr std::string_view kMagic = "PAR1";
constexpr std::string_view kEncryptedMagic = "PARE";
constexpr size_t kTrailerSize = 8;  // footer length + magic

struct OpenedFile {
  std::unique_ptr<RandomAccessFile> file;
  uint64_t size = 0;
  uint64_t footer_start = 0;  // column data lies in [4, footer_start)
  // Held by pointer: deserialized structs are never copied or moved (see RawEnum).
  std::unique_ptr<format::FileMetaData> meta = std::make_unique<format::FileMetaData>();
  FileSchema schema;
};

Status OpenParquet(FileSystem* fs, const std::string& path, OpenedFile* out) {
  LAKELOG_ASSIGN_OR_RETURN(out->file, fs->NewRandomAccessFile(path));
  out->size = out->file->Size();
  if (out->size < kMagic.size() + kTrailerSize) return Status::Corruption("file too small");
  std::string bytes;
  LAKELOG_RETURN_IF_ERROR(out->file->Read(0, kMagic.size(), &bytes));
  if (bytes != kMagic) return Status::Corruption("missing PAR1 header magic");
  LAKELOG_RETURN_IF_ERROR(out->file->Read(out->size - kTrailerSize, kTrailerSize, &bytes));
  if (bytes.size() != kTrailerSize) return Status::Corruption("short read of the trailer");
  if (bytes.substr(4) == kEncryptedMagic) {
    return Status::NotSupported("encrypted parquet footer");
  }
  if (bytes.substr(4) != kMagic) return Status::Corruption("missing PAR1 trailer magic");
  uint32_t footer_length;
  std::memcpy(&footer_length, bytes.data(), 4);
  if (footer_length > out->size - kMagic.size() - kTrailerSize) {
    return Status::Corruption("footer length exceeds the file");
  }
  out->footer_start = out->size - kTrailerSize - footer_length;
  LAKELOG_RETURN_IF_ERROR(out->file->Read(out->footer_start, footer_length, &bytes));
  if (bytes.size() != footer_length) return Status::Corruption("short read of the footer");
  size_t consumed = 0;
  LAKELOG_RETURN_IF_ERROR(DeserializeThrift(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            bytes.size(), out->meta.get(), &consumed));
  LAKELOG_ASSIGN_OR_RETURN(out->schema, BuildSchema(out->meta->schema));
  if (out->meta->num_rows < 0) return Status::Corruption("negative row count");
  return Status::OK();
}

// Rebuilds records from the leaves' levels (Dremel record assembly). One instance per row group.
class RecordAssembler {
 public:
  RecordAssembler(const FileSchema& schema, std::vector<ColumnData>* columns)
      : schema_(schema),
        columns_(*columns),
        level_pos_(columns->size(), 0),
        value_pos_(columns->size(), 0) {}

  bool AtEnd() const {
    return columns_.empty() || level_pos_[0] >= columns_[0].def_levels.size();
  }

  // Every leaf must be used up once the last record is read.
  bool AllConsumed() const {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (level_pos_[i] != columns_[i].def_levels.size() ||
          value_pos_[i] != columns_[i].values.size()) {
        return false;
      }
    }
    return true;
  }

  Status ReadRecord(json* row) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (level_pos_[i] >= columns_[i].def_levels.size() || Rep(static_cast<int>(i)) != 0) {
        return Status::Corruption("leaf columns disagree on record boundaries");
      }
    }
    *row = json::object();
    for (int child : schema_.nodes[0].children) {
      LAKELOG_RETURN_IF_ERROR(ReadField(child, &(*row)[schema_.nodes[child].name]));
    }
    return Status::OK();
  }

 private:
  uint16_t Def(int leaf) const { return columns_[leaf].def_levels[level_pos_[leaf]]; }
  uint16_t Rep(int leaf) const {
    return columns_[leaf].rep_levels.empty() ? 0 : columns_[leaf].rep_levels[level_pos_[leaf]];
  }
  Status CheckLeaf(int leaf) const {
    if (level_pos_[leaf] >= columns_[leaf].def_levels.size() ||
        (!columns_[leaf].rep_levels.empty() &&
         level_pos_[leaf] >= columns_[leaf].rep_levels.size())) {
      return Status::Corruption("leaf column ends inside a record");
    }
    return Status::OK();
  }

  // Consumes the single level entry every leaf below `node` has when `node` is absent.
  Status Skip(int node) {
    const SchemaNode& n = schema_.nodes[node];
    for (int leaf = n.first_leaf; leaf < n.first_leaf + n.num_leaves; ++leaf) {
      LAKELOG_RETURN_IF_ERROR(CheckLeaf(leaf));
      if (Def(leaf) >= n.max_def) return Status::Corruption("leaf levels disagree on a null");
      ++level_pos_[leaf];
    }
    return Status::OK();
  }

  Status ReadField(int node, json* out) {
    const SchemaNode& n = schema_.nodes[node];
    if (n.repetition != format::FieldRepetitionType::REPEATED) return ReadInstance(node, out);
    const int first = n.first_leaf;
    LAKELOG_RETURN_IF_ERROR(CheckLeaf(first));
    *out = json::array();
    if (Def(first) < n.max_def) return Skip(node);  // empty, the parent is present
    while (true) {
      json element;
      LAKELOG_RETURN_IF_ERROR(ReadInstance(node, &element));
      out->push_back(std::move(element));
      if (level_pos_[first] >= columns_[first].def_levels.size()) break;
      const uint16_t rep = Rep(first);
      if (rep < n.max_rep) break;
      if (rep > n.max_rep || Def(first) < n.max_def) {
        return Status::Corruption("inconsistent repetition levels");
      }
    }
    return Status::OK();
  }

  // One instance of `node` (one element when it is repeated).
  Status ReadInstance(int node, json* out) {
    const SchemaNode& n = schema_.nodes[node];
    const int first = n.first_leaf;
    LAKELOG_RETURN_IF_ERROR(CheckLeaf(first));
    if (n.repetition == format::FieldRepetitionType::OPTIONAL && Def(first) < n.max_def) {
      *out = nullptr;
      return Skip(node);
    }
    if (n.is_leaf) {
      if (Def(first) != n.max_def) return Status::Corruption("missing required value");
      if (value_pos_[first] >= columns_[first].values.size()) {
        return Status::Corruption("leaf column has fewer values than levels");
      }
      *out = std::move(columns_[first].values[value_pos_[first]++]);
      ++level_pos_[first];
      return Status::OK();
    }
    *out = json::object();
    for (int child : n.children) {
      LAKELOG_RETURN_IF_ERROR(ReadField(child, &(*out)[schema_.nodes[child].name]));
    }
    if (n.annotation == NodeAnnotation::kMap) ConvertMap(n, out);
    if (n.annotation == NodeAnnotation::kList) ConvertList(n, out);
    return Status::OK();
  }

  // MAP: group (MAP) { repeated group key_value { key; value; } } -> {"key": value, ...}.
  void ConvertMap(const SchemaNode& n, json* out) {
    if (n.children.size() != 1) return;
    const SchemaNode& kv = schema_.nodes[n.children[0]];
    if (kv.repetition != format::FieldRepetitionType::REPEATED || kv.is_leaf ||
        kv.children.empty() || kv.children.size() > 2) {
      return;
    }
    const std::string& key_name = schema_.nodes[kv.children[0]].name;
    const std::string* value_name =
        kv.children.size() == 2 ? &schema_.nodes[kv.children[1]].name : nullptr;
    json map = json::object();
    for (json& entry : (*out)[kv.name]) {
      json& key = entry[key_name];
      std::string key_text = key.is_string() ? key.get<std::string>() : key.dump();
      map[key_text] = value_name ? std::move(entry[*value_name]) : json(nullptr);
    }
    *out = std::move(map);
  }

  // LIST, with the backward-compatibility rules of the format spec for 2-level lists.
  void ConvertList(const SchemaNode& n, json* out) {
    if (n.children.size() != 1) return;
    const SchemaNode& repeated = schema_.nodes[n.children[0]];
    if (repeated.repetition != format::FieldRepetitionType::REPEATED) return;
    json elements = std::move((*out)[repeated.name]);
    const bool element_is_child = !repeated.is_leaf && repeated.children.size() == 1 &&
                                  repeated.name != "array" && repeated.name != n.name + "_tuple";
    if (element_is_child) {
      const std::string& child_name = schema_.nodes[repeated.children[0]].name;
      for (json& e : elements) e = std::move(e[child_name]);
    }
    *out = std::move(elements);
  }

  const FileSchema& schema_;
  std::vector<ColumnData>& columns_;
  std::vector<size_t> level_pos_;
  std::vector<size_t> value_pos_;
};

}  // namespace

Result<ParquetFileSummary> ReadParquetSummary(FileSystem* fs, const std::string& path) {
  OpenedFile opened;
  LAKELOG_RETURN_IF_ERROR(OpenParquet(fs, path, &opened).WithContext(path));
  ParquetFileSummary summary;
  summary.num_rows = opened.meta->num_rows;
  summary.created_by = opened.meta->created_by;
  summary.num_row_groups = static_cast<int>(opened.meta->row_groups.size());
  summary.leaf_paths = opened.schema.leaf_paths;
  return summary;
}

Result<std::vector<json>> ReadParquetRowsAsJson(FileSystem* fs, const std::string& path) {
  OpenedFile opened;
  LAKELOG_RETURN_IF_ERROR(OpenParquet(fs, path, &opened).WithContext(path));
  const FileSchema& schema = opened.schema;
  DecodeBudget budget(opened.size);
  std::vector<json> rows;
  for (const format::RowGroup& group : opened.meta->row_groups) {
    if (group.columns.size() != schema.leaves.size()) {
      return Status::Corruption(path + ": row group column count differs from the schema");
    }
    if (group.num_rows < 0) return Status::Corruption(path + ": negative row group size");
    std::vector<ColumnData> columns(schema.leaves.size());
    for (size_t i = 0; i < schema.leaves.size(); ++i) {
      Status s = ReadColumnChunk(*opened.file, opened.footer_start, group.columns[i],
                                 schema.nodes[schema.leaves[i]], &budget, &columns[i]);
      if (!s.ok()) return s.WithContext(path + ": column " + schema.leaf_paths[i]);
    }
    if (schema.leaves.empty()) {
      LAKELOG_RETURN_IF_ERROR(budget.Charge(static_cast<uint64_t>(group.num_rows) * sizeof(json)));
      for (int64_t r = 0; r < group.num_rows; ++r) rows.push_back(json::object());
      continue;
    }
    RecordAssembler assembler(schema, &columns);
    int64_t records = 0;
    while (!assembler.AtEnd()) {
      json row;
      Status s = assembler.ReadRecord(&row);
      if (!s.ok()) return s.WithContext(path);
      rows.push_back(std::move(row));
      ++records;
    }
    if (!assembler.AllConsumed() || records != group.num_rows) {
      return Status::Corruption(path + ": leaf columns disagree with the row count");
    }
  }
  return rows;
}

}  // namespace lakelog::parquet
