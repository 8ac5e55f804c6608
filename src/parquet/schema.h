// The schema tree of a Parquet file, rebuilt from the footer's flattened SchemaElement list and
// annotated with what record assembly needs: definition/repetition levels and leaf ranges.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lakelog/status.h"
#include "parquet_types.h"

namespace lakelog::parquet {

// Deeper schemas are rejected; no real table nests anywhere near this.
inline constexpr int kMaxSchemaDepth = 64;

enum class NodeAnnotation : uint8_t { kNone, kMap, kList };

struct SchemaNode {
  std::string name;
  format::FieldRepetitionType::type repetition = format::FieldRepetitionType::REQUIRED;
  bool is_leaf = false;
  format::Type::type physical_type = format::Type::BOOLEAN;  // leaves only
  int32_t type_length = 0;                                   // FIXED_LEN_BYTE_ARRAY only
  NodeAnnotation annotation = NodeAnnotation::kNone;
  // Levels of this node, counting it: an instance of the node exists when a leaf below it has
  // definition level >= max_def.
  int16_t max_def = 0;
  int16_t max_rep = 0;
  std::vector<int> children;  // indices into FileSchema::nodes
  // Invariant: the leaves below a node are the contiguous range
  // [first_leaf, first_leaf + num_leaves) of FileSchema::leaves, and num_leaves >= 1.
  int first_leaf = 0;
  int num_leaves = 0;
};

struct FileSchema {
  std::vector<SchemaNode> nodes;        // nodes[0] is the root
  std::vector<int> leaves;              // node index of each leaf column, in schema order
  std::vector<std::string> leaf_paths;  // dotted
};

// Corruption when the element list is not a well-formed tree (child counts overrunning the
// list, leaves without a type, groups without children, unknown enum values, too deep).
Result<FileSchema> BuildSchema(const std::vector<format::SchemaElement>& elements);

}  // namespace lakelog::parquet
