#include "delta/checkpoint_reader.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "delta/partition_path.h"
#include "parquet/columnar_reader.h"

namespace lakelog::delta {

namespace {

using parquet::ColumnVector;
using parquet::FileSchema;
using parquet::ParquetFile;
using parquet::SchemaNode;
using parquet::VectorLayout;

// What a leaf must hold to be read as a field of that kind.
enum class Kind : uint8_t { kString, kInteger, kBool, kAny };

// A scalar field: the position of its leaf among the decoded columns; -1 when the file has no
// such column (every row then reads it as null).
struct Scalar {
  int column = -1;
};

// A MAP<STRING, STRING> (key and value leaves) or a LIST<STRING> (key = the element leaf, no
// value). A slot of the key column holds an entry when its definition level reaches
// `entry_def`; below it, the map or list of that row is empty or null.
struct Entries {
  int key = -1;
  int value = -1;
  int16_t entry_def = 0;
};

// An action struct (add, remove, ...) or a nested struct (a deletion vector): present in a row
// when the first leaf below it is defined at least down to the struct itself.
struct Struct {
  int node = -1;
  int presence = -1;  // column of the first leaf below the struct
};

struct DeletionVectorPlan {
  Struct s;
  Scalar storage_type, path_or_inline, offset;
};

struct ProtocolPlan {
  Struct s;
  Scalar reader_version, writer_version;
  Entries reader_features, writer_features;
};

struct MetadataPlan {
  Struct s;
  Scalar id, name, description, schema_string, created_time;
  Struct format;
  Scalar provider;
  Entries format_options, partition_columns, configuration;
};

struct AddPlan {
  Struct s;
  Scalar path, size, modification_time, data_change, stats;
  Entries partition_values;
  DeletionVectorPlan dv;
};

struct RemovePlan {
  Struct s;
  Scalar path, deletion_timestamp, data_change, extended_file_metadata, size;
  Entries partition_values;
  DeletionVectorPlan dv;
};

struct TxnPlan {
  Struct s;
  Scalar app_id, version, last_updated;
};

class CheckpointDecoder {
 public:
  CheckpointDecoder(ParquetFile* file, std::string_view name)
      : file_(file), schema_(file->schema()), name_(name) {}

  // Locates every field in the file's schema and picks the leaves to decode.
  Status Plan() {
    LAKELOG_RETURN_IF_ERROR(PlanStruct(0, "protocol", &protocol_.s));
    LAKELOG_RETURN_IF_ERROR(
        PlanScalar(protocol_.s, "minReaderVersion", Kind::kInteger, &protocol_.reader_version));
    LAKELOG_RETURN_IF_ERROR(
        PlanScalar(protocol_.s, "minWriterVersion", Kind::kInteger, &protocol_.writer_version));
    LAKELOG_RETURN_IF_ERROR(PlanList(protocol_.s, "readerFeatures", &protocol_.reader_features));
    LAKELOG_RETURN_IF_ERROR(PlanList(protocol_.s, "writerFeatures", &protocol_.writer_features));

    MetadataPlan& m = metadata_;
    LAKELOG_RETURN_IF_ERROR(PlanStruct(0, "metaData", &m.s));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(m.s, "id", Kind::kString, &m.id));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(m.s, "name", Kind::kString, &m.name));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(m.s, "description", Kind::kString, &m.description));
    LAKELOG_RETURN_IF_ERROR(PlanStruct(m.s.node, "format", &m.format));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(m.format, "provider", Kind::kString, &m.provider));
    LAKELOG_RETURN_IF_ERROR(PlanMap(m.format, "options", &m.format_options));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(m.s, "schemaString", Kind::kString, &m.schema_string));
    LAKELOG_RETURN_IF_ERROR(PlanList(m.s, "partitionColumns", &m.partition_columns));
    LAKELOG_RETURN_IF_ERROR(PlanMap(m.s, "configuration", &m.configuration));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(m.s, "createdTime", Kind::kInteger, &m.created_time));

    AddPlan& a = add_;
    LAKELOG_RETURN_IF_ERROR(PlanStruct(0, "add", &a.s));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(a.s, "path", Kind::kString, &a.path));
    LAKELOG_RETURN_IF_ERROR(PlanMap(a.s, "partitionValues", &a.partition_values));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(a.s, "size", Kind::kInteger, &a.size));
    LAKELOG_RETURN_IF_ERROR(
        PlanScalar(a.s, "modificationTime", Kind::kInteger, &a.modification_time));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(a.s, "dataChange", Kind::kBool, &a.data_change));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(a.s, "stats", Kind::kString, &a.stats));
    LAKELOG_RETURN_IF_ERROR(PlanDeletionVector(a.s, &a.dv));

    RemovePlan& r = remove_;
    LAKELOG_RETURN_IF_ERROR(PlanStruct(0, "remove", &r.s));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(r.s, "path", Kind::kString, &r.path));
    LAKELOG_RETURN_IF_ERROR(
        PlanScalar(r.s, "deletionTimestamp", Kind::kInteger, &r.deletion_timestamp));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(r.s, "dataChange", Kind::kBool, &r.data_change));
    LAKELOG_RETURN_IF_ERROR(
        PlanScalar(r.s, "extendedFileMetadata", Kind::kBool, &r.extended_file_metadata));
    LAKELOG_RETURN_IF_ERROR(PlanMap(r.s, "partitionValues", &r.partition_values));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(r.s, "size", Kind::kInteger, &r.size));
    LAKELOG_RETURN_IF_ERROR(PlanDeletionVector(r.s, &r.dv));

    LAKELOG_RETURN_IF_ERROR(PlanStruct(0, "txn", &txn_.s));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(txn_.s, "appId", Kind::kString, &txn_.app_id));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(txn_.s, "version", Kind::kInteger, &txn_.version));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(txn_.s, "lastUpdated", Kind::kInteger, &txn_.last_updated));
    return Status::OK();
  }

  // Decodes every row group and appends each row's actions to *out.
  Status Decode(std::vector<Action>* out) {
    size_t first_row = 0;
    for (int rg = 0; rg < file_->num_row_groups(); ++rg) {
      const auto num_rows = static_cast<size_t>(file_->RowGroupNumRows(rg));
      LAKELOG_RETURN_IF_ERROR(file_->ReadRowGroup(rg, leaves_, &columns_));
      offsets_.resize(columns_.size());
      for (size_t k = 0; k < columns_.size(); ++k) {
        if (columns_[k].max_rep() == 1) columns_[k].RowOffsets(&offsets_[k]);
      }
      for (const Entries* map : maps_) {
        if (map->value >= 0 && columns_[map->value].size() != columns_[map->key].size()) {
          return Status::Corruption("_delta_log/" + name_ + ": the key and value columns of " +
                                    schema_.leaf_paths[leaves_[map->key]] + " disagree");
        }
      }
      for (size_t row = 0; row < num_rows; ++row) {
        row_number_ = first_row + row;
        LAKELOG_RETURN_IF_ERROR(DecodeRow(row, out));
      }
      first_row += num_rows;
    }
    return Status::OK();
  }

 private:
  // ---- Planning ------------------------------------------------------------------------------

  // The child of `node` called `name`; -1 when `node` is -1, a leaf, or has no such child.
  int Child(int node, std::string_view name) const {
    if (node < 0 || schema_.nodes[node].is_leaf) return -1;
    for (int child : schema_.nodes[node].children) {
      if (schema_.nodes[child].name == name) return child;
    }
    return -1;
  }

  Status Unreadable(int node, std::string_view why) const {
    // A leaf's dotted path is at its leaf index (its first_leaf); a group is named as it is.
    const SchemaNode& n = schema_.nodes[node];
    const std::string& path = n.is_leaf ? schema_.leaf_paths[n.first_leaf] : n.name;
    return Status::Corruption("_delta_log/" + name_ + ": checkpoint column " + path + " " +
                              std::string(why));
  }

  // The column position of leaf node `node`, adding it to the projection on first use.
  Result<int> Column(int node, Kind kind) {
    const SchemaNode& n = schema_.nodes[node];
    if (n.max_rep > 1) return Unreadable(node, "is nested deeper than a checkpoint's");
    using format::Type;
    const bool fits = kind == Kind::kAny ||
                      (kind == Kind::kString && n.physical_type == Type::BYTE_ARRAY) ||
                      (kind == Kind::kInteger &&
                       (n.physical_type == Type::INT32 || n.physical_type == Type::INT64)) ||
                      (kind == Kind::kBool && n.physical_type == Type::BOOLEAN);
    if (!fits) {
      const char* expected = kind == Kind::kString    ? "a string"
                             : kind == Kind::kInteger ? "an integer"
                                                      : "a boolean";
      return Unreadable(node, std::string("is not ") + expected);
    }
    auto [it, inserted] =
        column_of_leaf_.try_emplace(n.first_leaf, static_cast<int>(leaves_.size()));
    if (inserted) leaves_.push_back(n.first_leaf);
    return it->second;
  }

  Status PlanStruct(int parent, std::string_view name, Struct* out) {
    const int node = Child(parent, name);
    if (node < 0) return Status::OK();
    if (schema_.nodes[node].is_leaf) return Unreadable(node, "is not a struct");
    out->node = node;
    const int first_leaf_node = schema_.leaves[schema_.nodes[node].first_leaf];
    LAKELOG_ASSIGN_OR_RETURN(out->presence, Column(first_leaf_node, Kind::kAny));
    return Status::OK();
  }

  Status PlanScalar(const Struct& parent, std::string_view name, Kind kind, Scalar* out) {
    const int node = Child(parent.node, name);
    if (node < 0) return Status::OK();
    const SchemaNode& n = schema_.nodes[node];
    if (!n.is_leaf) return Unreadable(node, "is not a scalar");
    if (n.max_rep != 0) return Unreadable(node, "is repeated");
    LAKELOG_ASSIGN_OR_RETURN(out->column, Column(node, kind));
    return Status::OK();
  }

  // A MAP: the map group, its repeated key_value group, and the key and value leaves.
  Status PlanMap(const Struct& parent, std::string_view name, Entries* out) {
    const int node = Child(parent.node, name);
    if (node < 0) return Status::OK();
    const SchemaNode& map = schema_.nodes[node];
    if (map.is_leaf || map.children.size() != 1) return Unreadable(node, "is not a map");
    const SchemaNode& key_value = schema_.nodes[map.children[0]];
    if (key_value.is_leaf || key_value.children.empty() || key_value.children.size() > 2 ||
        key_value.repetition != format::FieldRepetitionType::REPEATED ||
        !schema_.nodes[key_value.children[0]].is_leaf ||
        (key_value.children.size() == 2 && !schema_.nodes[key_value.children[1]].is_leaf)) {
      return Unreadable(node, "is not a map of strings");
    }
    out->entry_def = key_value.max_def;
    LAKELOG_ASSIGN_OR_RETURN(out->key, Column(key_value.children[0], Kind::kString));
    if (key_value.children.size() == 2) {
      LAKELOG_ASSIGN_OR_RETURN(out->value, Column(key_value.children[1], Kind::kString));
    }
    maps_.push_back(out);
    return Status::OK();
  }

  // A LIST, with the format's backward-compatibility rules for two-level lists (the repeated
  // field is the element when it is a leaf, or named "array" or "<list>_tuple").
  Status PlanList(const Struct& parent, std::string_view name, Entries* out) {
    const int node = Child(parent.node, name);
    if (node < 0) return Status::OK();
    const SchemaNode& list = schema_.nodes[node];
    if (list.is_leaf || list.children.size() != 1) return Unreadable(node, "is not a list");
    const int repeated_node = list.children[0];
    const SchemaNode& repeated = schema_.nodes[repeated_node];
    if (repeated.repetition != format::FieldRepetitionType::REPEATED) {
      return Unreadable(node, "is not a list");
    }
    int element = repeated_node;
    if (!repeated.is_leaf) {
      const bool element_is_child = repeated.children.size() == 1 && repeated.name != "array" &&
                                    repeated.name != list.name + "_tuple";
      if (!element_is_child || !schema_.nodes[repeated.children[0]].is_leaf) {
        return Unreadable(node, "is not a list of strings");
      }
      element = repeated.children[0];
    }
    out->entry_def = repeated.max_def;
    LAKELOG_ASSIGN_OR_RETURN(out->key, Column(element, Kind::kString));
    return Status::OK();
  }

  Status PlanDeletionVector(const Struct& parent, DeletionVectorPlan* out) {
    LAKELOG_RETURN_IF_ERROR(PlanStruct(parent.node, "deletionVector", &out->s));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(out->s, "storageType", Kind::kString, &out->storage_type));
    LAKELOG_RETURN_IF_ERROR(
        PlanScalar(out->s, "pathOrInlineDv", Kind::kString, &out->path_or_inline));
    LAKELOG_RETURN_IF_ERROR(PlanScalar(out->s, "offset", Kind::kInteger, &out->offset));
    return Status::OK();
  }

  // ---- Decoding ------------------------------------------------------------------------------

  Status Bad(std::string_view action, std::string_view what) const {
    return Status::Corruption("_delta_log/" + name_ + ": row " + std::to_string(row_number_) +
                              ": " + std::string(action) + ": " + std::string(what));
  }

  bool Present(const Struct& s, size_t row) const {
    if (s.node < 0) return false;
    const ColumnVector& c = columns_[s.presence];
    const size_t slot = c.max_rep() == 0 ? row : offsets_[s.presence][row];
    return c.DefLevel(slot) >= schema_.nodes[s.node].max_def;
  }

  std::optional<std::string_view> String(const Scalar& f, size_t row) const {
    if (f.column < 0 || !columns_[f.column].IsValid(row)) return std::nullopt;
    return columns_[f.column].GetBytes(row);
  }
  std::optional<int64_t> Integer(const Scalar& f, size_t row) const {
    if (f.column < 0 || !columns_[f.column].IsValid(row)) return std::nullopt;
    const ColumnVector& c = columns_[f.column];
    return c.layout() == VectorLayout::kInt32 ? int64_t{c.int32s()[row]} : c.int64s()[row];
  }
  std::optional<bool> Bool(const Scalar& f, size_t row) const {
    if (f.column < 0 || !columns_[f.column].IsValid(row)) return std::nullopt;
    return columns_[f.column].bools()[row] != 0;
  }

  // The entries of a map in `row`; a null value stays nullopt.
  template <typename Visit>
  Status ForEachEntry(const Entries& e, size_t row, std::string_view action, std::string_view field,
                      Visit visit) const {
    if (e.key < 0) return Status::OK();
    const ColumnVector& keys = columns_[e.key];
    const std::vector<uint32_t>& offsets = offsets_[e.key];
    for (size_t slot = offsets[row]; slot < offsets[row + 1]; ++slot) {
      if (keys.DefLevel(slot) < e.entry_def) continue;  // an empty or null map or list
      if (!keys.IsValid(slot)) {
        return Bad(action, "field '" + std::string(field) + "' holds a null key or element");
      }
      std::optional<std::string_view> value;
      if (e.value >= 0 && columns_[e.value].IsValid(slot)) value = columns_[e.value].GetBytes(slot);
      visit(keys.GetBytes(slot), value);
    }
    return Status::OK();
  }

  Status NullableMap(const Entries& e, size_t row, std::string_view action, std::string_view field,
                     std::map<std::string, std::optional<std::string>>* out) const {
    return ForEachEntry(
        e, row, action, field, [out](std::string_view key, std::optional<std::string_view> value) {
          (*out)[std::string(key)] = value ? std::optional<std::string>(*value) : std::nullopt;
        });
  }
  // Null values are dropped, as ParseActionObject drops them from configuration and options.
  Status Map(const Entries& e, size_t row, std::string_view action, std::string_view field,
             std::map<std::string, std::string>* out) const {
    return ForEachEntry(e, row, action, field,
                        [out](std::string_view key, std::optional<std::string_view> value) {
                          if (value) (*out)[std::string(key)] = std::string(*value);
                        });
  }
  Status List(const Entries& e, size_t row, std::string_view action, std::string_view field,
              std::vector<std::string>* out) const {
    return ForEachEntry(e, row, action, field,
                        [out](std::string_view element, std::optional<std::string_view>) {
                          out->emplace_back(element);
                        });
  }

  // The deletion vector's identity, as DeletionVectorId of actions.cc builds it from JSON.
  std::string DeletionVectorId(const DeletionVectorPlan& dv, size_t row) const {
    if (!Present(dv.s, row)) return "";
    std::string id = "dv:";
    if (auto type = String(dv.storage_type, row)) id += *type;
    if (auto where = String(dv.path_or_inline, row)) id += *where;
    if (auto offset = Integer(dv.offset, row)) id += "@" + std::to_string(*offset);
    return id;
  }

  Result<std::string> Path(const Scalar& f, size_t row, std::string_view action) const {
    std::optional<std::string_view> path = String(f, row);
    if (!path) return Bad(action, "missing field 'path'");
    Result<std::string> decoded = DecodeLogPath(*path);
    if (!decoded.ok()) return Bad(action, decoded.status().message());
    return decoded;
  }

  Status DecodeRow(size_t row, std::vector<Action>* out) const {
    if (Present(protocol_.s, row)) {
      std::optional<int64_t> reader = Integer(protocol_.reader_version, row);
      std::optional<int64_t> writer = Integer(protocol_.writer_version, row);
      if (!reader) return Bad("protocol", "missing field 'minReaderVersion'");
      if (!writer) return Bad("protocol", "missing field 'minWriterVersion'");
      DeltaProtocol p;
      p.min_reader_version = static_cast<int>(*reader);
      p.min_writer_version = static_cast<int>(*writer);
      LAKELOG_RETURN_IF_ERROR(
          List(protocol_.reader_features, row, "protocol", "readerFeatures", &p.reader_features));
      LAKELOG_RETURN_IF_ERROR(
          List(protocol_.writer_features, row, "protocol", "writerFeatures", &p.writer_features));
      out->emplace_back(std::move(p));
    }
    if (Present(metadata_.s, row)) {
      const MetadataPlan& plan = metadata_;
      std::optional<std::string_view> id = String(plan.id, row);
      std::optional<std::string_view> schema = String(plan.schema_string, row);
      if (!id) return Bad("metaData", "missing field 'id'");
      if (!schema) return Bad("metaData", "missing field 'schemaString'");
      DeltaMetadata m;
      m.id = std::string(*id);
      m.schema_string = std::string(*schema);
      if (auto name = String(plan.name, row)) m.name = std::string(*name);
      if (auto description = String(plan.description, row)) {
        m.description = std::string(*description);
      }
      m.created_time_ms = Integer(plan.created_time, row);
      LAKELOG_RETURN_IF_ERROR(
          List(plan.partition_columns, row, "metaData", "partitionColumns", &m.partition_columns));
      LAKELOG_RETURN_IF_ERROR(
          Map(plan.configuration, row, "metaData", "configuration", &m.configuration));
      if (Present(plan.format, row)) {
        std::optional<std::string_view> provider = String(plan.provider, row);
        if (provider && *provider != "parquet") {
          return Bad("metaData", "format.provider is not \"parquet\"");
        }
        LAKELOG_RETURN_IF_ERROR(
            Map(plan.format_options, row, "metaData.format", "options", &m.format_options));
      }
      out->emplace_back(std::move(m));
    }
    if (Present(add_.s, row)) {
      AddAction a;
      LAKELOG_ASSIGN_OR_RETURN(a.file.path, Path(add_.path, row, "add"));
      LAKELOG_RETURN_IF_ERROR(NullableMap(add_.partition_values, row, "add", "partitionValues",
                                          &a.file.partition_values));
      a.file.size = Integer(add_.size, row).value_or(0);
      a.file.modification_time_ms = Integer(add_.modification_time, row).value_or(0);
      a.file.data_change = Bool(add_.data_change, row).value_or(true);
      if (std::optional<std::string_view> stats = String(add_.stats, row)) {
        a.file.num_records = NumRecordsFromStats(*stats);
        a.file.stats = std::string(*stats);
      }
      a.deletion_vector_id = DeletionVectorId(add_.dv, row);
      a.has_deletion_vector = !a.deletion_vector_id.empty();
      out->emplace_back(std::move(a));
    }
    if (Present(remove_.s, row)) {
      RemoveAction rm;
      LAKELOG_ASSIGN_OR_RETURN(rm.path, Path(remove_.path, row, "remove"));
      rm.deletion_timestamp_ms = Integer(remove_.deletion_timestamp, row);
      rm.data_change = Bool(remove_.data_change, row).value_or(true);
      rm.extended_file_metadata = Bool(remove_.extended_file_metadata, row).value_or(false);
      LAKELOG_RETURN_IF_ERROR(NullableMap(remove_.partition_values, row, "remove",
                                          "partitionValues", &rm.partition_values));
      rm.size = Integer(remove_.size, row);
      rm.deletion_vector_id = DeletionVectorId(remove_.dv, row);
      out->emplace_back(std::move(rm));
    }
    if (Present(txn_.s, row)) {
      std::optional<std::string_view> app_id = String(txn_.app_id, row);
      std::optional<int64_t> version = Integer(txn_.version, row);
      if (!app_id) return Bad("txn", "missing field 'appId'");
      if (!version) return Bad("txn", "missing field 'version'");
      TxnAction t;
      t.app_id = std::string(*app_id);
      t.version = *version;
      t.last_updated_ms = Integer(txn_.last_updated, row);
      out->emplace_back(std::move(t));
    }
    return Status::OK();
  }

  ParquetFile* file_;
  const FileSchema& schema_;
  std::string name_;

  ProtocolPlan protocol_;
  MetadataPlan metadata_;
  AddPlan add_;
  RemovePlan remove_;
  TxnPlan txn_;
  std::vector<const Entries*> maps_;  // the planned maps, whose key and value must align

  std::vector<int> leaves_;                     // the projection: leaf indices, in column order
  std::map<int, int> column_of_leaf_;           // leaf index -> position in leaves_
  std::vector<ColumnVector> columns_;           // the current row group's decoded leaves
  std::vector<std::vector<uint32_t>> offsets_;  // per column below a repeated field: row starts
  size_t row_number_ = 0;                       // the row being decoded, counted over the file
};

}  // namespace

Result<std::vector<Action>> ReadCheckpointActions(FileSystem* fs, const std::string& path,
                                                  std::string_view name) {
  LAKELOG_ASSIGN_OR_RETURN(std::unique_ptr<ParquetFile> file, ParquetFile::Open(fs, path));
  CheckpointDecoder decoder(file.get(), name);
  LAKELOG_RETURN_IF_ERROR(decoder.Plan());
  std::vector<Action> actions;
  LAKELOG_RETURN_IF_ERROR(decoder.Decode(&actions));
  return actions;
}

}  // namespace lakelog::delta
