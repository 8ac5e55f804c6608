#include "delta/table_schema.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

namespace lakelog::delta {

namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// The table's columns in order: partition columns first, as DESIGN.md lists them.
OrderedJson LogColumnTypes() {
  OrderedJson map_type;
  map_type["type"] = "map";
  map_type["keyType"] = "string";
  map_type["valueType"] = "string";
  map_type["valueContainsNull"] = true;
  OrderedJson columns = OrderedJson::array();
  auto add = [&](std::string_view name, OrderedJson type) {
    OrderedJson field;
    field["name"] = name;
    field["type"] = std::move(type);
    field["nullable"] = true;
    field["metadata"] = OrderedJson::object();
    columns.push_back(std::move(field));
  };
  add("pipeline", "string");
  add("log_date", "date");
  add("ts", "timestamp");
  add("level", "string");
  add("stage", "string");
  add("status", "string");
  add("message", "string");
  add("run_id", "string");
  add("host", "string");
  add("attributes", map_type);
  return columns;
}

std::string ColumnMappingMode(const DeltaMetadata& metadata) {
  auto it = metadata.configuration.find("delta.columnMapping.mode");
  return it == metadata.configuration.end() ? "none" : it->second;
}

bool HasConfigPrefix(const DeltaMetadata& metadata, std::string_view prefix) {
  return std::any_of(metadata.configuration.begin(), metadata.configuration.end(),
                     [&](const auto& kv) { return kv.first.rfind(prefix, 0) == 0; });
}

// True when any field's metadata holds `key` (generated or identity columns).
bool AnyFieldMetadataHas(const DeltaMetadata& metadata, const char* key) {
  Json schema = Json::parse(metadata.schema_string, nullptr, false);
  if (schema.is_discarded() || !schema.is_object()) return false;
  auto fields = schema.find("fields");
  if (fields == schema.end() || !fields->is_array()) return false;
  for (const Json& field : *fields) {
    if (!field.is_object()) continue;
    auto meta = field.find("metadata");
    if (meta != field.end() && meta->is_object() && meta->contains(key)) return true;
  }
  return false;
}

std::string JoinNames(const std::vector<std::string>& names) {
  Json array = names;
  return array.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

const std::vector<std::string>& LogPartitionColumns() {
  static const std::vector<std::string> kColumns = {"pipeline", "log_date"};
  return kColumns;
}

const std::string& LogSchemaString() {
  static const std::string kSchema = [] {
    OrderedJson schema;
    schema["type"] = "struct";
    schema["fields"] = LogColumnTypes();
    return schema.dump();
  }();
  return kSchema;
}

Status CheckLogTableMetadata(const DeltaMetadata& metadata) {
  if (metadata.partition_columns != LogPartitionColumns()) {
    return Status::InvalidArgument("table is partitioned by " +
                                   JoinNames(metadata.partition_columns) + ", lakelog needs " +
                                   JoinNames(LogPartitionColumns()));
  }
  std::string mode = ColumnMappingMode(metadata);
  if (mode != "none") {
    return Status::NotSupported("table uses column mapping mode '" + mode + "'");
  }
  Json schema = Json::parse(metadata.schema_string, nullptr, false);
  if (schema.is_discarded() || !schema.is_object() || !schema.contains("fields") ||
      !schema["fields"].is_array()) {
    return Status::Corruption("metaData.schemaString is not a Spark StructType JSON");
  }
  std::map<std::string, const Json*> table_fields;
  for (const Json& field : schema["fields"]) {
    if (!field.is_object() || !field.contains("name") || !field["name"].is_string()) {
      return Status::Corruption("metaData.schemaString has a field without a name");
    }
    table_fields[field["name"].get<std::string>()] = &field;
  }
  std::set<std::string> ours;
  for (const OrderedJson& expected : LogColumnTypes()) {
    std::string name = expected["name"].get<std::string>();
    ours.insert(name);
    auto it = table_fields.find(name);
    if (it == table_fields.end()) {
      return Status::InvalidArgument("table schema has no column '" + name + "'");
    }
    const Json& actual = *it->second;
    Json expected_type = Json::parse(expected["type"].dump());
    Json actual_type = actual.contains("type") ? actual["type"] : Json();
    if (actual_type.is_object() && expected_type.is_object()) {
      // lakelog never writes a null map value, so valueContainsNull may be either.
      actual_type.erase("valueContainsNull");
      expected_type.erase("valueContainsNull");
    }
    if (actual_type != expected_type) {
      return Status::InvalidArgument(
          "table column '" + name + "' has type " +
          actual_type.dump(-1, ' ', false, Json::error_handler_t::replace) + ", lakelog writes " +
          expected_type.dump());
    }
    auto nullable = actual.find("nullable");
    if (nullable != actual.end() && nullable->is_boolean() && !nullable->get<bool>()) {
      return Status::InvalidArgument("table column '" + name +
                                     "' is not nullable; lakelog writes nulls to it");
    }
  }
  for (const auto& [name, field] : table_fields) {
    if (ours.count(name)) continue;
    auto nullable = field->find("nullable");
    if (nullable != field->end() && nullable->is_boolean() && !nullable->get<bool>()) {
      return Status::InvalidArgument("table has a non-nullable column '" + name +
                                     "' that lakelog does not write");
    }
  }
  return Status::OK();
}

Status CheckWritableProtocol(const DeltaProtocol& protocol, const DeltaMetadata& metadata) {
  if (protocol.min_writer_version > 7) {
    return Status::NotSupported("table needs writer version " +
                                std::to_string(protocol.min_writer_version));
  }
  // Features an append of nullable columns honours as long as the table does not use them
  // in a way that constrains the rows (checked below).
  static const std::set<std::string, std::less<>> kHarmless = {
      "appendOnly",           "invariants",      "checkConstraints", "changeDataFeed",
      "generatedColumns",     "identityColumns", "columnMapping",    "timestampNtz",
      "vacuumProtocolCheck",  "deletionVectors", "v2Checkpoint",     "typeWidening",
      "typeWidening-preview", "domainMetadata",
  };
  if (protocol.min_writer_version == 7) {
    for (const std::string& feature : protocol.writer_features) {
      if (!kHarmless.count(feature)) {
        return Status::NotSupported("table needs writer feature '" + feature + "'");
      }
    }
  }
  if (HasConfigPrefix(metadata, "delta.constraints.")) {
    return Status::NotSupported("table has CHECK constraints");
  }
  if (AnyFieldMetadataHas(metadata, "delta.generationExpression")) {
    return Status::NotSupported("table has generated columns");
  }
  if (AnyFieldMetadataHas(metadata, "delta.identity.start")) {
    return Status::NotSupported("table has identity columns");
  }
  if (ColumnMappingMode(metadata) != "none") {
    return Status::NotSupported("table uses column mapping");
  }
  return Status::OK();
}

Status CheckReadableProtocol(const DeltaProtocol& protocol, const DeltaMetadata& metadata) {
  if (protocol.min_reader_version > 3) {
    return Status::NotSupported("table needs reader version " +
                                std::to_string(protocol.min_reader_version));
  }
  // Deletion vectors and v2 checkpoints are refused where they actually occur (an add with a
  // deletionVector, a v2 checkpoint file), so a table that merely allows them still lists.
  static const std::set<std::string, std::less<>> kListable = {
      "timestampNtz", "vacuumProtocolCheck",  "v2Checkpoint",  "deletionVectors",
      "typeWidening", "typeWidening-preview", "columnMapping",
  };
  if (protocol.min_reader_version == 3) {
    for (const std::string& feature : protocol.reader_features) {
      if (!kListable.count(feature)) {
        return Status::NotSupported("table needs reader feature '" + feature + "'");
      }
    }
  }
  if (ColumnMappingMode(metadata) != "none") {
    return Status::NotSupported("table uses column mapping mode '" + ColumnMappingMode(metadata) +
                                "'");
  }
  return Status::OK();
}

}  // namespace lakelog::delta
