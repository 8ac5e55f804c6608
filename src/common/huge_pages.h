// Anonymous memory on 2 MiB pages: the buffer's slot arrays and the hot-path benchmark's sample
// arrays, both walked by a thread whose latency is measured (a 4 KiB page is a TLB miss every
// 4 KiB of them).
#pragma once

#include <cstddef>

namespace lakelog {

inline constexpr size_t kHugePage = size_t{2} << 20;

// `bytes` rounded up to a whole number of huge pages.
constexpr size_t RoundUpToHugePages(size_t bytes) {
  return (bytes + kHugePage - 1) / kHugePage * kHugePage;
}

// `bytes` (a multiple of kHugePage) of fresh, zeroed anonymous memory at a kHugePage-aligned
// address, advised for huge pages (advisory: without transparent huge pages it is the same
// memory on small pages); null when the mapping fails. Release it with UnmapHugePages.
void* MapHugePages(size_t bytes);

void UnmapHugePages(void* memory, size_t bytes);

}  // namespace lakelog
