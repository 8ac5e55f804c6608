#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "lakelog/file_system.h"
#include "parquet/column_writer.h"
#include "parquet/log_file_writer.h"
#include "parquet/thrift_serde.h"
#include "parquet_types.h"
#include "support/parquet_json_rows.h"

namespace lakelog::parquet {
namespace {

using nlohmann::json;
using Rep = format::FieldRepetitionType;

format::SchemaElement Group(std::string name, Rep::type repetition, int children,
                            std::optional<format::ConvertedType::type> converted = {}) {
  format::SchemaElement e;
  e.name = std::move(name);
  e.__set_repetition_type(repetition);
  e.__set_num_children(children);
  if (converted) e.__set_converted_type(*converted);
  return e;
}

format::SchemaElement Leaf(std::string name, Rep::type repetition, format::Type::type type) {
  format::SchemaElement e;
  e.name = std::move(name);
  e.__set_repetition_type(repetition);
  e.__set_type(type);
  if (type == format::Type::BYTE_ARRAY) e.__set_converted_type(format::ConvertedType::UTF8);
  return e;
}

// A test-only generic writer: the caller shreds rows into the leaf writers by hand, so the
// test states every definition and repetition level it expects the reader to assemble.
class NestedFileBuilder {
 public:
  explicit NestedFileBuilder(Compression compression) : compressor_(compression, 3) {
    options_.page_size_bytes = 64;  // several pages per column
  }

  Int64ColumnWriter* Int64(std::vector<std::string> path, int16_t def, int16_t rep) {
    int64_.push_back(std::make_unique<Int64ColumnWriter>(LeafSpec{std::move(path), def, rep},
                                                         options_, &compressor_, &scratch_));
    order_.push_back({true, int64_.size() - 1});
    return int64_.back().get();
  }
  ByteArrayColumnWriter* Bytes(std::vector<std::string> path, int16_t def, int16_t rep) {
    bytes_.push_back(std::make_unique<ByteArrayColumnWriter>(LeafSpec{std::move(path), def, rep},
                                                             options_, &compressor_, &scratch_));
    order_.push_back({false, bytes_.size() - 1});
    return bytes_.back().get();
  }

  std::string Finish(std::vector<format::SchemaElement> schema, int64_t num_rows) {
    std::string file = "PAR1";
    format::RowGroup group;
    group.num_rows = num_rows;
    for (const auto& [is_int, index] : order_) {
      format::ColumnChunk chunk;
      std::string out;
      Status s = is_int ? int64_[index]->WriteChunk(file.size(), &out, &chunk)
                        : bytes_[index]->WriteChunk(file.size(), &out, &chunk);
      EXPECT_TRUE(s.ok()) << s.ToString();
      file += out;
      group.columns.push_back(chunk);
    }
    format::FileMetaData meta;
    meta.version = 1;
    meta.schema = std::move(schema);
    meta.num_rows = num_rows;
    meta.row_groups = {group};
    std::string footer;
    EXPECT_TRUE(SerializeThrift(meta, &footer).ok());
    const uint32_t length = static_cast<uint32_t>(footer.size());
    file += footer;
    file.append(reinterpret_cast<const char*>(&length), 4);
    file += "PAR1";
    return file;
  }

 private:
  ParquetWriteOptions options_;
  PageCompressor compressor_;
  PageScratch scratch_;
  std::vector<std::unique_ptr<Int64ColumnWriter>> int64_;
  std::vector<std::unique_ptr<ByteArrayColumnWriter>> bytes_;
  std::vector<std::pair<bool, size_t>> order_;
};

// id: required int64
// info: optional group { name: optional string; tags: optional group (LIST) {
//         repeated group list { optional string element } } }
// props: optional group (MAP) { repeated group key_value { required string key;
//                                                          optional int64 value } }
// legacy: optional group (LIST) { repeated int64 array }        (2-level legacy list)
std::string NestedFile(Compression compression) {
  NestedFileBuilder b(compression);
  auto* id = b.Int64({"id"}, 0, 0);
  auto* name = b.Bytes({"info", "name"}, 2, 0);
  auto* tag = b.Bytes({"info", "tags", "list", "element"}, 4, 1);
  auto* key = b.Bytes({"props", "key_value", "key"}, 2, 1);
  auto* value = b.Int64({"props", "key_value", "value"}, 3, 1);
  auto* legacy = b.Int64({"legacy", "array"}, 2, 1);
  const int kCopies = 50;  // repeat the four rows so columns span several pages
  for (int c = 0; c < kCopies; ++c) {
    // r0: everything present.
    id->AppendValue(1, 0);
    name->AppendValue("a", 0);
    tag->AppendValue("x", 0);
    tag->AppendNull(3, 1);
    tag->AppendValue("y", 1);
    key->AppendValue("k1", 0);
    value->AppendValue(10, 0);
    key->AppendValue("k2", 1);
    value->AppendNull(2, 1);
    legacy->AppendValue(1, 0);
    legacy->AppendValue(2, 1);
    legacy->AppendValue(3, 1);
    // r1: every optional top-level group null.
    id->AppendValue(2, 0);
    name->AppendNull(0, 0);
    tag->AppendNull(0, 0);
    key->AppendNull(0, 0);
    value->AppendNull(0, 0);
    legacy->AppendNull(0, 0);
    // r2: present but null/empty inside.
    id->AppendValue(3, 0);
    name->AppendNull(1, 0);
    tag->AppendNull(1, 0);
    key->AppendNull(1, 0);
    value->AppendNull(1, 0);
    legacy->AppendNull(1, 0);
    // r3: empty list, one map entry, one legacy element.
    id->AppendValue(4, 0);
    name->AppendValue("b", 0);
    tag->AppendNull(2, 0);
    key->AppendValue("z", 0);
    value->AppendValue(-5, 0);
    legacy->AppendValue(7, 0);
  }
  std::vector<format::SchemaElement> schema = {
      Group("schema", Rep::REQUIRED, 4),
      Leaf("id", Rep::REQUIRED, format::Type::INT64),
      Group("info", Rep::OPTIONAL, 2),
      Leaf("name", Rep::OPTIONAL, format::Type::BYTE_ARRAY),
      Group("tags", Rep::OPTIONAL, 1, format::ConvertedType::LIST),
      Group("list", Rep::REPEATED, 1),
      Leaf("element", Rep::OPTIONAL, format::Type::BYTE_ARRAY),
      Group("props", Rep::OPTIONAL, 1, format::ConvertedType::MAP),
      Group("key_value", Rep::REPEATED, 2, format::ConvertedType::MAP_KEY_VALUE),
      Leaf("key", Rep::REQUIRED, format::Type::BYTE_ARRAY),
      Leaf("value", Rep::OPTIONAL, format::Type::INT64),
      Group("legacy", Rep::OPTIONAL, 1, format::ConvertedType::LIST),
      Leaf("array", Rep::REPEATED, format::Type::INT64),
  };
  return b.Finish(std::move(schema), 4 * kCopies);
}

std::vector<json> NestedExpected() {
  std::vector<json> rows;
  for (int c = 0; c < 50; ++c) {
    rows.push_back(json::parse(R"({"id":1,"info":{"name":"a","tags":["x",null,"y"]},
                                   "props":{"k1":10,"k2":null},"legacy":[1,2,3]})"));
    rows.push_back(json::parse(R"({"id":2,"info":null,"props":null,"legacy":null})"));
    rows.push_back(json::parse(R"({"id":3,"info":{"name":null,"tags":null},"props":{},
                                   "legacy":[]})"));
    rows.push_back(json::parse(R"({"id":4,"info":{"name":"b","tags":[]},"props":{"z":-5},
                                   "legacy":[7]})"));
  }
  return rows;
}

TEST(ParquetFileReaderTest, AssemblesNestedStructsListsAndMaps) {
  for (Compression compression : {Compression::kNone, Compression::kSnappy, Compression::kZstd}) {
    auto fs = NewMemFileSystem();
    ASSERT_TRUE(fs->WriteFile("n.parquet", NestedFile(compression), false).ok());
    auto rows = ReadParquetRowsAsJson(fs.get(), "n.parquet");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(*rows, NestedExpected());
    auto summary = ReadParquetSummary(fs.get(), "n.parquet");
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(
        summary->leaf_paths,
        (std::vector<std::string>{"id", "info.name", "info.tags.list.element",
                                  "props.key_value.key", "props.key_value.value", "legacy.array"}));
  }
}

// A footer declaring more list elements than it has bytes is refused before anything is built:
// Thrift's own check counts an empty struct as 0 bytes, so four million RowGroups were
// constructed from five bytes (found by parquet_reader_fuzz as a 10 s timeout).
TEST(ParquetFileReaderTest, AContainerLargerThanItsBytesIsCorruption) {
  // FileMetaData field 4 (row_groups): a list of structs of 4,000,000 elements, then nothing.
  const uint8_t footer[] = {0x49, 0xFC, 0x80, 0x92, 0xF4, 0x01};
  format::FileMetaData metadata;
  size_t consumed = 0;
  Status st = DeserializeThrift(footer, sizeof footer, &metadata, &consumed);
  ASSERT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find("more elements than bytes remain"), std::string::npos)
      << st.ToString();
}

TEST(ParquetFileReaderTest, MissingFileIsNotFound) {
  auto fs = NewMemFileSystem();
  EXPECT_TRUE(ReadParquetRowsAsJson(fs.get(), "missing.parquet").status().IsNotFound());
}

TEST(ParquetFileReaderTest, BadMagicAndTinyFilesAreCorruption) {
  auto fs = NewMemFileSystem();
  std::string file = NestedFile(Compression::kNone);
  for (const std::string& bad : {std::string(), std::string("PAR1"), std::string("PAR1PAR1"),
                                 "XXXX" + file.substr(4), file.substr(0, file.size() - 1) + "X"}) {
    ASSERT_TRUE(fs->WriteFile("b.parquet", bad, false).ok());
    EXPECT_TRUE(ReadParquetSummary(fs.get(), "b.parquet").status().IsCorruption());
    EXPECT_TRUE(ReadParquetRowsAsJson(fs.get(), "b.parquet").status().IsCorruption());
  }
}

void ExpectNoCrash(FileSystem* fs, const std::string& bytes, int* failures) {
  ASSERT_TRUE(fs->WriteFile("c.parquet", bytes, false).ok());
  auto rows = ReadParquetRowsAsJson(fs, "c.parquet");
  if (!rows.ok()) {
    ++*failures;
    const StatusCode code = rows.status().code();
    EXPECT_TRUE(code == StatusCode::kCorruption || code == StatusCode::kNotSupported)
        << rows.status().ToString();
  }
  auto summary = ReadParquetSummary(fs, "c.parquet");
  if (!summary.ok()) {
    const StatusCode code = summary.status().code();
    EXPECT_TRUE(code == StatusCode::kCorruption || code == StatusCode::kNotSupported)
        << summary.status().ToString();
  }
}

std::string SmallLogFile(Compression compression) {
  std::vector<LogEvent> events(40);
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].ts_micros = static_cast<int64_t>(i) * 1000;
    events[i].level = static_cast<Level>(i % 6);
    if (i % 3) events[i].message = "message " + std::to_string(i % 4);
    events[i].host = "h";
    if (i % 2) events[i].attributes = {{"k", std::to_string(i)}, {"j", "v"}};
  }
  std::vector<const LogEvent*> rows;
  for (const auto& e : events) rows.push_back(&e);
  auto fs = NewMemFileSystem();
  ParquetWriteOptions options;
  options.compression = compression;
  options.page_size_bytes = 100;
  options.row_group_size_bytes = 1000;
  EXPECT_TRUE(WriteLogEventsFile(fs.get(), "s.parquet", rows, options).ok());
  std::string bytes;
  EXPECT_TRUE(fs->ReadFile("s.parquet", &bytes).ok());
  return bytes;
}

// Runs under ASan/UBSan in the sanitizer build: any out-of-bounds read, overflow or huge
// allocation on damaged input fails there.
TEST(ParquetFileReaderCorruptionTest, TruncationNeverCrashes) {
  auto fs = NewMemFileSystem();
  for (Compression compression : {Compression::kNone, Compression::kZstd}) {
    const std::string file = SmallLogFile(compression);
    int failures = 0;
    for (size_t cut = 0; cut < file.size(); cut += 7) {
      ExpectNoCrash(fs.get(), file.substr(0, cut), &failures);
    }
    // Cutting anywhere loses the footer; every truncated file must be rejected.
    EXPECT_EQ(failures, static_cast<int>((file.size() + 6) / 7));
  }
  const std::string nested = NestedFile(Compression::kNone);
  int failures = 0;
  for (size_t cut = 0; cut < nested.size(); cut += 5)
    ExpectNoCrash(fs.get(), nested.substr(0, cut), &failures);
}

TEST(ParquetFileReaderCorruptionTest, BitFlipsNeverCrash) {
  auto fs = NewMemFileSystem();
  for (const std::string& file :
       {SmallLogFile(Compression::kNone), SmallLogFile(Compression::kSnappy),
        NestedFile(Compression::kNone)}) {
    int failures = 0;
    for (size_t pos = 0; pos < file.size(); ++pos) {
      for (uint8_t mask : {0x01, 0xff}) {
        std::string damaged = file;
        damaged[pos] = static_cast<char>(damaged[pos] ^ mask);
        ExpectNoCrash(fs.get(), damaged, &failures);
      }
    }
    EXPECT_GT(failures, 0);
  }
}

TEST(ParquetFileReaderCorruptionTest, ZeroedRangesNeverCrash) {
  auto fs = NewMemFileSystem();
  const std::string file = NestedFile(Compression::kZstd);
  int failures = 0;
  for (size_t pos = 0; pos + 16 < file.size(); pos += 3) {
    std::string damaged = file;
    for (size_t i = 0; i < 16; ++i) damaged[pos + i] = 0;
    ExpectNoCrash(fs.get(), damaged, &failures);
  }
  EXPECT_GT(failures, 0);
}

}  // namespace
}  // namespace lakelog::parquet
