#include "delta/checkpoint.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "delta/partition_path.h"
#include "delta/snapshot.h"
#include "delta/table_properties.h"
#include "parquet/plain_file_builder.h"

namespace lakelog::delta {

namespace {

using format::FieldRepetitionType;
using format::SchemaElement;

SchemaElement Group(std::string name, int children,
                    FieldRepetitionType::type repetition = FieldRepetitionType::OPTIONAL) {
  SchemaElement e;
  e.name = std::move(name);
  e.__set_repetition_type(repetition);
  e.__set_num_children(children);
  return e;
}

SchemaElement Leaf(std::string name, format::Type::type type,
                   FieldRepetitionType::type repetition = FieldRepetitionType::OPTIONAL) {
  SchemaElement e;
  e.name = std::move(name);
  e.__set_type(type);
  e.__set_repetition_type(repetition);
  return e;
}

SchemaElement StringLeaf(std::string name,
                         FieldRepetitionType::type repetition = FieldRepetitionType::OPTIONAL) {
  SchemaElement e = Leaf(std::move(name), format::Type::BYTE_ARRAY, repetition);
  e.__set_converted_type(format::ConvertedType::UTF8);
  format::LogicalType logical;
  logical.__set_STRING(format::StringType());
  e.__set_logicalType(logical);
  return e;
}

// map<string, string> as the standard three levels.
void AppendStringMap(std::string name, std::vector<SchemaElement>* schema) {
  SchemaElement map = Group(std::move(name), 1);
  map.__set_converted_type(format::ConvertedType::MAP);
  format::LogicalType logical;
  logical.__set_MAP(format::MapType());
  map.__set_logicalType(logical);
  schema->push_back(map);
  SchemaElement key_value = Group("key_value", 2, FieldRepetitionType::REPEATED);
  schema->push_back(key_value);
  schema->push_back(StringLeaf("key", FieldRepetitionType::REQUIRED));
  schema->push_back(StringLeaf("value"));
}

// array<string> as the standard three levels.
void AppendStringList(std::string name, std::vector<SchemaElement>* schema) {
  SchemaElement list = Group(std::move(name), 1);
  list.__set_converted_type(format::ConvertedType::LIST);
  format::LogicalType logical;
  logical.__set_LIST(format::ListType());
  list.__set_logicalType(logical);
  schema->push_back(list);
  schema->push_back(Group("list", 1, FieldRepetitionType::REPEATED));
  schema->push_back(StringLeaf("element"));
}

// The checkpoint schema: one optional struct per action type (docs/delta-log.md).
std::vector<SchemaElement> CheckpointSchema() {
  std::vector<SchemaElement> s;
  s.push_back(Group("spark_schema", 5, FieldRepetitionType::REQUIRED));
  s.push_back(Group("txn", 3));
  s.push_back(StringLeaf("appId"));
  s.push_back(Leaf("version", format::Type::INT64));
  s.push_back(Leaf("lastUpdated", format::Type::INT64));

  s.push_back(Group("add", 7));
  s.push_back(StringLeaf("path"));
  AppendStringMap("partitionValues", &s);
  s.push_back(Leaf("size", format::Type::INT64));
  s.push_back(Leaf("modificationTime", format::Type::INT64));
  s.push_back(Leaf("dataChange", format::Type::BOOLEAN));
  AppendStringMap("tags", &s);
  s.push_back(StringLeaf("stats"));

  s.push_back(Group("remove", 6));
  s.push_back(StringLeaf("path"));
  s.push_back(Leaf("deletionTimestamp", format::Type::INT64));
  s.push_back(Leaf("dataChange", format::Type::BOOLEAN));
  s.push_back(Leaf("extendedFileMetadata", format::Type::BOOLEAN));
  AppendStringMap("partitionValues", &s);
  s.push_back(Leaf("size", format::Type::INT64));

  s.push_back(Group("metaData", 8));
  s.push_back(StringLeaf("id"));
  s.push_back(StringLeaf("name"));
  s.push_back(StringLeaf("description"));
  s.push_back(Group("format", 2));
  s.push_back(StringLeaf("provider"));
  AppendStringMap("options", &s);
  s.push_back(StringLeaf("schemaString"));
  AppendStringList("partitionColumns", &s);
  AppendStringMap("configuration", &s);
  s.push_back(Leaf("createdTime", format::Type::INT64));

  s.push_back(Group("protocol", 4));
  s.push_back(Leaf("minReaderVersion", format::Type::INT32));
  s.push_back(Leaf("minWriterVersion", format::Type::INT32));
  AppendStringList("readerFeatures", &s);
  AppendStringList("writerFeatures", &s);
  return s;
}

using PartitionValues = std::map<std::string, std::optional<std::string>>;

// A string map as the nullable map the shredder writes.
PartitionValues Nullable(const std::map<std::string, std::string>& values) {
  return PartitionValues(values.begin(), values.end());
}

// Shreds actions into the checkpoint's leaf columns. Each Write* gives every leaf of the file
// its entries for one row: the action's own leaves their values, every other action's leaves a
// null at level 0 (the action struct is absent). Fields are named by their dotted paths in the
// schema; a map or list field by its own path, which names its first leaf (the key, or the
// element), the value leaf being the next one.
class RowShredder {
 public:
  explicit RowShredder(parquet::PlainFileBuilder* b) : b_(b) {
    top_.resize(b->num_leaves());
    for (size_t leaf = 0; leaf < b->num_leaves(); ++leaf) {
      // Every prefix of the path ("add", "add.partitionValues", ..., the leaf's own) names the
      // first leaf under it; the leaves under a group are consecutive.
      const std::string_view path = b->leaf_path(leaf);
      size_t dot = 0;
      do {
        dot = path.find('.', dot + 1);
        first_leaf_.try_emplace(path.substr(0, dot), leaf);
      } while (dot != std::string_view::npos);
      top_[leaf] = first_leaf_.at(path.substr(0, path.find('.')));
    }
  }

  void WriteTxn(const std::string& app_id, int64_t version,
                std::optional<int64_t> last_updated_ms) {
    Begin("txn");
    Str("txn.appId", app_id);
    Int64("txn.version", version);
    OptionalInt64("txn.lastUpdated", last_updated_ms);
    End();
  }

  void WriteAdd(const DeltaAddFile& f) {
    Begin("add");
    Str("add.path", EncodeLogPath(f.path));
    Map("add.partitionValues", &f.partition_values);
    Int64("add.size", f.size);
    Int64("add.modificationTime", f.modification_time_ms);
    Bool("add.dataChange", false);
    Map("add.tags", nullptr);
    OptionalStr("add.stats", f.stats);
    End();
  }

  void WriteRemove(const RemoveAction& r) {
    Begin("remove");
    Str("remove.path", EncodeLogPath(r.path));
    OptionalInt64("remove.deletionTimestamp", r.deletion_timestamp_ms);
    Bool("remove.dataChange", false);
    Bool("remove.extendedFileMetadata", r.extended_file_metadata);
    Map("remove.partitionValues", r.partition_values.empty() ? nullptr : &r.partition_values);
    OptionalInt64("remove.size", r.size);
    End();
  }

  void WriteMetadata(const DeltaMetadata& m) {
    Begin("metaData");
    Str("metaData.id", m.id);
    OptionalStr("metaData.name", m.name);
    OptionalStr("metaData.description", m.description);
    Str("metaData.format.provider", "parquet");
    const PartitionValues options = Nullable(m.format_options);
    Map("metaData.format.options", &options);
    Str("metaData.schemaString", m.schema_string);
    List("metaData.partitionColumns", &m.partition_columns);
    const PartitionValues configuration = Nullable(m.configuration);
    Map("metaData.configuration", &configuration);
    OptionalInt64("metaData.createdTime", m.created_time_ms);
    End();
  }

  void WriteProtocol(const DeltaProtocol& p) {
    Begin("protocol");
    b_->Int32(Leaf("protocol.minReaderVersion"), p.min_reader_version);
    b_->Int32(Leaf("protocol.minWriterVersion"), p.min_writer_version);
    // Feature lists exist only from reader 3 / writer 7 on, as in the JSON form.
    List("protocol.readerFeatures", p.min_reader_version >= 3 ? &p.reader_features : nullptr);
    List("protocol.writerFeatures", p.min_writer_version >= 7 ? &p.writer_features : nullptr);
    End();
  }

 private:
  // The first leaf under `path`; the paths used here are those of CheckpointSchema().
  size_t Leaf(std::string_view path) const { return first_leaf_.at(path); }

  // Every other action's leaves are null at level 0 in this row.
  void Begin(std::string_view action) {
    const size_t first = Leaf(action);
    for (size_t leaf = 0; leaf < top_.size(); ++leaf) {
      if (top_[leaf] != first) b_->Null(leaf, 0);
    }
  }
  void End() { b_->EndRecord(); }

  // A field of a present struct: its null is one level below the leaf's.
  void NullField(std::string_view path) {
    const size_t leaf = Leaf(path);
    b_->Null(leaf, static_cast<int16_t>(b_->max_def(leaf) - 1));
  }
  void Str(std::string_view path, std::string_view value) { b_->Bytes(Leaf(path), value); }
  void OptionalStr(std::string_view path, const std::optional<std::string>& value) {
    if (value.has_value()) {
      Str(path, *value);
    } else {
      NullField(path);
    }
  }
  void Int64(std::string_view path, int64_t value) { b_->Int64(Leaf(path), value); }
  void OptionalInt64(std::string_view path, std::optional<int64_t> value) {
    if (value.has_value()) {
      Int64(path, *value);
    } else {
      NullField(path);
    }
  }
  void Bool(std::string_view path, bool value) { b_->Bool(Leaf(path), value); }

  // A map field of a present struct (null when `map` is null). Levels of key: map present = d-1,
  // entry present = d (the key is required); so an empty map is d-1 and a null one d-2.
  void Map(std::string_view path, const PartitionValues* map) {
    const size_t key = Leaf(path);
    const size_t value = key + 1;
    const auto key_def = b_->max_def(key);
    if (map == nullptr || map->empty()) {
      const auto def = static_cast<int16_t>(map == nullptr ? key_def - 2 : key_def - 1);
      b_->Null(key, def);
      b_->Null(value, def);
      return;
    }
    int16_t rep = 0;
    for (const auto& [k, v] : *map) {
      b_->Bytes(key, k, rep);
      if (v.has_value()) {
        b_->Bytes(value, *v, rep);
      } else {
        b_->Null(value, static_cast<int16_t>(b_->max_def(value) - 1), rep);
      }
      rep = 1;
    }
  }

  // A list field of a present struct (null when `list` is null). Levels of element: list
  // present = d-2, entry present = d-1, element present = d.
  void List(std::string_view path, const std::vector<std::string>* list) {
    const size_t element = Leaf(path);
    const auto def = b_->max_def(element);
    if (list == nullptr || list->empty()) {
      b_->Null(element, static_cast<int16_t>(list == nullptr ? def - 3 : def - 2));
      return;
    }
    int16_t rep = 0;
    for (const std::string& item : *list) {
      b_->Bytes(element, item, rep);
      rep = 1;
    }
  }

  parquet::PlainFileBuilder* b_;
  // Views of the builder's leaf paths and their prefixes.
  std::unordered_map<std::string_view, size_t> first_leaf_;
  std::vector<size_t> top_;  // per leaf: the first leaf of its action
};

}  // namespace

int64_t CheckpointInterval(const DeltaMetadata& metadata) {
  auto it = metadata.configuration.find("delta.checkpointInterval");
  if (it == metadata.configuration.end()) return kDefaultCheckpointInterval;
  int64_t n = 0;
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n <= 0) {
    return kDefaultCheckpointInterval;
  }
  return n;
}

Status CheckCheckpointable(const DeltaProtocol& protocol) {
  // Features whose state is all in the actions we write (protocol, metaData, add, remove, txn).
  static const std::set<std::string, std::less<>> kCovered = {
      "appendOnly",       "invariants",           "checkConstraints",    "changeDataFeed",
      "generatedColumns", "identityColumns",      "columnMapping",       "timestampNtz",
      "typeWidening",     "typeWidening-preview", "vacuumProtocolCheck",
  };
  if (protocol.min_reader_version > 3 || protocol.min_writer_version > 7) {
    return Status::NotSupported("lakelog does not checkpoint tables of protocol " +
                                std::to_string(protocol.min_reader_version) + "/" +
                                std::to_string(protocol.min_writer_version));
  }
  for (const auto* features : {&protocol.reader_features, &protocol.writer_features}) {
    for (const std::string& feature : *features) {
      if (!kCovered.count(feature)) {
        return Status::NotSupported("lakelog does not checkpoint tables with feature '" + feature +
                                    "'");
      }
    }
  }
  return Status::OK();
}

Result<CheckpointInfo> WriteCheckpoint(FileSystem* fs, LogStore* store, int64_t version,
                                       const ParquetWriteOptions& options, int64_t now_ms) {
  std::vector<RemoveAction> tombstones;
  LAKELOG_ASSIGN_OR_RETURN(DeltaSnapshot snapshot, ReplayVersion(fs, *store, version, &tombstones));
  LAKELOG_RETURN_IF_ERROR(CheckCheckpointable(snapshot.protocol));
  const int64_t expired_before = now_ms - TombstoneRetentionMs(snapshot.metadata);

  LAKELOG_ASSIGN_OR_RETURN(std::unique_ptr<parquet::PlainFileBuilder> builder,
                           parquet::PlainFileBuilder::Make(CheckpointSchema(), options));
  RowShredder rows(builder.get());
  CheckpointInfo info;
  info.version = version;
  rows.WriteProtocol(snapshot.protocol);
  rows.WriteMetadata(snapshot.metadata);
  for (const auto& [app_id, txn_version] : snapshot.app_txns) {
    auto last_updated = snapshot.app_txn_last_updated_ms.find(app_id);
    rows.WriteTxn(app_id, txn_version,
                  last_updated == snapshot.app_txn_last_updated_ms.end()
                      ? std::nullopt
                      : std::optional<int64_t>(last_updated->second));
  }
  for (const DeltaAddFile& f : snapshot.files) {
    rows.WriteAdd(f);
    ++info.add_files;
  }
  for (const RemoveAction& r : tombstones) {
    // A tombstone without a time cannot be judged expired: it is kept.
    if (r.deletion_timestamp_ms.has_value() && *r.deletion_timestamp_ms < expired_before) continue;
    rows.WriteRemove(r);
    ++info.tombstones;
  }
  info.actions =
      2 + static_cast<int64_t>(snapshot.app_txns.size()) + info.add_files + info.tombstones;
  LAKELOG_ASSIGN_OR_RETURN(std::string bytes, builder->Finish());
  info.size_bytes = static_cast<int64_t>(bytes.size());

  const std::string path = JoinPath(store->log_dir(), LogStore::CheckpointFileName(version));
  Status st = fs->WriteFileAtomic(path, bytes);
  if (!st.ok()) return st.WithContext("writing checkpoint " + path);

  std::optional<LastCheckpointHint> hint = store->ReadLastCheckpoint();
  if (!hint.has_value() || hint->version < version) {
    LastCheckpointHint last;
    last.version = version;
    last.size = info.actions;
    last.size_bytes = info.size_bytes;
    last.add_files = info.add_files;
    LAKELOG_RETURN_IF_ERROR(store->WriteLastCheckpoint(last));
  }
  return info;
}

}  // namespace lakelog::delta
