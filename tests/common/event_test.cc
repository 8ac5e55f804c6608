#include "lakelog/event.h"

#include <gtest/gtest.h>

namespace lakelog {
namespace {

TEST(EventTest, DaysFromMicrosFloorsBeforeEpoch) {
  EXPECT_EQ(DaysFromMicros(0), 0);
  EXPECT_EQ(DaysFromMicros(-1), -1);
  EXPECT_EQ(DaysFromMicros(86'400'000'000LL), 1);
  EXPECT_EQ(FormatDate(0), "1970-01-01");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  EXPECT_EQ(FormatDate(19723), "2024-01-01");
  EXPECT_EQ(FormatDate(20781), "2026-11-24");
  EXPECT_EQ(FormatDate(DaysFromMicros(951782400000000LL)), "2000-02-29");
}

TEST(EventTest, TsRangeIsYearsOneToNineThousandNineHundredNinetyNine) {
  EXPECT_EQ(FormatDate(DaysFromMicros(kMinTsMicros)), "0001-01-01");
  EXPECT_EQ(FormatDate(DaysFromMicros(kMinTsMicros - 1)), "0000-12-31");
  EXPECT_EQ(FormatDate(DaysFromMicros(kMaxTsMicros)), "9999-12-31");
  EXPECT_EQ(FormatDate(DaysFromMicros(kMaxTsMicros + 1)), "10000-01-01");
  EXPECT_TRUE(IsTsInRange(kMinTsMicros));
  EXPECT_TRUE(IsTsInRange(kMaxTsMicros));
  EXPECT_TRUE(IsTsInRange(0));
  EXPECT_FALSE(IsTsInRange(kMinTsMicros - 1));
  EXPECT_FALSE(IsTsInRange(kMaxTsMicros + 1));
  EXPECT_EQ(kMinTsMillis * 1000, kMinTsMicros);
  EXPECT_EQ(kMaxTsMillis * 1000 + 999, kMaxTsMicros);
}

TEST(EventTest, LevelNamesRoundTrip) {
  for (Level l :
       {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kFatal}) {
    Level parsed;
    ASSERT_TRUE(ParseLevel(LevelName(l), &parsed));
    EXPECT_EQ(parsed, l);
  }
  Level parsed;
  EXPECT_TRUE(ParseLevel("warning", &parsed));
  EXPECT_EQ(parsed, Level::kWarn);
  EXPECT_TRUE(ParseLevel("info", &parsed));
  EXPECT_EQ(parsed, Level::kInfo);
  EXPECT_TRUE(ParseLevel("WARNING", &parsed));
  EXPECT_EQ(parsed, Level::kWarn);
  EXPECT_TRUE(ParseLevel("Fatal", &parsed));
  EXPECT_EQ(parsed, Level::kFatal);
  EXPECT_FALSE(ParseLevel("LOUD", &parsed));
  EXPECT_FALSE(ParseLevel("", &parsed));
  EXPECT_FALSE(ParseLevel("INFO ", &parsed));
  EXPECT_FALSE(ParseLevel("ERR", &parsed));
  EXPECT_FALSE(ParseLevel("CRITICAL", &parsed));
}

}  // namespace
}  // namespace lakelog
