// DictionaryBuilder: the distinct values of a column chunk, in first-seen order, for
// RLE_DICTIONARY encoding.
//
// The distinct values are kept PLAIN-encoded in one contiguous buffer, which is the dictionary
// page body as it goes to the file. Lookups compare against that compact buffer rather than
// against the caller's values, which are scattered over the heap (one event each): a chunk of a
// low-cardinality column then touches a few cache lines per lookup, whatever its row count.
//
// The index is open addressing with linear probing over (hash tag, entry index) pairs, at most
// half full, so a lookup of a value already present is one hash, one slot probe and one compare
// in the common case.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "parquet/physical_types.h"

namespace lakelog::parquet {

template <typename Traits>
class DictionaryBuilder {
 public:
  using Value = typename Traits::Value;

  DictionaryBuilder() { slots_.assign(kInitialSlots, Slot{}); }

  // The index of `value` in first-seen order; adds it when new and sets *inserted accordingly.
  uint32_t Insert(Value value, bool* inserted) {
    const uint64_t hash = Traits::Hash(value);
    const uint32_t tag = static_cast<uint32_t>(hash ^ (hash >> 32));
    size_t slot = tag & mask_;
    while (true) {
      const Slot s = slots_[slot];
      if (s.entry == kEmpty) {
        *inserted = true;
        return Add(value, tag, slot);
      }
      if (s.tag == tag && Traits::Equal(at(s.entry), value)) {
        *inserted = false;
        return s.entry;
      }
      slot = (slot + 1) & mask_;
    }
  }

  size_t size() const { return offsets_.size(); }
  // The PLAIN encoding of every distinct value, in index order: the dictionary page body.
  const std::string& page() const { return page_; }
  // Entry `index` as a view into page(); valid until the next Insert() or Clear().
  Value at(uint32_t index) const { return Traits::ReadPlain(page_.data() + offsets_[index]); }
  // Appends the PLAIN encoding of entry `index` to *out.
  void AppendPlain(uint32_t index, std::string* out) const {
    const char* src = page_.data() + offsets_[index];
    out->append(src, Traits::PlainSizeAt(src));
  }

  // Forgets every value and keeps the memory, except an index grown past kRetainedSlots (a
  // high-cardinality chunk), which is released so one such chunk does not pin it.
  void Clear() {
    offsets_.clear();
    page_.clear();
    if (slots_.size() > kRetainedSlots) {
      std::vector<Slot>(kInitialSlots).swap(slots_);
    } else {
      std::fill(slots_.begin(), slots_.end(), Slot{});
    }
    mask_ = slots_.size() - 1;
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr size_t kInitialSlots = 256;
  static constexpr size_t kRetainedSlots = 1 << 16;

  struct Slot {
    uint32_t tag = 0;
    uint32_t entry = kEmpty;
  };

  // Out of line, so that the lookup above stays small enough to inline into the caller's loop.
  [[gnu::noinline]] uint32_t Add(Value value, uint32_t tag, size_t slot) {
    const uint32_t entry = static_cast<uint32_t>(offsets_.size());
    offsets_.push_back(static_cast<uint32_t>(page_.size()));
    Traits::AppendPlain(&page_, value);
    slots_[slot] = Slot{tag, entry};
    // Invariant: at most half the slots are used, so probes stay short and always end.
    if (offsets_.size() * 2 > slots_.size()) Grow();
    assert(offsets_.size() * 2 <= slots_.size());
    return entry;
  }

  [[gnu::noinline]] void Grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.entry == kEmpty) continue;
      size_t slot = s.tag & mask_;
      while (slots_[slot].entry != kEmpty) slot = (slot + 1) & mask_;
      slots_[slot] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = kInitialSlots - 1;
  std::string page_;               // PLAIN bytes of the entries
  std::vector<uint32_t> offsets_;  // start of each entry in page_
};

}  // namespace lakelog::parquet
