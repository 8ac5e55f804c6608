#include "common/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace lakelog {
namespace {

TEST(HugePagesTest, RoundsUpToWholeHugePages) {
  EXPECT_EQ(RoundUpToHugePages(0), 0u);
  EXPECT_EQ(RoundUpToHugePages(1), kHugePage);
  EXPECT_EQ(RoundUpToHugePages(kHugePage), kHugePage);
  EXPECT_EQ(RoundUpToHugePages(kHugePage + 1), 2 * kHugePage);
}

// Several mappings in a row (the kernel places each beside the last, at no particular
// alignment): each starts on a huge-page boundary, reads as zeros and takes writes to its end.
TEST(HugePagesTest, MappingsAreAlignedZeroedAndWritable) {
  constexpr int kMappings = 4;
  void* maps[kMappings];
  const size_t bytes = 2 * kHugePage;
  for (void*& m : maps) {
    m = MapHugePages(bytes);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(m) % kHugePage, 0u);
    const auto* bytes_in = static_cast<const unsigned char*>(m);
    EXPECT_EQ(bytes_in[0], 0);
    EXPECT_EQ(bytes_in[bytes - 1], 0);
    std::memset(m, 0xab, bytes);
    EXPECT_EQ(bytes_in[bytes - 1], 0xab);
  }
  for (void* m : maps) UnmapHugePages(m, bytes);
  UnmapHugePages(nullptr, bytes);  // a failed mapping's null is released as nothing
}

}  // namespace
}  // namespace lakelog
