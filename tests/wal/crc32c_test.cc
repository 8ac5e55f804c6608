#include "wal/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace lakelog::wal::crc32c {
namespace {

TEST(WalCrc32cTest, StandardVectors) {
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(Value(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Value(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(Value(ascending), 0x46DD794Eu);
  EXPECT_EQ(Value(descending), 0x113FDB5Cu);
  EXPECT_EQ(Value(""), 0u);
}

TEST(WalCrc32cTest, ExtendEqualsWholeValue) {
  std::string data = "hello world, this crosses several eight-byte words";
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t head = Value(data.data(), split);
    EXPECT_EQ(Extend(head, data.data() + split, data.size() - split), Value(data)) << split;
  }
}

TEST(WalCrc32cTest, PortableMatchesAcceleratedAtEveryAlignmentAndLength) {
  std::mt19937 rng(42);
  std::string data(4096 + 16, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t start = 0; start < 16; ++start) {
    for (size_t len : {0, 1, 7, 8, 9, 15, 63, 64, 65, 1000, 4096}) {
      EXPECT_EQ(ExtendPortable(0, data.data() + start, len), Extend(0, data.data() + start, len))
          << "start " << start << " len " << len;
    }
  }
}

TEST(WalCrc32cTest, MaskRoundTripsAndChangesValue) {
  uint32_t crc = Value("foo");
  EXPECT_NE(Mask(crc), crc);
  EXPECT_NE(Mask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Unmask(Mask(Mask(crc)))), crc);
  EXPECT_EQ(Mask(0), kMaskDelta);
}

}  // namespace
}  // namespace lakelog::wal::crc32c
