#include "parquet/schema.h"

#include "parquet/thrift_serde.h"

namespace lakelog::parquet {

namespace {

class SchemaBuilder {
 public:
  explicit SchemaBuilder(const std::vector<format::SchemaElement>& elements)
      : elements_(elements) {}

  Result<FileSchema> Build() {
    if (elements_.empty()) return Status::Corruption("parquet schema is empty");
    const format::SchemaElement& root = elements_[0];
    if (!root.__isset.num_children || root.num_children < 0) {
      return Status::Corruption("parquet schema root is not a group");
    }
    schema_.nodes.emplace_back();
    schema_.nodes[0].name = root.name;
    next_ = 1;
    LAKELOG_RETURN_IF_ERROR(AddChildren(0, root.num_children, 1, "", 0, 0));
    schema_.nodes[0].first_leaf = 0;
    schema_.nodes[0].num_leaves = static_cast<int>(schema_.leaves.size());
    if (next_ != elements_.size()) {
      return Status::Corruption("parquet schema has elements outside the tree");
    }
    return std::move(schema_);
  }

 private:
  Status AddChildren(int parent, int32_t count, int depth, const std::string& prefix,
                     int16_t parent_def, int16_t parent_rep) {
    if (depth > kMaxSchemaDepth) return Status::Corruption("parquet schema nested too deep");
    if (count < 0) return Status::Corruption("parquet schema child count is negative");
    for (int32_t i = 0; i < count; ++i) {
      // Checked per child, not once per group: the groups among the earlier children consume
      // elements too.
      if (next_ >= elements_.size()) {
        return Status::Corruption("parquet schema child count overruns the element list");
      }
      const format::SchemaElement& e = elements_[next_++];
      SchemaNode node;
      node.name = e.name;
      if (e.__isset.repetition_type) {
        const int32_t repetition = RawEnum(e.repetition_type);
        if (repetition < format::FieldRepetitionType::REQUIRED ||
            repetition > format::FieldRepetitionType::REPEATED) {
          return Status::Corruption("unknown parquet repetition type");
        }
        node.repetition = static_cast<format::FieldRepetitionType::type>(repetition);
      }
      node.max_def = static_cast<int16_t>(
          parent_def + (node.repetition != format::FieldRepetitionType::REQUIRED ? 1 : 0));
      node.max_rep = static_cast<int16_t>(
          parent_rep + (node.repetition == format::FieldRepetitionType::REPEATED ? 1 : 0));
      const std::string path = prefix.empty() ? e.name : prefix + "." + e.name;
      const bool is_group = e.__isset.num_children && e.num_children > 0;
      const int32_t converted = e.__isset.converted_type ? RawEnum(e.converted_type) : -1;
      if (converted == format::ConvertedType::MAP ||
          converted == format::ConvertedType::MAP_KEY_VALUE ||
          (e.__isset.logicalType && e.logicalType.__isset.MAP)) {
        node.annotation = NodeAnnotation::kMap;
      } else if (converted == format::ConvertedType::LIST ||
                 (e.__isset.logicalType && e.logicalType.__isset.LIST)) {
        node.annotation = NodeAnnotation::kList;
      }
      const int index = static_cast<int>(schema_.nodes.size());
      schema_.nodes[parent].children.push_back(index);
      if (!is_group) {
        if (!e.__isset.type) return Status::Corruption("parquet leaf column without a type");
        const int32_t type = RawEnum(e.type);
        if (type < format::Type::BOOLEAN || type > format::Type::FIXED_LEN_BYTE_ARRAY) {
          return Status::Corruption("unknown parquet physical type");
        }
        node.is_leaf = true;
        node.physical_type = static_cast<format::Type::type>(type);
        node.annotation = NodeAnnotation::kNone;
        if (node.physical_type == format::Type::FIXED_LEN_BYTE_ARRAY) {
          if (!e.__isset.type_length || e.type_length <= 0 || e.type_length > (1 << 24)) {
            return Status::Corruption("bad FIXED_LEN_BYTE_ARRAY length");
          }
          node.type_length = e.type_length;
        }
        node.first_leaf = static_cast<int>(schema_.leaves.size());
        node.num_leaves = 1;
        schema_.nodes.push_back(std::move(node));
        schema_.leaves.push_back(index);
        schema_.leaf_paths.push_back(path);
        continue;
      }
      node.first_leaf = static_cast<int>(schema_.leaves.size());
      schema_.nodes.push_back(std::move(node));
      LAKELOG_RETURN_IF_ERROR(AddChildren(index, e.num_children, depth + 1, path,
                                          schema_.nodes[index].max_def,
                                          schema_.nodes[index].max_rep));
      schema_.nodes[index].num_leaves =
          static_cast<int>(schema_.leaves.size()) - schema_.nodes[index].first_leaf;
      if (schema_.nodes[index].num_leaves == 0) {
        return Status::Corruption("parquet group without leaf columns");
      }
    }
    return Status::OK();
  }

  const std::vector<format::SchemaElement>& elements_;
  size_t next_ = 0;
  FileSchema schema_;
};

}  // namespace

Result<FileSchema> BuildSchema(const std::vector<format::SchemaElement>& elements) {
  return SchemaBuilder(elements).Build();
}

}  // namespace lakelog::parquet
