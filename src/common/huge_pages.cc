#include "common/huge_pages.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace lakelog {

namespace {

// What MapHugePages maps for `bytes`: its length, and how much of it (from the start) is
// advised for huge pages.
struct Layout {
  size_t length;
  size_t huge;
};

Layout LayoutFor(size_t bytes) {
  const size_t rounded = RoundUpToHugePages(bytes);
  if (rounded - bytes <= bytes / 8) return {rounded, rounded};  // huge pages throughout
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return {(bytes + page - 1) / page * page, bytes / kHugePage * kHugePage};
}

}  // namespace

void* MapHugePages(size_t bytes) {
  const Layout layout = LayoutFor(bytes);
  // One huge page more than needed, so that an aligned start lies inside; the ends are cut.
  void* raw = mmap(nullptr, layout.length + kHugePage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  char* const start = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(raw) + kHugePage - 1) &
                                              ~(kHugePage - 1));
  const size_t before = static_cast<size_t>(start - static_cast<char*>(raw));  // < kHugePage
  if (before > 0) munmap(raw, before);
  munmap(start + layout.length, kHugePage - before);
#ifdef MADV_HUGEPAGE
  if (layout.huge > 0) (void)madvise(start, layout.huge, MADV_HUGEPAGE);
  // Where transparent huge pages are on for every mapping ("always"), the tail would take a
  // whole huge page once its mapping merged with a neighbour's.
  if (layout.length > layout.huge) {
    (void)madvise(start + layout.huge, layout.length - layout.huge, MADV_NOHUGEPAGE);
  }
#endif
  return start;
}

void UnmapHugePages(void* memory, size_t bytes) {
  if (memory != nullptr) munmap(memory, LayoutFor(bytes).length);
}

}  // namespace lakelog
