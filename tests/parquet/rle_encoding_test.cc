#include "parquet/rle_encoding.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

namespace lakelog::parquet {
namespace {

std::vector<uint32_t> RoundTrip(const std::vector<uint32_t>& values, int bit_width,
                                std::string* encoded) {
  encoded->clear();
  RleBitPackedEncoder encoder(bit_width, encoded);
  for (uint32_t v : values) encoder.Put(v);
  encoder.Flush();
  RleBitPackedDecoder decoder(reinterpret_cast<const uint8_t*>(encoded->data()), encoded->size(),
                              bit_width);
  std::vector<uint32_t> decoded(values.size());
  Status s = decoder.Get(decoded.data(), decoded.size());
  EXPECT_TRUE(s.ok()) << s.ToString();
  return decoded;
}

TEST(ParquetRleTest, BitWidthForCoversPowersOfTwo) {
  EXPECT_EQ(BitWidthFor(0), 0);
  EXPECT_EQ(BitWidthFor(1), 1);
  EXPECT_EQ(BitWidthFor(2), 2);
  EXPECT_EQ(BitWidthFor(255), 8);
  EXPECT_EQ(BitWidthFor(256), 9);
  EXPECT_EQ(BitWidthFor(0xffffffffu), 32);
}

TEST(ParquetRleTest, LongRepeatBecomesOneRleRun) {
  std::vector<uint32_t> values(10000, 5);
  std::string encoded;
  EXPECT_EQ(RoundTrip(values, 3, &encoded), values);
  // varint(10000 << 1) is 3 bytes, the value one byte.
  EXPECT_EQ(encoded.size(), 4u);
  EXPECT_EQ(static_cast<uint8_t>(encoded[0]) & 1, 0);
}

TEST(ParquetRleTest, BitPackedRunRoundTrips) {
  std::vector<uint32_t> values;
  for (uint32_t i = 0; i < 1000; ++i) values.push_back(i % 7);
  std::string encoded;
  EXPECT_EQ(RoundTrip(values, 3, &encoded), values);
  // All literal: 1000 values padded to 1000 (125 groups) * 3 bits, plus a few run headers.
  EXPECT_LE(encoded.size(), 375u + 4u);
  EXPECT_EQ(static_cast<uint8_t>(encoded[0]) & 1, 1);
}

TEST(ParquetRleTest, MixedRunsRoundTripAtEveryWidth) {
  std::mt19937 rng(42);
  for (int width = 0; width <= 32; ++width) {
    const uint64_t limit = width == 32 ? 0xffffffffull : (uint64_t{1} << width) - 1;
    std::vector<uint32_t> values;
    while (values.size() < 3000) {
      uint32_t v = static_cast<uint32_t>(rng() & limit);
      size_t run = (rng() % 4 == 0) ? rng() % 40 : 1;
      for (size_t i = 0; i < run; ++i) values.push_back(v);
    }
    std::string encoded;
    EXPECT_EQ(RoundTrip(values, width, &encoded), values) << "width " << width;
  }
}

TEST(ParquetRleTest, OddCountsRoundTrip) {
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 503u, 504u, 505u}) {
    std::vector<uint32_t> values;
    for (size_t i = 0; i < n; ++i) values.push_back(static_cast<uint32_t>((i * 37) % 11));
    std::string encoded;
    EXPECT_EQ(RoundTrip(values, 4, &encoded), values) << n;
  }
}

TEST(ParquetRleTest, RepeatAfterLiteralsKeepsOrder) {
  std::vector<uint32_t> values = {1, 2, 3, 4, 5, 6, 9, 9};
  for (int i = 0; i < 30; ++i) values.push_back(9);
  values.push_back(1);
  std::string encoded;
  EXPECT_EQ(RoundTrip(values, 4, &encoded), values);
}

// PutRepeated is a shortcut for a loop of Put: the bytes must be identical, for runs that end
// before, at and after the point where a run is committed to RLE, and across literal runs.
TEST(ParquetRleTest, PutRepeatedEncodesLikePut) {
  std::mt19937 rng(7);
  for (int width : {1, 3, 8, 13}) {
    const uint32_t limit = (uint32_t{1} << width) - 1;
    std::vector<std::pair<uint32_t, size_t>> runs;
    for (int i = 0; i < 2000; ++i) {
      const size_t length = rng() % 3 == 0 ? rng() % 30 : 1 + rng() % 2;
      runs.emplace_back(static_cast<uint32_t>(rng() & limit), length);
    }
    runs.emplace_back(0, 100000);
    std::string one_by_one, by_run;
    RleBitPackedEncoder put(width, &one_by_one);
    RleBitPackedEncoder repeated(width, &by_run);
    for (const auto& [value, length] : runs) {
      for (size_t i = 0; i < length; ++i) put.Put(value);
      repeated.PutRepeated(value, length);
    }
    put.Flush();
    repeated.Flush();
    EXPECT_EQ(by_run, one_by_one) << "width " << width;
  }
}

TEST(ParquetRleTest, LevelsV1HaveLengthPrefix) {
  std::vector<int16_t> levels = {1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
  std::string scratch, out;
  AppendLevelsV1(levels.data(), levels.size(), 1, &scratch, &out);
  ASSERT_GE(out.size(), 4u);
  uint32_t length = static_cast<uint8_t>(out[0]) | static_cast<uint8_t>(out[1]) << 8 |
                    static_cast<uint8_t>(out[2]) << 16 | static_cast<uint8_t>(out[3]) << 24;
  EXPECT_EQ(length, out.size() - 4);
  RleBitPackedDecoder decoder(reinterpret_cast<const uint8_t*>(out.data()) + 4, length, 1);
  std::vector<uint32_t> decoded(levels.size());
  ASSERT_TRUE(decoder.Get(decoded.data(), decoded.size()).ok());
  for (size_t i = 0; i < levels.size(); ++i)
    EXPECT_EQ(decoded[i], static_cast<uint32_t>(levels[i]));
}

TEST(ParquetRleTest, TruncatedStreamIsCorruption) {
  std::vector<uint32_t> values;
  for (uint32_t i = 0; i < 100; ++i) values.push_back(i);
  std::string encoded;
  RoundTrip(values, 7, &encoded);
  // One header byte, then 100 * 7 bits = 88 bytes of real values and the zero padding of the
  // last group. Losing only padding is tolerated (some writers never write it).
  const size_t needed = 1 + (100 * 7 + 7) / 8;
  for (size_t cut = 0; cut < encoded.size(); ++cut) {
    RleBitPackedDecoder decoder(reinterpret_cast<const uint8_t*>(encoded.data()), cut, 7);
    std::vector<uint32_t> decoded(values.size());
    Status s = decoder.Get(decoded.data(), decoded.size());
    if (cut < needed) {
      EXPECT_TRUE(s.IsCorruption()) << cut;
    } else {
      EXPECT_TRUE(s.ok()) << cut;
      EXPECT_EQ(decoded, values) << cut;
    }
  }
}

TEST(ParquetRleTest, ZeroLengthRunIsCorruption) {
  const uint8_t bytes[] = {0x00, 0x01};
  RleBitPackedDecoder decoder(bytes, sizeof(bytes), 1);
  uint32_t out[4];
  EXPECT_TRUE(decoder.Get(out, 4).IsCorruption());
}

}  // namespace
}  // namespace lakelog::parquet
