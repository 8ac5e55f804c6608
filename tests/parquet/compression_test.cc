#include "parquet/compression.h"

#include <gtest/gtest.h>

#include <string>

namespace lakelog::parquet {
namespace {

std::string SamplePage() {
  std::string page;
  for (int i = 0; i < 20000; ++i) page += "stage=delta_merge status=SUCCESS n=" + std::to_string(i);
  return page;
}

class ParquetCompressionTest : public ::testing::TestWithParam<Compression> {};

TEST_P(ParquetCompressionTest, PageRoundTrips) {
  PageCompressor compressor(GetParam(), 3);
  for (const std::string& input : {SamplePage(), std::string(), std::string("x")}) {
    auto compressed = compressor.Compress(input);
    ASSERT_TRUE(compressed.ok()) << compressed.status().ToString();
    if (GetParam() != Compression::kNone && input.size() > 1000) {
      EXPECT_LT(compressed->size(), input.size() / 4);
    }
    std::string out;
    Status s = DecompressPage(CodecFor(GetParam()), *compressed, input.size(), &out);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(out, input);
  }
}

TEST_P(ParquetCompressionTest, WrongDeclaredSizeIsCorruption) {
  PageCompressor compressor(GetParam(), 3);
  const std::string input = SamplePage();
  auto compressed = compressor.Compress(input);
  ASSERT_TRUE(compressed.ok());
  std::string out;
  EXPECT_TRUE(
      DecompressPage(CodecFor(GetParam()), *compressed, input.size() + 1, &out).IsCorruption());
  EXPECT_TRUE(
      DecompressPage(CodecFor(GetParam()), *compressed, input.size() - 1, &out).IsCorruption());
}

TEST_P(ParquetCompressionTest, GarbageNeverCrashes) {
  PageCompressor compressor(GetParam(), 3);
  const std::string input = SamplePage();
  auto compressed = compressor.Compress(input);
  ASSERT_TRUE(compressed.ok());
  std::string damaged(*compressed);
  for (size_t i = 0; i < damaged.size(); i += 97) {
    std::string copy = damaged;
    copy[i] = static_cast<char>(copy[i] ^ 0x5a);
    std::string out;
    Status s = DecompressPage(CodecFor(GetParam()), copy, input.size(), &out);
    if (s.ok()) {
      EXPECT_EQ(out.size(), input.size());
    }
    std::string truncated = damaged.substr(0, i);
    s = DecompressPage(CodecFor(GetParam()), truncated, input.size(), &out);
    EXPECT_FALSE(s.ok());
  }
}

INSTANTIATE_TEST_SUITE_P(ParquetCodecs, ParquetCompressionTest,
                         ::testing::Values(Compression::kNone, Compression::kSnappy,
                                           Compression::kZstd, Compression::kLz4Raw),
                         [](const auto& info) { return std::string(CompressionName(info.param)); });

TEST(ParquetCompressionCodecTest, UnknownCodecIsNotSupported) {
  std::string out;
  EXPECT_EQ(DecompressPage(format::CompressionCodec::LZO, "abc", 3, &out).code(),
            StatusCode::kNotSupported);
}

TEST(ParquetCompressionCodecTest, ParsesNames) {
  Compression c;
  EXPECT_TRUE(ParseCompression("ZSTD", &c));
  EXPECT_EQ(c, Compression::kZstd);
  EXPECT_TRUE(ParseCompression("uncompressed", &c));
  EXPECT_EQ(c, Compression::kNone);
  EXPECT_TRUE(ParseCompression("lz4_raw", &c));
  EXPECT_EQ(CompressionName(c), "lz4_raw");
  EXPECT_FALSE(ParseCompression("brotli", &c));
}

}  // namespace
}  // namespace lakelog::parquet
