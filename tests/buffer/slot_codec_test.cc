// The encoder's short copies (codec_detail::CopyShort: overlapping fixed-size moves), at every
// length around their 4, 8, 16, 32 and 64-byte thresholds, and events whose strings have those
// lengths round-tripping through Encode and Decode.
#include "buffer/slot_codec.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace lakelog::buffer {
namespace {

TEST(SlotCodecTest, CopyShortCopiesExactlyTheBytesAtEveryLength) {
  for (size_t n = 0; n <= 130; ++n) {
    // The source is a heap block of exactly n bytes, so a read past its end shows under ASan.
    std::unique_ptr<char[]> src(new char[n]);
    for (size_t i = 0; i < n; ++i) src[i] = static_cast<char>('a' + (i * 7 + n) % 26);
    std::vector<char> out(n + 32, '#');
    codec_detail::CopyShort(out.data() + 16, src.get(), n);
    for (size_t i = 0; i < 16; ++i) ASSERT_EQ(out[i], '#') << "n=" << n << " before, at " << i;
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(out[16 + i], src[i]) << "n=" << n << " at " << i;
    for (size_t i = 16 + n; i < out.size(); ++i) ASSERT_EQ(out[i], '#') << "n=" << n << " after";
  }
}

TEST(SlotCodecTest, EventsOfEveryShortStringLengthRoundTrip) {
  for (size_t n = 0; n <= 70; ++n) {
    const std::string stage(n, 's'), status(n / 2 + 1, 'S'), message(70 - n, 'm');
    std::string key(n % 9, 'k'), value(n, 'v');
    for (size_t i = 0; i < n; ++i) value[i] = static_cast<char>('0' + i % 10);
    const std::vector<Attribute> attributes = {{key, value}};
    const std::string run = std::string(n % 17, 'r');
    EventFields f{.level = Level::kWarn,
                  .stage = stage,
                  .status = status,
                  .message = message,
                  .run_id = run,
                  .attributes = attributes};
    std::vector<char> payload(EncodedSize(f));
    EventHeader h;
    Encode(f, TscClock::Stamp{1'700'000'000'000'000, TscClock::kMicrosEpoch}, &h, payload.data());
    LogEvent e;
    Decode(h, payload.data(),
           DecodeDefaults{.pipeline = "p", .host = "h", .run_id = {}, .tsc = nullptr}, &e);
    EXPECT_EQ(e.stage, stage) << n;
    EXPECT_EQ(e.status, status) << n;
    EXPECT_EQ(e.message, message) << n;
    ASSERT_TRUE(e.run_id.has_value());
    EXPECT_EQ(*e.run_id, run) << n;
    ASSERT_EQ(e.attributes.size(), 1u);
    EXPECT_EQ(e.attributes[0].first, key) << n;
    EXPECT_EQ(e.attributes[0].second, value) << n;
  }
}

}  // namespace
}  // namespace lakelog::buffer
