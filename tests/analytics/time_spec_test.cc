#include "analytics/time_spec.h"

#include <gtest/gtest.h>

namespace lakelog::analytics {
namespace {

TEST(TimeSpecTest, Rfc3339FormsAgree) {
  const int64_t expected = 1'795'515'330'123'000;  // 2026-11-24T10:15:30.123Z
  EXPECT_EQ(ParseRfc3339("2026-11-24T10:15:30.123Z"), expected);
  EXPECT_EQ(ParseRfc3339("2026-11-24T10:15:30.123000Z"), expected);
  EXPECT_EQ(ParseRfc3339("2026-11-24 10:15:30.123"), expected);
  EXPECT_EQ(ParseRfc3339("2026-11-24T12:15:30.123+02:00"), expected);
  EXPECT_EQ(ParseRfc3339("2026-11-24T09:15:30.1234567-01:00"), expected + 456);
  EXPECT_EQ(ParseRfc3339("2026-11-24"),
            expected - (10 * 3600 + 15 * 60 + 30) * kMicrosPerSecond - 123'000);
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59Z"), -kMicrosPerSecond);
}

TEST(TimeSpecTest, MalformedInstantsAreRefused) {
  for (const char* bad : {"", "2026-13-01", "2026-02-30", "2026-11-24T25:00:00Z", "yesterday",
                          "2026-11-24T10:00:00+0200", "2026-11-24T10:00:00.Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(TimeSpecTest, DurationsAndRelativeInstants) {
  EXPECT_EQ(ParseDuration("90s"), 90 * kMicrosPerSecond);
  EXPECT_EQ(ParseDuration("15m"), 900 * kMicrosPerSecond);
  EXPECT_EQ(ParseDuration("1.5h"), 5400 * kMicrosPerSecond);
  EXPECT_EQ(ParseDuration("7d"), 7 * 86'400 * kMicrosPerSecond);
  EXPECT_EQ(ParseDuration("2w"), 14 * 86'400 * kMicrosPerSecond);
  EXPECT_EQ(ParseDuration("30"), 30 * kMicrosPerSecond);
  EXPECT_FALSE(ParseDuration("-1h").has_value());
  EXPECT_FALSE(ParseDuration("h").has_value());
  EXPECT_FALSE(ParseDuration("1y").has_value());
  auto since = ParseInstant("--since", "1h", 10 * 3600 * kMicrosPerSecond);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(*since, 9 * 3600 * kMicrosPerSecond);
  auto bad = ParseInstant("--since", "soon", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("--since 'soon'"), std::string::npos);
}

TEST(TimeSpecTest, FormatDurationIsShort) {
  EXPECT_EQ(FormatDuration(0), "0ms");
  EXPECT_EQ(FormatDuration(45 * kMicrosPerSecond), "45s");
  EXPECT_EQ(FormatDuration(192 * 60 * kMicrosPerSecond), "3h12m");
  EXPECT_EQ(FormatDuration((2 * 86'400 + 4 * 3600) * kMicrosPerSecond), "2d4h");
}

}  // namespace
}  // namespace lakelog::analytics
