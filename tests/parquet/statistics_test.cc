#include "parquet/statistics.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/utf8.h"
#include "lakelog/file_system.h"
#include "parquet/column_writer.h"
#include "parquet/log_file_writer.h"
#include "parquet/thrift_serde.h"
#include "parquet_types.h"

namespace lakelog::parquet {
namespace {

// The bytes compare as unsigned, the type-defined order of BYTE_ARRAY (std::string does that).
bool ByteLess(std::string_view a, std::string_view b) { return a < b; }

std::string Repeat(std::string_view unit, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += unit;
  return out;
}

const std::string kMaxChar = "\xF4\x8F\xBF\xBF";  // U+10FFFF

TEST(ParquetStatisticsBoundTest, ValuesWithinTheLimitAreExact) {
  const std::string value = Repeat("a", kStatisticsBoundBytes);
  const StatisticsBound min = MinBound(value);
  EXPECT_EQ(min.bytes, value);
  EXPECT_TRUE(min.exact);
  const auto max = MaxBound(value);
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->bytes, value);
  EXPECT_TRUE(max->exact);
  EXPECT_TRUE(MinBound("").exact);
  EXPECT_EQ(MaxBound("")->bytes, "");
}

TEST(ParquetStatisticsBoundTest, AsciiIsCutToAPrefixAndAnIncrementedPrefix) {
  const std::string value = Repeat("a", 63) + "bcdef";
  const StatisticsBound min = MinBound(value);
  EXPECT_EQ(min.bytes, Repeat("a", 63) + "b");
  EXPECT_FALSE(min.exact);
  const auto max = MaxBound(value);
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->bytes, Repeat("a", 63) + "c");
  EXPECT_FALSE(max->exact);
}

TEST(ParquetStatisticsBoundTest, MultiByteCharacterAtTheCutIsNotSplit) {
  // "€" (3 bytes) occupies bytes 63..65: the cut steps back to 63.
  const std::string value = Repeat("a", 63) + "\xE2\x82\xAC" + "tail";
  EXPECT_EQ(MinBound(value).bytes, Repeat("a", 63));
  EXPECT_EQ(MaxBound(value)->bytes, Repeat("a", 62) + "b");

  // Two-byte characters end exactly at the limit: é × 32 kept, the last one incremented.
  const std::string accents = Repeat("\xC3\xA9", 40);  // é = U+00E9
  EXPECT_EQ(MinBound(accents).bytes, Repeat("\xC3\xA9", 32));
  EXPECT_EQ(MaxBound(accents)->bytes, Repeat("\xC3\xA9", 31) + "\xC3\xAA");  // ê = U+00EA

  // Three-byte characters: 21 fit (63 bytes); the max increments U+65E5 to U+65E6.
  const std::string kanji = Repeat("\xE6\x97\xA5", 30);  // 日 = U+65E5
  EXPECT_EQ(MinBound(kanji).bytes, Repeat("\xE6\x97\xA5", 21));
  EXPECT_EQ(MaxBound(kanji)->bytes, Repeat("\xE6\x97\xA5", 20) + "\xE6\x97\xA6");

  // A four-byte character straddling the limit.
  const std::string emoji = Repeat("b", 62) + "\xF0\x9F\x99\x82" + "x";  // U+1F642
  EXPECT_EQ(MinBound(emoji).bytes, Repeat("b", 62));
  EXPECT_EQ(MaxBound(emoji)->bytes, Repeat("b", 61) + "c");
}

TEST(ParquetStatisticsBoundTest, IncrementSkipsSurrogatesAndStaysWithinTheLimit) {
  // U+D7FF + 1 would be a surrogate: the next scalar value is U+E000.
  const std::string before_surrogates = Repeat("a", 61) + "\xED\x9F\xBF" + "zz";
  EXPECT_EQ(MaxBound(before_surrogates)->bytes, Repeat("a", 61) + "\xEE\x80\x80");
  // U+007F + 1 = U+0080 takes two bytes, one past the limit: the character before is
  // incremented instead.
  const std::string del = Repeat("a", 63) + "\x7F" + "zz";
  EXPECT_EQ(MaxBound(del)->bytes, Repeat("a", 62) + "b");
}

TEST(ParquetStatisticsBoundTest, MaxCharacterRunsAreDroppedOrHaveNoBound) {
  // U+10FFFF cannot be incremented: the run is dropped and the character before it steps up.
  const std::string run = "a" + Repeat(kMaxChar, 30);
  EXPECT_EQ(MaxBound(run)->bytes, "b");
  EXPECT_EQ(MinBound(run).bytes, "a" + Repeat(kMaxChar, 15));
  // Nothing but U+10FFFF: no upper bound within the limit; the max is left out.
  const std::string only = Repeat(kMaxChar, 20);
  EXPECT_FALSE(MaxBound(only).has_value());
  EXPECT_EQ(MinBound(only).bytes, Repeat(kMaxChar, 16));
}

TEST(ParquetStatisticsBoundTest, BytesThatAreNotUtf8GetByteWiseBounds) {
  const std::string all_ff(100, '\xFF');
  EXPECT_FALSE(MaxBound(all_ff).has_value());
  EXPECT_EQ(MinBound(all_ff).bytes, std::string(64, '\xFF'));
  const std::string mixed = std::string(63, 'a') + "\x80\xFF\xFF";
  const auto max = MaxBound(mixed);
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->bytes, std::string(63, 'a') + "\x81");
  EXPECT_TRUE(ByteLess(mixed, max->bytes));
}

// Random values over ASCII, multi-byte and U+10FFFF characters and random limits: the min is a
// lower bound, the max an upper bound, both fit the limit and are valid UTF-8.
TEST(ParquetStatisticsBoundTest, RandomValuesGetValidUtf8Bounds) {
  const std::vector<std::string> alphabet = {"a",
                                             "z",
                                             "\x7F",
                                             "\xC3\xA9",
                                             "\xDF\xBF",
                                             "\xED\x9F\xBF",
                                             "\xEF\xBF\xBF",
                                             "\xF0\x9F\x99\x82",
                                             kMaxChar};
  std::mt19937 rng(18);
  for (int trial = 0; trial < 20000; ++trial) {
    const size_t limit = 4 + rng() % 40;
    std::string value;
    const size_t chars = rng() % 30;
    for (size_t i = 0; i < chars; ++i) value += alphabet[rng() % alphabet.size()];
    const StatisticsBound min = MinBound(value, limit);
    EXPECT_LE(min.bytes.size(), limit);
    EXPECT_FALSE(ByteLess(value, min.bytes)) << trial;
    EXPECT_EQ(min.exact, min.bytes == value);
    EXPECT_TRUE(IsValidUtf8(min.bytes)) << trial;
    const auto max = MaxBound(value, limit);
    if (!max.has_value()) {
      // Only when every character that fits is U+10FFFF.
      EXPECT_EQ(value.substr(0, limit / 4 * 4), Repeat(kMaxChar, limit / 4)) << trial;
      continue;
    }
    EXPECT_LE(max->bytes.size(), limit);
    EXPECT_FALSE(ByteLess(max->bytes, value)) << trial;
    EXPECT_EQ(max->exact, max->bytes == value);
    EXPECT_TRUE(IsValidUtf8(max->bytes)) << trial;
  }
}

// A chunk holding one 8 MB value writes a bounded, inexact min/max; the short values of the
// other columns stay exact.
TEST(ParquetStatisticsBoundTest, HugeValueGivesASmallFooter) {
  std::vector<LogEvent> events(3);
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].ts_micros = 1732406400000000 + static_cast<int64_t>(i);
    events[i].status = "SUCCESS";
  }
  events[0].message = std::string(8u << 20, 'm');
  events[1].message = "b short";
  events[2].message = std::string(8u << 20, 'a');
  std::vector<const LogEvent*> rows;
  for (const auto& e : events) rows.push_back(&e);
  auto fs = NewMemFileSystem();
  auto stats = WriteLogEventsFile(fs.get(), "big.parquet", rows, ParquetWriteOptions());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();

  std::string file;
  ASSERT_TRUE(fs->ReadFile("big.parquet", &file).ok());
  uint32_t footer_length;
  std::memcpy(&footer_length, file.data() + file.size() - 8, 4);
  EXPECT_LT(footer_length, 4096u);
  format::FileMetaData meta;
  size_t consumed = 0;
  ASSERT_TRUE(DeserializeThrift(
                  reinterpret_cast<const uint8_t*>(file.data()) + file.size() - 8 - footer_length,
                  footer_length, &meta, &consumed)
                  .ok());
  ASSERT_EQ(meta.row_groups.size(), 1u);
  bool saw_message = false;
  for (const format::ColumnChunk& chunk : meta.row_groups[0].columns) {
    const format::Statistics& s = chunk.meta_data.statistics;
    if (chunk.meta_data.path_in_schema == std::vector<std::string>{"message"}) {
      saw_message = true;
      EXPECT_EQ(s.min_value, std::string(kStatisticsBoundBytes, 'a'));
      EXPECT_FALSE(s.is_min_value_exact);
      EXPECT_EQ(s.max_value, std::string(kStatisticsBoundBytes - 1, 'm') + "n");
      EXPECT_FALSE(s.is_max_value_exact);
    } else if (chunk.meta_data.path_in_schema == std::vector<std::string>{"status"}) {
      EXPECT_EQ(s.min_value, "SUCCESS");
      EXPECT_TRUE(s.is_min_value_exact && s.is_max_value_exact);
    }
  }
  EXPECT_TRUE(saw_message);
  // The Delta stats are built from the full values, and cut there (src/delta/stats.h).
  EXPECT_EQ(stats->string_columns[3].min->size(), 8u << 20);
}

}  // namespace
}  // namespace lakelog::parquet
