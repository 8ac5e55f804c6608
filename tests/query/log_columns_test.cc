// LogColumnReader on a file of another writer's shape: a column it lacks, a column of another
// type, an attributes that is not a map.
#include "query/log_columns.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parquet/plain_file_builder.h"
#include "storage/mem_file_system.h"

namespace lakelog::query {
namespace {

using Rep = format::FieldRepetitionType;

format::SchemaElement Leaf(std::string name, Rep::type repetition, format::Type::type type) {
  format::SchemaElement e;
  e.name = std::move(name);
  e.__set_repetition_type(repetition);
  e.__set_type(type);
  if (type == format::Type::BYTE_ARRAY) e.__set_converted_type(format::ConvertedType::UTF8);
  return e;
}

TEST(LogColumnReaderTest, AColumnOfAnotherShapeIsUnusableAndOneTheFileLacksIsNot) {
  format::SchemaElement root;
  root.name = "schema";
  root.__set_num_children(4);
  // ts and level as expected, stage as INT64, attributes a plain string; no host.
  auto builder =
      parquet::PlainFileBuilder::Make({root, Leaf("ts", Rep::REQUIRED, format::Type::INT64),
                                       Leaf("level", Rep::OPTIONAL, format::Type::BYTE_ARRAY),
                                       Leaf("stage", Rep::OPTIONAL, format::Type::INT64),
                                       Leaf("attributes", Rep::OPTIONAL, format::Type::BYTE_ARRAY)},
                                      ParquetWriteOptions{});
  ASSERT_TRUE(builder.ok()) << builder.status().ToString();
  (*builder)->Int64(0, 42);
  (*builder)->Bytes(1, "INFO");
  (*builder)->Int64(2, 7);
  (*builder)->Bytes(3, "{}");
  (*builder)->EndRecord();
  auto bytes = (*builder)->Finish();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  MemFileSystem fs;
  ASSERT_TRUE(fs.WriteFileAtomic("f.parquet", *bytes).ok());
  auto file = parquet::ParquetFile::Open(&fs, "f.parquet");
  ASSERT_TRUE(file.ok()) << file.status().ToString();

  LogColumnReader reader(file->get(), {LogColumn::kTs, LogColumn::kLevel, LogColumn::kStage,
                                       LogColumn::kHost, LogColumn::kAttributes});
  ASSERT_TRUE(reader.Read(0).ok());
  EXPECT_FALSE(reader.Unusable(LogColumn::kTs));
  EXPECT_FALSE(reader.Unusable(LogColumn::kLevel));
  ASSERT_NE(reader.Get(LogColumn::kTs), nullptr);
  EXPECT_EQ(reader.Get(LogColumn::kTs)->int64s()[0], 42);
  ASSERT_NE(reader.Get(LogColumn::kLevel), nullptr);
  EXPECT_EQ(reader.Get(LogColumn::kLevel)->GetBytes(0), "INFO");
  // Still read as absent (null) by the scans; only Unusable tells them apart.
  EXPECT_TRUE(reader.Unusable(LogColumn::kStage));
  EXPECT_EQ(reader.Get(LogColumn::kStage), nullptr);
  EXPECT_TRUE(reader.Unusable(LogColumn::kAttributes));
  EXPECT_EQ(reader.MapKeys(), nullptr);
  EXPECT_EQ(reader.MapValues(), nullptr);
  EXPECT_FALSE(reader.Unusable(LogColumn::kHost));
  EXPECT_EQ(reader.Get(LogColumn::kHost), nullptr);
  // A column not asked for is never judged.
  EXPECT_FALSE(reader.Unusable(LogColumn::kMessage));
}

}  // namespace
}  // namespace lakelog::query
