// Anonymous memory on 2 MiB pages: the buffer's slot arrays and the hot-path benchmark's sample
// arrays, both walked by a thread whose latency is measured (on 4 KiB pages, a TLB miss every
// 4 KiB of them).
#pragma once

#include <cstddef>

namespace lakelog {

inline constexpr size_t kHugePage = size_t{2} << 20;

// `bytes` rounded up to a whole number of huge pages.
constexpr size_t RoundUpToHugePages(size_t bytes) {
  return (bytes + kHugePage - 1) / kHugePage * kHugePage;
}

// `bytes` of fresh, zeroed anonymous memory at a kHugePage-aligned address; null when the
// mapping fails. It is advised for huge pages (advisory: without transparent huge pages it is the
// same memory on small pages) throughout when rounding `bytes` up to whole huge pages costs at
// most an eighth more; otherwise only its whole huge pages are, and the rest (under kHugePage, at
// the end) stays on small pages, so that it costs what is used of it and not a whole huge page.
// Release it with UnmapHugePages(memory, bytes).
void* MapHugePages(size_t bytes);

void UnmapHugePages(void* memory, size_t bytes);

}  // namespace lakelog
