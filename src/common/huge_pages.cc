#include "common/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace lakelog {

void* MapHugePages(size_t bytes) {
  // One huge page more than asked, so that an aligned start exists inside; the ends are cut.
  void* raw =
      mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = (reinterpret_cast<uintptr_t>(raw) + kHugePage - 1) & ~(kHugePage - 1);
  const size_t before = start - reinterpret_cast<uintptr_t>(raw);  // < kHugePage
  if (before > 0) munmap(raw, before);
  munmap(reinterpret_cast<char*>(start) + bytes, kHugePage - before);
#ifdef MADV_HUGEPAGE
  (void)madvise(reinterpret_cast<void*>(start), bytes, MADV_HUGEPAGE);
#endif
  return reinterpret_cast<void*>(start);
}

void UnmapHugePages(void* memory, size_t bytes) {
  if (memory != nullptr) munmap(memory, bytes);
}

}  // namespace lakelog
