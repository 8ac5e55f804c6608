#include "parquet/columnar_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lakelog/file_system.h"
#include "parquet/log_file_writer.h"
#include "parquet/thrift_serde.h"
#include "parquet_types.h"

namespace lakelog::parquet {
namespace {

std::vector<LogEvent> MakeEvents(int n, int distinct_messages) {
  std::vector<LogEvent> events;
  for (int i = 0; i < n; ++i) {
    LogEvent e;
    e.pipeline = "p";
    e.ts_micros = 1732406400000000 + i * 17;
    e.level = static_cast<Level>(i % 6);
    if (i % 5 != 0) e.stage = "stage-" + std::to_string(i % 3);
    if (i % 4 != 0) e.status = i % 11 == 0 ? "FAILED" : "SUCCESS";
    e.message = "message " + std::to_string(i % distinct_messages);
    if (i % 3 == 0) e.attributes = {{"k" + std::to_string(i % 4), "v" + std::to_string(i)}};
    if (i % 10 == 1) e.attributes = {{"a", "1"}, {"b", std::string(i % 50, 'z')}};
    events.push_back(std::move(e));
  }
  return events;
}

std::vector<const LogEvent*> Pointers(const std::vector<LogEvent>& events) {
  std::vector<const LogEvent*> rows;
  for (const auto& e : events) rows.push_back(&e);
  return rows;
}

std::optional<std::string> Slot(const ColumnVector& column, size_t i) {
  if (!column.IsValid(i)) return std::nullopt;
  return std::string(column.GetBytes(i));
}

class ColumnarReaderTest : public ::testing::Test {
 protected:
  void Write(const std::vector<LogEvent>& events, const ParquetWriteOptions& options) {
    auto stats = WriteLogEventsFile(fs_.get(), "t.parquet", Pointers(events), options);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    auto file = ParquetFile::Open(fs_.get(), "t.parquet");
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    file_ = std::move(*file);
  }

  // Reads `paths` from every row group; calls check(columns, first_row) for each.
  template <typename Check>
  void ReadAll(const std::vector<std::string>& paths, Check check) {
    auto leaves = file_->ResolveProjection(paths);
    ASSERT_TRUE(leaves.ok()) << leaves.status().ToString();
    std::vector<ColumnVector> columns;
    size_t first_row = 0;
    for (int rg = 0; rg < file_->num_row_groups(); ++rg) {
      Status s = file_->ReadRowGroup(rg, *leaves, &columns);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(columns.size(), leaves->size());
      check(columns, first_row);
      first_row += static_cast<size_t>(file_->RowGroupNumRows(rg));
    }
  }

  std::unique_ptr<FileSystem> fs_ = NewMemFileSystem();
  std::unique_ptr<ParquetFile> file_;
};

TEST_F(ColumnarReaderTest, StatusAndStageStayDictionaryEncodedWithNulls) {
  const std::vector<LogEvent> events = MakeEvents(5000, 40);
  ParquetWriteOptions options;
  options.page_size_bytes = 512;  // several pages per chunk
  options.row_group_size_bytes = 16 << 10;
  Write(events, options);
  ASSERT_GT(file_->num_row_groups(), 1);
  size_t rows = 0;
  ReadAll({"status", "stage"}, [&](const std::vector<ColumnVector>& columns, size_t first) {
    const ColumnVector& status = columns[0];
    const ColumnVector& stage = columns[1];
    EXPECT_EQ(status.layout(), VectorLayout::kDictionary);
    EXPECT_EQ(stage.layout(), VectorLayout::kDictionary);
    EXPECT_LE(status.dictionary().size(), 2u);
    for (size_t i = 0; i < status.size(); ++i) {
      EXPECT_EQ(Slot(status, i), events[first + i].status) << "row " << first + i;
      EXPECT_EQ(Slot(stage, i), events[first + i].stage) << "row " << first + i;
    }
    rows += status.size();
  });
  EXPECT_EQ(rows, events.size());
}

TEST_F(ColumnarReaderTest, ChunkFallingBackToPlainIsMaterialized) {
  const std::vector<LogEvent> events = MakeEvents(3000, 3000);
  ParquetWriteOptions options;
  options.page_size_bytes = 1024;
  options.dictionary_limit_bytes = 2048;  // the message dictionary overflows mid-chunk
  Write(events, options);
  ReadAll({"message", "ts", "level"}, [&](const std::vector<ColumnVector>& columns, size_t first) {
    EXPECT_EQ(columns[0].layout(), VectorLayout::kBytes);
    EXPECT_EQ(columns[1].layout(), VectorLayout::kInt64);
    for (size_t i = 0; i < columns[0].size(); ++i) {
      EXPECT_EQ(Slot(columns[0], i), events[first + i].message) << "row " << first + i;
      EXPECT_EQ(columns[1].int64s()[i], events[first + i].ts_micros);
      EXPECT_EQ(columns[2].GetBytes(i), LevelName(events[first + i].level));
    }
  });
}

TEST_F(ColumnarReaderTest, MapColumnGivesRowOffsetsAndEntries) {
  const std::vector<LogEvent> events = MakeEvents(2000, 10);
  ParquetWriteOptions options;
  options.page_size_bytes = 700;
  Write(events, options);
  ReadAll({"attributes"}, [&](const std::vector<ColumnVector>& columns, size_t first) {
    ASSERT_EQ(columns.size(), 2u);  // key and value
    const ColumnVector& keys = columns[0];
    const ColumnVector& values = columns[1];
    EXPECT_EQ(keys.max_rep(), 1);
    std::vector<uint32_t> offsets;
    keys.RowOffsets(&offsets);
    std::vector<uint32_t> value_offsets;
    values.RowOffsets(&value_offsets);
    EXPECT_EQ(offsets, value_offsets);
    // The key_value group is defined at keys.max_def(): below it the map is null or empty.
    const uint16_t entry_def = static_cast<uint16_t>(keys.max_def());
    for (size_t r = 0; r + 1 < offsets.size(); ++r) {
      std::map<std::string, std::string> map;
      for (uint32_t slot = offsets[r]; slot < offsets[r + 1]; ++slot) {
        if (keys.DefLevel(slot) < entry_def) continue;
        ASSERT_TRUE(values.IsValid(slot));
        map[std::string(keys.GetBytes(slot))] = std::string(values.GetBytes(slot));
      }
      const auto& attributes = events[first + r].attributes;
      const std::map<std::string, std::string> expected(attributes.begin(), attributes.end());
      EXPECT_EQ(map, expected) << "row " << first + r;
    }
  });
}

TEST_F(ColumnarReaderTest, StatisticsGiveMinMaxAndNullCount) {
  const std::vector<LogEvent> events = MakeEvents(1000, 10);
  Write(events, ParquetWriteOptions());
  auto leaf = file_->FindLeaf("stage");
  ASSERT_TRUE(leaf.has_value());
  auto stats = file_->Statistics(0, *leaf);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  std::optional<std::string> min;
  std::optional<std::string> max;
  int64_t nulls = 0;
  for (const LogEvent& e : events) {
    if (!e.stage) {
      ++nulls;
      continue;
    }
    if (!min || *e.stage < *min) min = e.stage;
    if (!max || *e.stage > *max) max = e.stage;
  }
  EXPECT_EQ(stats->min_value, min);
  EXPECT_EQ(stats->max_value, max);
  EXPECT_EQ(stats->null_count, nulls);
}

TEST_F(ColumnarReaderTest, ProjectionResolvesLeavesAndGroups) {
  Write(MakeEvents(10, 2), ParquetWriteOptions());
  auto leaves = file_->ResolveProjection({"attributes", "status", "ts"});
  ASSERT_TRUE(leaves.ok());
  std::vector<std::string> paths;
  for (int leaf : *leaves) paths.push_back(file_->schema().leaf_paths[leaf]);
  EXPECT_EQ(paths, (std::vector<std::string>{"attributes.key_value.key",
                                             "attributes.key_value.value", "status", "ts"}));
  EXPECT_TRUE(file_->ResolveProjection({"stat"}).status().code() == StatusCode::kInvalidArgument);
  EXPECT_TRUE(file_->ResolveProjection({"attributes.key_value.k"}).status().code() ==
              StatusCode::kInvalidArgument);
}

TEST_F(ColumnarReaderTest, DamagedChunkIsCorruptionNotACrash) {
  Write(MakeEvents(500, 5), ParquetWriteOptions());
  std::string bytes;
  ASSERT_TRUE(fs_->ReadFile("t.parquet", &bytes).ok());
  auto leaves = file_->ResolveProjection({"status", "message", "attributes"});
  ASSERT_TRUE(leaves.ok());
  // Overwrite a stretch of the column data (not the footer) at several places.
  const size_t footer = bytes.size() - 8 - 200;
  for (size_t at = 4; at < footer; at += 97) {
    std::string damaged = bytes;
    for (size_t k = at; k < std::min(at + 16, footer); ++k) damaged[k] = static_cast<char>(0xA5);
    ASSERT_TRUE(fs_->WriteFileAtomic("d.parquet", damaged).ok());
    auto file = ParquetFile::Open(fs_.get(), "d.parquet");
    if (!file.ok()) continue;
    std::vector<ColumnVector> columns;
    Status s = (*file)->ReadRowGroup(0, *leaves, &columns);
    if (!s.ok()) {
      EXPECT_TRUE(s.IsCorruption() || s.code() == StatusCode::kNotSupported) << s.ToString();
    }
  }
}

TEST_F(ColumnarReaderTest, TruncatedFileIsCorruption) {
  Write(MakeEvents(10, 2), ParquetWriteOptions());
  std::string bytes;
  ASSERT_TRUE(fs_->ReadFile("t.parquet", &bytes).ok());
  ASSERT_TRUE(fs_->WriteFileAtomic("short.parquet", bytes.substr(0, bytes.size() / 2)).ok());
  EXPECT_TRUE(ParquetFile::Open(fs_.get(), "short.parquet").status().IsCorruption());
  EXPECT_TRUE(ParquetFile::Open(fs_.get(), "missing.parquet").status().IsNotFound());
}

// A data page may hold no values (some writers emit one at a chunk's end). Such a page used to
// reach memcpy with an empty vector's null data pointer, which UBSan reports (make asan).
TEST(ColumnarReaderEdgeTest, DataPageWithNoValuesAddsNoSlots) {
  auto page = [](int32_t num_values, const std::string& body) {
    format::PageHeader header;
    header.type = format::PageType::DATA_PAGE;
    header.uncompressed_page_size = static_cast<int32_t>(body.size());
    header.compressed_page_size = static_cast<int32_t>(body.size());
    format::DataPageHeader data;
    data.num_values = num_values;
    data.encoding = format::Encoding::PLAIN;
    data.definition_level_encoding = format::Encoding::RLE;
    data.repetition_level_encoding = format::Encoding::RLE;
    header.__set_data_page_header(data);
    std::string out;
    EXPECT_TRUE(SerializeThrift(header, &out).ok());
    return out + body;
  };
  const int64_t value = 1234567890123;
  std::string plain(8, '\0');
  std::memcpy(plain.data(), &value, 8);
  const std::string chunk = page(0, "") + page(1, plain);

  format::FileMetaData meta;
  meta.version = 1;
  format::SchemaElement root;
  root.name = "schema";
  root.__set_num_children(1);
  format::SchemaElement leaf;
  leaf.name = "v";
  leaf.__set_type(format::Type::INT64);
  leaf.__set_repetition_type(format::FieldRepetitionType::REQUIRED);
  meta.schema = {root, leaf};
  meta.num_rows = 1;
  format::ColumnChunk column;
  column.file_offset = 4;
  format::ColumnMetaData column_meta;
  column_meta.type = format::Type::INT64;
  column_meta.encodings = {format::Encoding::PLAIN};
  column_meta.path_in_schema = {"v"};
  column_meta.codec = format::CompressionCodec::UNCOMPRESSED;
  column_meta.num_values = 1;
  column_meta.total_uncompressed_size = static_cast<int64_t>(chunk.size());
  column_meta.total_compressed_size = static_cast<int64_t>(chunk.size());
  column_meta.data_page_offset = 4;
  column.__set_meta_data(column_meta);
  format::RowGroup group;
  group.columns = {column};
  group.total_byte_size = static_cast<int64_t>(chunk.size());
  group.num_rows = 1;
  meta.row_groups = {group};
  std::string footer;
  ASSERT_TRUE(SerializeThrift(meta, &footer).ok());
  const uint32_t footer_length = static_cast<uint32_t>(footer.size());
  std::string file = "PAR1" + chunk + footer;
  file.append(reinterpret_cast<const char*>(&footer_length), 4);
  file += "PAR1";

  auto fs = NewMemFileSystem();
  ASSERT_TRUE(fs->WriteFileAtomic("e.parquet", file).ok());
  auto opened = ParquetFile::Open(fs.get(), "e.parquet");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::vector<ColumnVector> columns;
  Status s = (*opened)->ReadRowGroup(0, {0}, &columns);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(columns[0].size(), 1u);
  EXPECT_EQ(columns[0].int64s()[0], value);
}

}  // namespace
}  // namespace lakelog::parquet
