#include "query/log_columns.h"

namespace lakelog::query {

namespace {

using parquet::FileSchema;
using parquet::SchemaNode;
namespace format = ::lakelog::format;

constexpr const char* kNames[] = {"ts",      "level",  "stage", "status",
                                  "message", "run_id", "host",  "attributes"};

const SchemaNode* TopLevel(const FileSchema& schema, const char* name, int* index) {
  for (int child : schema.nodes[0].children) {
    if (schema.nodes[child].name == name) {
      *index = child;
      return &schema.nodes[child];
    }
  }
  return nullptr;
}

bool IsFlatLeaf(const SchemaNode& n, LogColumn column) {
  if (!n.is_leaf || n.max_rep != 0) return false;
  if (column == LogColumn::kTs) {
    return n.physical_type == format::Type::INT64 || n.physical_type == format::Type::INT96;
  }
  return n.physical_type == format::Type::BYTE_ARRAY;
}

}  // namespace

LogColumnReader::LogColumnReader(parquet::ParquetFile* file, const std::vector<LogColumn>& wanted)
    : file_(file) {
  const FileSchema& schema = file->schema();
  for (LogColumn column : wanted) {
    int index = 0;
    const SchemaNode* node = TopLevel(schema, kNames[static_cast<int>(column)], &index);
    if (node == nullptr) continue;
    bool& unusable = unusable_[static_cast<int>(column)];
    if (column != LogColumn::kAttributes) {
      if (!IsFlatLeaf(*node, column)) {
        unusable = true;
        continue;
      }
      if (slot_[static_cast<int>(column)]) continue;
      slot_[static_cast<int>(column)] = leaves_.size();
      leaves_.push_back(node->first_leaf);
      continue;
    }
    // MAP: optional group { repeated group key_value { key; value; } }, whatever the names.
    if (key_slot_) continue;
    if (node->is_leaf || node->children.size() != 1) {
      unusable = true;
      continue;
    }
    const SchemaNode& kv = schema.nodes[node->children[0]];
    if (kv.repetition != format::FieldRepetitionType::REPEATED || kv.is_leaf ||
        kv.children.size() != 2 || kv.max_rep != 1) {
      unusable = true;
      continue;
    }
    const SchemaNode& key = schema.nodes[kv.children[0]];
    const SchemaNode& value = schema.nodes[kv.children[1]];
    if (!key.is_leaf || !value.is_leaf || key.physical_type != format::Type::BYTE_ARRAY ||
        value.physical_type != format::Type::BYTE_ARRAY) {
      unusable = true;
      continue;
    }
    map_entry_def_ = static_cast<uint16_t>(kv.max_def);
    key_slot_ = leaves_.size();
    leaves_.push_back(key.first_leaf);
    value_slot_ = leaves_.size();
    leaves_.push_back(value.first_leaf);
  }
}

Status LogColumnReader::Read(int rg) { return file_->ReadRowGroup(rg, leaves_, &columns_); }

const parquet::ColumnVector* LogColumnReader::Get(LogColumn column) const {
  const std::optional<size_t>& slot = slot_[static_cast<int>(column)];
  return slot ? &columns_[*slot] : nullptr;
}

const parquet::ColumnVector* LogColumnReader::MapKeys() const {
  return key_slot_ ? &columns_[*key_slot_] : nullptr;
}

const parquet::ColumnVector* LogColumnReader::MapValues() const {
  return value_slot_ ? &columns_[*value_slot_] : nullptr;
}

}  // namespace lakelog::query
