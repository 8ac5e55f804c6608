#include "parquet/column_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lakelog/file_system.h"
#include "parquet/thrift_serde.h"
#include "parquet_types.h"
#include "support/parquet_json_rows.h"

namespace lakelog::parquet {
namespace {

using nlohmann::json;

bool HasEncoding(const format::ColumnChunk& chunk, format::Encoding::type encoding) {
  for (auto e : chunk.meta_data.encodings) {
    if (e == encoding) return true;
  }
  return false;
}

// One optional column `c` written chunk by chunk (one row group per chunk), read back with the
// project's reader. Values are std::optional: nullopt is a null.
template <typename Traits>
class OneColumnFile {
 public:
  using Value = typename Traits::Value;

  explicit OneColumnFile(size_t page_size = 1 << 20, size_t dictionary_limit = 1 << 20)
      : compressor_(Compression::kZstd, 3), writer_(Init(page_size, dictionary_limit)) {}

  TypedColumnWriter<Traits>& writer() { return writer_; }

  void Append(const std::optional<Value>& value) {
    if (value) {
      writer_.AppendValue(*value, 0);
    } else {
      writer_.AppendNull(0, 0);
    }
    ++rows_in_group_;
  }

  // Closes the current row group and returns its chunk metadata.
  format::ColumnChunk EndRowGroup() {
    format::ColumnChunk chunk;
    std::string out;
    Status s = writer_.WriteChunk(file_.size(), &out, &chunk);
    EXPECT_TRUE(s.ok()) << s.ToString();
    writer_.Clear();
    file_ += out;
    format::RowGroup group;
    group.num_rows = rows_in_group_;
    group.total_byte_size = chunk.meta_data.total_uncompressed_size;
    group.columns = {chunk};
    groups_.push_back(group);
    num_rows_ += rows_in_group_;
    rows_in_group_ = 0;
    return chunk;
  }

  std::vector<json> ReadBack() {
    format::SchemaElement root;
    root.name = "schema";
    root.__set_num_children(1);
    format::SchemaElement leaf;
    leaf.name = "c";
    leaf.__set_type(Traits::kType);
    leaf.__set_repetition_type(format::FieldRepetitionType::OPTIONAL);
    format::FileMetaData meta;
    meta.version = 1;
    meta.schema = {root, leaf};
    meta.num_rows = num_rows_;
    meta.row_groups = groups_;
    std::string footer;
    EXPECT_TRUE(SerializeThrift(meta, &footer).ok());
    const uint32_t length = static_cast<uint32_t>(footer.size());
    std::string file = file_ + footer;
    file.append(reinterpret_cast<const char*>(&length), 4);
    file += "PAR1";
    auto fs = NewMemFileSystem();
    EXPECT_TRUE(fs->WriteFile("c.parquet", file, false).ok());
    auto rows = ReadParquetRowsAsJson(fs.get(), "c.parquet");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<json>();
  }

 private:
  TypedColumnWriter<Traits> Init(size_t page_size, size_t dictionary_limit) {
    options_.page_size_bytes = page_size;
    options_.dictionary_limit_bytes = dictionary_limit;
    return TypedColumnWriter<Traits>(LeafSpec{{"c"}, 1, 0}, options_, &compressor_, &scratch_);
  }

  ParquetWriteOptions options_;
  PageCompressor compressor_;
  PageScratch scratch_;
  TypedColumnWriter<Traits> writer_;
  std::string file_ = "PAR1";
  std::vector<format::RowGroup> groups_;
  int64_t rows_in_group_ = 0;
  int64_t num_rows_ = 0;
};

template <typename Value>
std::vector<json> Expected(const std::vector<std::optional<Value>>& values) {
  std::vector<json> rows;
  for (const auto& v : values) rows.push_back({{"c", v ? json(*v) : json(nullptr)}});
  return rows;
}

// The byte-wise min and max of the non-null values.
std::pair<std::string, std::string> MinMax(const std::vector<std::optional<std::string>>& values) {
  std::optional<std::string> min, max;
  for (const auto& v : values) {
    if (!v) continue;
    if (!min || *v < *min) min = *v;
    if (!max || *max < *v) max = *v;
  }
  return {min.value_or(""), max.value_or("")};
}

TEST(ColumnWriterTest, LowCardinalityChunkKeepsItsDictionary) {
  const std::vector<std::string> levels = {"INFO", "DEBUG", "WARN", "ERROR"};
  std::vector<std::optional<std::string>> values;
  for (int i = 0; i < 5000; ++i) {
    values.push_back(i % 9 == 0 ? std::nullopt : std::optional<std::string>(levels[i % 4]));
  }
  OneColumnFile<ByteArrayTraits> file(/*page_size=*/512);
  for (const auto& v : values) file.Append(v ? std::optional<std::string_view>(*v) : std::nullopt);
  format::ColumnChunk chunk = file.EndRowGroup();
  EXPECT_TRUE(HasEncoding(chunk, format::Encoding::RLE_DICTIONARY));
  EXPECT_TRUE(chunk.meta_data.__isset.dictionary_page_offset);
  EXPECT_EQ(chunk.meta_data.statistics.min_value, "DEBUG");
  EXPECT_EQ(chunk.meta_data.statistics.max_value, "WARN");
  EXPECT_EQ(chunk.meta_data.statistics.null_count, 556);
  EXPECT_EQ(file.ReadBack(), Expected(values));
}

TEST(ColumnWriterTest, UniqueValuesFallBackToPlainAtTheProbe) {
  std::vector<std::string> storage;
  for (int i = 0; i < 5000; ++i) storage.push_back("message evt-" + std::to_string(4999 - i));
  OneColumnFile<ByteArrayTraits> file(/*page_size=*/4096);  // several pages
  std::vector<std::optional<std::string>> values;
  for (size_t i = 0; i < storage.size(); ++i) {
    const bool null = i % 7 == 3;
    values.push_back(null ? std::nullopt : std::optional<std::string>(storage[i]));
    file.Append(null ? std::nullopt : std::optional<std::string_view>(storage[i]));
    // Still a dictionary until the probe, PLAIN from the probe on.
    const size_t appended = i + 1 - (i + 4) / 7;
    EXPECT_EQ(file.writer().uses_dictionary(), appended < kDictionaryProbeValues) << i;
  }
  format::ColumnChunk chunk = file.EndRowGroup();
  EXPECT_FALSE(HasEncoding(chunk, format::Encoding::RLE_DICTIONARY));
  EXPECT_FALSE(chunk.meta_data.__isset.dictionary_page_offset);
  auto [min, max] = MinMax(values);
  EXPECT_EQ(chunk.meta_data.statistics.min_value, min);
  EXPECT_EQ(chunk.meta_data.statistics.max_value, max);
  EXPECT_EQ(file.ReadBack(), Expected(values));
}

// Trace ids beside a repeated region, one each: a dictionary would be smaller than PLAIN (by the
// region's repeats), but more than half the values at the probe are distinct, and each would
// cost a hash insert for little: PLAIN from the probe on. A third distinct keeps the dictionary.
TEST(ColumnWriterTest, MostlyDistinctValuesFallBackToPlainAtTheProbe) {
  auto run = [](int distinct_every) {
    std::vector<std::string> storage;
    for (int i = 0; i < 3000; ++i) {
      storage.push_back(i % distinct_every == 0
                            ? "trace-" + std::to_string(1000000000 + i) + "-0123456789abcdef"
                            : "eu-west-1");
    }
    OneColumnFile<ByteArrayTraits> file;
    std::vector<std::optional<std::string>> values;
    bool dictionary_after_probe = false;
    for (size_t i = 0; i < storage.size(); ++i) {
      file.Append(std::string_view(storage[i]));
      values.push_back(storage[i]);
      if (i + 1 == kDictionaryProbeValues + 1)
        dictionary_after_probe = file.writer().uses_dictionary();
    }
    format::ColumnChunk chunk = file.EndRowGroup();
    EXPECT_EQ(HasEncoding(chunk, format::Encoding::RLE_DICTIONARY), dictionary_after_probe);
    EXPECT_EQ(file.ReadBack(), Expected(values));
    return dictionary_after_probe;
  };
  EXPECT_FALSE(run(/*distinct_every=*/2));
  EXPECT_TRUE(run(/*distinct_every=*/3));
}

TEST(ColumnWriterTest, ShortChunkIsJudgedAtItsEnd) {
  const std::vector<std::string> unique = {"x1", "x2", "x3", "x4", "x5"};
  OneColumnFile<ByteArrayTraits> file;
  for (const auto& v : unique) file.Append(std::string_view(v));
  EXPECT_TRUE(file.writer().uses_dictionary());
  format::ColumnChunk plain = file.EndRowGroup();
  EXPECT_FALSE(HasEncoding(plain, format::Encoding::RLE_DICTIONARY));
  // The next chunk starts with a dictionary again, and a repetitive one keeps it.
  for (int i = 0; i < 20; ++i) file.Append(std::string_view(unique[i % 2]));
  format::ColumnChunk dictionary = file.EndRowGroup();
  EXPECT_TRUE(HasEncoding(dictionary, format::Encoding::RLE_DICTIONARY));
  std::vector<std::optional<std::string>> expected(unique.begin(), unique.end());
  for (int i = 0; i < 20; ++i) expected.push_back(unique[i % 2]);
  EXPECT_EQ(file.ReadBack(), Expected(expected));
}

// A dictionary that pays at the probe but later passes dictionary_limit_bytes: the values
// before the fallback are re-encoded PLAIN from the dictionary, the statistics cover both parts.
TEST(ColumnWriterTest, DictionaryLimitFallbackKeepsEarlierValues) {
  std::vector<std::string> storage;
  for (int i = 0; i < 3000; ++i) storage.push_back("run-" + std::to_string(i % 3));
  for (int i = 0; i < 3000; ++i) storage.push_back("unique-value-" + std::to_string(i));
  OneColumnFile<ByteArrayTraits> file(/*page_size=*/2048, /*dictionary_limit=*/10000);
  std::vector<std::optional<std::string>> values;
  bool fell_back_after_probe = false;
  for (size_t i = 0; i < storage.size(); ++i) {
    file.Append(std::string_view(storage[i]));
    values.push_back(storage[i]);
    if (i == kDictionaryProbeValues + 10) {
      EXPECT_TRUE(file.writer().uses_dictionary());
    }
    if (i > 3000 && !file.writer().uses_dictionary()) fell_back_after_probe = true;
  }
  EXPECT_TRUE(fell_back_after_probe);
  format::ColumnChunk chunk = file.EndRowGroup();
  EXPECT_FALSE(HasEncoding(chunk, format::Encoding::RLE_DICTIONARY));
  EXPECT_EQ(chunk.meta_data.statistics.min_value, "run-0");
  EXPECT_EQ(chunk.meta_data.statistics.max_value, MinMax(values).second);
  EXPECT_EQ(file.ReadBack(), Expected(values));
}

TEST(ColumnWriterTest, Int64UniqueIsPlainAndRepeatedIsDictionary) {
  OneColumnFile<Int64Traits> file(/*page_size=*/1000);
  std::vector<std::optional<int64_t>> values;
  for (int64_t i = 0; i < 3000; ++i) {
    values.push_back(1732406400000000 - i * 977);
    file.Append(values.back());
  }
  format::ColumnChunk unique = file.EndRowGroup();
  EXPECT_FALSE(HasEncoding(unique, format::Encoding::RLE_DICTIONARY));
  std::vector<std::optional<int64_t>> repeated;
  for (int64_t i = 0; i < 3000; ++i) {
    repeated.push_back(i % 5 == 0 ? std::nullopt : std::optional<int64_t>(i % 3 - 1));
    file.Append(repeated.back());
  }
  format::ColumnChunk dictionary = file.EndRowGroup();
  EXPECT_TRUE(HasEncoding(dictionary, format::Encoding::RLE_DICTIONARY));
  EXPECT_EQ(file.writer().totals().min, -1);
  EXPECT_EQ(file.writer().totals().max, 1732406400000000);
  EXPECT_EQ(file.writer().totals().null_count, 600);
  values.insert(values.end(), repeated.begin(), repeated.end());
  EXPECT_EQ(file.ReadBack(), Expected(values));
}

TEST(ColumnWriterTest, AllNullChunkHasNoMinMax) {
  OneColumnFile<ByteArrayTraits> file;
  for (int i = 0; i < 100; ++i) file.Append(std::nullopt);
  format::ColumnChunk chunk = file.EndRowGroup();
  EXPECT_FALSE(chunk.meta_data.statistics.__isset.min_value);
  EXPECT_EQ(chunk.meta_data.statistics.null_count, 100);
  EXPECT_EQ(file.ReadBack(), Expected(std::vector<std::optional<std::string>>(100)));
}

}  // namespace
}  // namespace lakelog::parquet
