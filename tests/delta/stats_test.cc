#include "delta/stats.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lakelog::delta {
namespace {

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

const std::string kE = "\xc3\xa9";                // é
const std::string kSmile = "\xf0\x9f\x98\x80";    // U+1F600
const std::string kUtf8Max = "\xf4\x8f\xbf\xbf";  // U+10FFFF

TEST(DeltaStatsTest, TimestampTruncatedToMilliseconds) {
  // 2026-11-24T10:15:30.123456Z
  EXPECT_EQ(FormatStatsTimestamp(1795515330123456), "2026-11-24T10:15:30.123Z");
  EXPECT_EQ(FormatStatsTimestamp(1795515330123999), "2026-11-24T10:15:30.123Z");
  EXPECT_EQ(FormatStatsTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatStatsTimestamp(-1), "1969-12-31T23:59:59.999Z");  // floor, not toward zero
  EXPECT_EQ(FormatStatsTimestamp(-1000), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatStatsTimestamp(-1001), "1969-12-31T23:59:59.998Z");
  EXPECT_FALSE(FormatStatsTimestamp(INT64_MAX).has_value());
  EXPECT_FALSE(FormatStatsTimestamp(INT64_MIN).has_value());
}

TEST(DeltaStatsTest, MinIsCutTo32CodePoints) {
  EXPECT_EQ(TruncateStatsMin("short"), "short");
  EXPECT_EQ(TruncateStatsMin(Repeat("x", 40)), Repeat("x", 32));
  EXPECT_EQ(TruncateStatsMin(Repeat(kE, 40)), Repeat(kE, 32));
  // Spark's substring counts code points: 32 emoji survive.
  EXPECT_EQ(TruncateStatsMin(Repeat(kSmile, 40)), Repeat(kSmile, 32));
}

TEST(DeltaStatsTest, CutMaxGetsTieBreakerLikeDeltaSpark) {
  // Each expectation is what Delta 4.4 wrote for the same value.
  EXPECT_EQ(TruncateStatsMax(Repeat("x", 40) + Repeat(kE, 5)), Repeat("x", 32) + "\x7f");
  EXPECT_EQ(TruncateStatsMax(Repeat(kE, 40)), Repeat(kE, 32) + kUtf8Max);
  // Max counts UTF-16 units (Java String.take): 16 emoji fill 32 units.
  EXPECT_EQ(TruncateStatsMax(Repeat(kSmile, 40)), Repeat(kSmile, 16) + kUtf8Max);
  EXPECT_EQ(TruncateStatsMax(Repeat("x", 32)), Repeat("x", 32));
  EXPECT_EQ(TruncateStatsMax(Repeat(kSmile, 16)), Repeat(kSmile, 16));
}

TEST(DeltaStatsTest, CutMaxNeverSplitsASurrogatePair) {
  // 31 ASCII + emoji straddles the 32-unit boundary: the emoji is kept whole.
  std::string value = Repeat("a", 31) + kSmile + "zzz";
  EXPECT_EQ(TruncateStatsMax(value), Repeat("a", 31) + kSmile + "\x7f");
}

TEST(DeltaStatsTest, CutMaxSkipsPastUtf8MaxCharacters) {
  // Nothing sorts above U+10FFFF, so the cut moves right past it.
  std::string value = Repeat("a", 32) + kUtf8Max + "b";
  EXPECT_EQ(TruncateStatsMax(value), Repeat("a", 32) + kUtf8Max + "\x7f");
  // Only U+10FFFF after the prefix: no safe cut, the full value stays.
  std::string all_max = Repeat("a", 32) + kUtf8Max + kUtf8Max;
  EXPECT_EQ(TruncateStatsMax(all_max), all_max);
  // A dropped U+007F needs the big tie-breaker (U+007F would not sort above it).
  EXPECT_EQ(TruncateStatsMax(Repeat("a", 32) + "\x7f"), Repeat("a", 32) + kUtf8Max);
}

TEST(DeltaStatsTest, TruncatedBoundsStillBracketTheValues) {
  const std::string values[] = {Repeat("x", 50), Repeat(kE, 33) + "a", Repeat(kSmile, 20),
                                Repeat("a", 31) + kSmile + Repeat("~", 9)};
  for (const std::string& v : values) {
    EXPECT_LE(TruncateStatsMin(v), v);
    EXPECT_GE(TruncateStatsMax(v), v);  // byte order is UTF-8 code point order
  }
}

TEST(DeltaStatsTest, BuildsSparkShapedStatsJson) {
  parquet::DataFileStats stats;
  stats.num_rows = 3;
  stats.min_ts_micros = 1795515330123456;
  stats.max_ts_micros = 1795515331999999;
  stats.string_columns = {
      {"level", std::string("INFO"), std::string("WARN"), 0},
      {"stage", std::nullopt, std::nullopt, 3},
      {"status", std::string("FAILED"), std::string("SUCCESS"), 1},
      {"message", Repeat("m", 40), Repeat(kE, 40), 0},
      {"run_id", std::string("\xff"), std::string("\xff"), 0},  // invalid UTF-8: no bounds
      {"host", std::string("h1"), std::string("h2"), 0},
  };
  std::string json = BuildAddStats(stats);
  EXPECT_EQ(
      json.rfind(R"({"numRecords":3,"minValues":{"ts":"2026-11-24T10:15:30.123Z","level":"INFO",)",
                 0),
      0u)
      << json;
  nlohmann::json parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed["maxValues"]["ts"], "2026-11-24T10:15:31.999Z");
  EXPECT_FALSE(parsed["minValues"].contains("stage"));
  EXPECT_FALSE(parsed["minValues"].contains("run_id"));
  EXPECT_FALSE(parsed["minValues"].contains("pipeline"));
  EXPECT_FALSE(parsed["minValues"].contains("log_date"));
  EXPECT_EQ(parsed["minValues"]["message"], Repeat("m", 32));
  EXPECT_EQ(parsed["maxValues"]["message"], Repeat(kE, 32) + kUtf8Max);
  EXPECT_EQ(parsed["nullCount"],
            nlohmann::json::parse(R"({"ts":0,"level":0,"stage":3,"status":1,"message":0,)"
                                  R"("run_id":0,"host":0,"attributes":0})"));
}

}  // namespace
}  // namespace lakelog::delta
