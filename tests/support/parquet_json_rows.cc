#include "support/parquet_json_rows.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "parquet/column_vector.h"
#include "parquet/columnar_reader.h"
#include "parquet/schema.h"

namespace lakelog::parquet {

namespace {

using nlohmann::json;

json ValueAsJson(const ColumnVector& column, size_t slot) {
  switch (column.layout()) {
    case VectorLayout::kBool: return json(column.bools()[slot] != 0);
    case VectorLayout::kInt32: return json(column.int32s()[slot]);
    case VectorLayout::kInt64: return json(column.int64s()[slot]);
    case VectorLayout::kFloat: return json(column.floats()[slot]);
    case VectorLayout::kDouble: return json(column.doubles()[slot]);
    case VectorLayout::kBytes:
    case VectorLayout::kDictionary: return json(std::string(column.GetBytes(slot)));
  }
  return json(nullptr);
}

// Rebuilds records from the leaves' levels (Dremel record assembly) for the top-level fields
// `fields`. columns[leaf] is the decoded leaf, or null for leaves outside those fields.
// Slot i of a vector holds the value of level entry i, so one position per leaf suffices.
class RecordAssembler {
 public:
  RecordAssembler(const FileSchema& schema, const std::vector<int>& fields,
                  const std::vector<const ColumnVector*>& columns)
      : schema_(schema), fields_(fields), columns_(columns), pos_(columns.size(), 0) {
    for (int field : fields_) {
      const SchemaNode& n = schema_.nodes[field];
      for (int leaf = n.first_leaf; leaf < n.first_leaf + n.num_leaves; ++leaf) {
        leaves_.push_back(leaf);
      }
    }
  }

  bool AtEnd() const { return leaves_.empty() || pos_[leaves_[0]] >= columns_[leaves_[0]]->size(); }

  // Every leaf must be used up once the last record is read.
  bool AllConsumed() const {
    for (int leaf : leaves_) {
      if (pos_[leaf] != columns_[leaf]->size()) return false;
    }
    return true;
  }

  Status ReadRecord(json* row) {
    for (int leaf : leaves_) {
      if (pos_[leaf] >= columns_[leaf]->size() || Rep(leaf) != 0) {
        return Status::Corruption("leaf columns disagree on record boundaries");
      }
    }
    *row = json::object();
    for (int field : fields_) {
      LAKELOG_RETURN_IF_ERROR(ReadField(field, &(*row)[schema_.nodes[field].name]));
    }
    return Status::OK();
  }

 private:
  uint16_t Def(int leaf) const { return columns_[leaf]->DefLevel(pos_[leaf]); }
  uint16_t Rep(int leaf) const { return columns_[leaf]->RepLevel(pos_[leaf]); }
  Status CheckLeaf(int leaf) const {
    if (pos_[leaf] >= columns_[leaf]->size()) {
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
      ++pos_[leaf];
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
      if (pos_[first] >= columns_[first]->size()) break;
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
      *out = ValueAsJson(*columns_[first], pos_[first]++);
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
  const std::vector<int>& fields_;
  const std::vector<const ColumnVector*>& columns_;
  std::vector<int> leaves_;  // the leaves below fields_, in schema order
  std::vector<size_t> pos_;  // per leaf: the next slot to read
};

Result<std::vector<json>> ReadRows(FileSystem* fs, const std::string& path,
                                   const std::vector<std::string>* top_level_columns) {
  LAKELOG_ASSIGN_OR_RETURN(std::unique_ptr<ParquetFile> file, ParquetFile::Open(fs, path));
  const FileSchema& schema = file->schema();
  std::vector<int> fields;
  for (int child : schema.nodes[0].children) {
    if (top_level_columns == nullptr ||
        std::find(top_level_columns->begin(), top_level_columns->end(), schema.nodes[child].name) !=
            top_level_columns->end()) {
      fields.push_back(child);
    }
  }
  std::vector<int> leaves;
  for (int field : fields) {
    const SchemaNode& n = schema.nodes[field];
    for (int leaf = n.first_leaf; leaf < n.first_leaf + n.num_leaves; ++leaf) {
      leaves.push_back(leaf);
    }
  }
  // The rows are kept for the whole file, so they are charged to one budget of their own; the
  // decoded vectors of each row group are charged (and reused) by ReadRowGroup.
  DecodeBudget budget(file->file_size());
  std::vector<json> rows;
  std::vector<ColumnVector> decoded;
  std::vector<const ColumnVector*> by_leaf(schema.leaves.size(), nullptr);
  for (int rg = 0; rg < file->num_row_groups(); ++rg) {
    const int64_t num_rows = file->RowGroupNumRows(rg);
    LAKELOG_RETURN_IF_ERROR(file->ReadRowGroup(rg, leaves, &decoded));
    for (size_t k = 0; k < leaves.size(); ++k) by_leaf[leaves[k]] = &decoded[k];
    if (leaves.empty()) {
      LAKELOG_RETURN_IF_ERROR(budget.Charge(static_cast<uint64_t>(num_rows) * sizeof(json)));
      for (int64_t r = 0; r < num_rows; ++r) rows.push_back(json::object());
      continue;
    }
    // Each slot becomes at least one JSON value, kept until the end.
    uint64_t values = static_cast<uint64_t>(num_rows);
    for (const ColumnVector& column : decoded) values += column.size();
    LAKELOG_RETURN_IF_ERROR(budget.Charge(values * sizeof(json)));
    rows.reserve(rows.size() + static_cast<size_t>(num_rows));
    RecordAssembler assembler(schema, fields, by_leaf);
    int64_t records = 0;
    while (!assembler.AtEnd()) {
      json row;
      Status s = assembler.ReadRecord(&row);
      if (!s.ok()) return s.WithContext(path);
      rows.push_back(std::move(row));
      ++records;
    }
    if (!assembler.AllConsumed() || records != num_rows) {
      return Status::Corruption(path + ": leaf columns disagree with the row count");
    }
  }
  return rows;
}

}  // namespace

Result<ParquetFileSummary> ReadParquetSummary(FileSystem* fs, const std::string& path) {
  LAKELOG_ASSIGN_OR_RETURN(std::unique_ptr<ParquetFile> file, ParquetFile::Open(fs, path));
  ParquetFileSummary summary;
  summary.num_rows = file->num_rows();
  summary.created_by = file->metadata().created_by;
  summary.num_row_groups = file->num_row_groups();
  summary.leaf_paths = file->schema().leaf_paths;
  return summary;
}

Result<std::vector<json>> ReadParquetRowsAsJson(FileSystem* fs, const std::string& path) {
  return ReadRows(fs, path, nullptr);
}

Result<std::vector<json>> ReadParquetRowsAsJson(FileSystem* fs, const std::string& path,
                                                const std::vector<std::string>& top_level_columns) {
  return ReadRows(fs, path, &top_level_columns);
}

}  // namespace lakelog::parquet
