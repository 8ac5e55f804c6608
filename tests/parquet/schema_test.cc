// BuildSchema over hand-made element lists: the tree a footer describes, and the malformed
// lists a damaged footer can hold (found by fuzz/parquet_reader_fuzz.cc).
#include "parquet/schema.h"

#include <gtest/gtest.h>

namespace lakelog::parquet {
namespace {

format::SchemaElement Group(
    const std::string& name, int32_t children,
    format::FieldRepetitionType::type repetition = format::FieldRepetitionType::OPTIONAL) {
  format::SchemaElement e;
  e.name = name;
  e.__set_num_children(children);
  e.__set_repetition_type(repetition);
  return e;
}

format::SchemaElement Leaf(const std::string& name) {
  format::SchemaElement e;
  e.name = name;
  e.__set_type(format::Type::INT64);
  e.__set_repetition_type(format::FieldRepetitionType::OPTIONAL);
  return e;
}

TEST(ParquetSchemaTest, NestedGroupGetsLevelsAndLeafRanges) {
  // schema { a; s { b; c } }
  Result<FileSchema> schema =
      BuildSchema({Group("schema", 2), Leaf("a"), Group("s", 2), Leaf("b"), Leaf("c")});
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  ASSERT_EQ(schema->leaf_paths, (std::vector<std::string>{"a", "s.b", "s.c"}));
  const SchemaNode& s = schema->nodes[2];
  EXPECT_EQ(s.first_leaf, 1);
  EXPECT_EQ(s.num_leaves, 2);
  EXPECT_EQ(schema->nodes[schema->leaves[2]].max_def, 2);
}

TEST(ParquetSchemaTest, SiblingAfterAGroupThatUsedTheLastElementIsCorruption) {
  // The root claims two children; its first child, a group, takes the last element, so the
  // second child would be read past the end of the list (a heap overflow that `make asan`
  // reports, where this test runs too).
  Result<FileSchema> schema = BuildSchema({Group("schema", 2), Group("s", 1), Leaf("b")});
  ASSERT_FALSE(schema.ok());
  EXPECT_TRUE(schema.status().IsCorruption()) << schema.status().ToString();
}

TEST(ParquetSchemaTest, NestedGroupsOverrunningTheListAreCorruption) {
  // Every level claims more children than remain once its first child's subtree is read.
  Result<FileSchema> schema = BuildSchema(
      {Group("schema", 3), Group("x", 2), Group("y", 2), Leaf("a"), Leaf("b"), Leaf("c")});
  ASSERT_FALSE(schema.ok());
  EXPECT_TRUE(schema.status().IsCorruption()) << schema.status().ToString();
}

TEST(ParquetSchemaTest, ElementsOutsideTheTreeAreCorruption) {
  Result<FileSchema> schema = BuildSchema({Group("schema", 1), Leaf("a"), Leaf("stray")});
  ASSERT_FALSE(schema.ok());
  EXPECT_TRUE(schema.status().IsCorruption());
}

}  // namespace
}  // namespace lakelog::parquet
