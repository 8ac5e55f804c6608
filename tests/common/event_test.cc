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

TEST(EventTest, LevelNamesRoundTrip) {
  for (Level l : {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError,
                  Level::kFatal}) {
    Level parsed;
    ASSERT_TRUE(ParseLevel(LevelName(l), &parsed));
    EXPECT_EQ(parsed, l);
  }
  Level parsed;
  EXPECT_TRUE(ParseLevel("warning", &parsed));
  EXPECT_EQ(parsed, Level::kWarn);
  EXPECT_FALSE(ParseLevel("LOUD", &parsed));
}

}  // namespace
}  // namespace lakelog
