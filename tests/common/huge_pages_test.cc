#include "common/huge_pages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

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
  const size_t bytes = 2 * kHugePage + 12345;
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

// The VmFlags line of the mapping that holds `address`, from /proc/self/smaps ("" when none).
std::string VmFlagsAt(uintptr_t address) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in_it = false;
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2) {
      in_it = lo <= address && address < hi;
    } else if (in_it && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

bool HasFlag(const std::string& vm_flags, const std::string& flag) {
  std::istringstream words(vm_flags);
  std::string w;
  while (words >> w) {
    if (w == flag) return true;
  }
  return false;
}

// When a last huge page would cost more than an eighth more memory, only whole huge pages are
// advised for huge pages ("hg"); the part past the last one stays on small pages ("nh").
TEST(HugePagesTest, OnlyWholeHugePagesAreAdvisedForHugePages) {
  const size_t bytes = 2 * kHugePage + 12345;
  void* m = MapHugePages(bytes);
  ASSERT_NE(m, nullptr);
  const uintptr_t start = reinterpret_cast<uintptr_t>(m);
  const std::string head = VmFlagsAt(start);
  const std::string tail = VmFlagsAt(start + bytes - 1);
  EXPECT_TRUE(HasFlag(head, "hg")) << head;
  EXPECT_EQ(VmFlagsAt(start + 2 * kHugePage - 1), head) << "both huge pages in one advised range";
  EXPECT_TRUE(HasFlag(tail, "nh")) << tail;
  EXPECT_FALSE(HasFlag(tail, "hg")) << tail;
  UnmapHugePages(m, bytes);
  // Rounded up by at most an eighth: huge pages throughout, to the last byte.
  const size_t big = 8 * kHugePage + 12345;
  m = MapHugePages(big);
  ASSERT_NE(m, nullptr);
  const std::string last = VmFlagsAt(reinterpret_cast<uintptr_t>(m) + big - 1);
  EXPECT_TRUE(HasFlag(last, "hg")) << last;
  UnmapHugePages(m, big);
  // A multiple of the huge page is huge pages throughout.
  m = MapHugePages(kHugePage);
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(HasFlag(VmFlagsAt(reinterpret_cast<uintptr_t>(m)), "hg"));
  UnmapHugePages(m, kHugePage);
}

}  // namespace
}  // namespace lakelog
