// What the writer needs to know about each physical type it writes (INT64 and BYTE_ARRAY):
// PLAIN encoding both ways, equality and hashing for dictionaries, and the statistics bytes.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "parquet/statistics.h"
#include "parquet_types.h"

namespace lakelog::parquet {

static_assert(std::endian::native == std::endian::little,
              "PLAIN encoding is little endian; the writer copies values as they are in memory");

namespace hash_internal {

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
// Folds the 128-bit product: every input bit reaches the low output bits, which pick the slot.
inline uint64_t MultiplyFold(uint64_t a, uint64_t b) {
  const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}
inline constexpr uint64_t kSeed0 = 0x9E3779B97F4A7C15ull;
inline constexpr uint64_t kSeed1 = 0xD6E8FEB86659FD93ull;

}  // namespace hash_internal

// Equality of a[0, n) and b[0, n), inlined: dictionary values are mostly short, and for them a
// call to memcmp costs more than the compare itself.
inline bool BytesEqual(const char* a, const char* b, size_t n) {
  using hash_internal::Load32;
  using hash_internal::Load64;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      if (Load64(a + i) != Load64(b + i)) return false;
    }
    return Load64(a + n - 8) == Load64(b + n - 8);
  }
  if (n >= 4) return Load32(a) == Load32(b) && Load32(a + n - 4) == Load32(b + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// A fast, non-cryptographic hash for dictionary building. Strings of up to 16 bytes (most
// dictionary values: levels, statuses, hosts, run ids) cost two overlapping loads and one
// multiply; longer ones one multiply per 16 bytes. Never reads outside [data, data + n).
inline uint64_t HashBytes(const char* data, size_t n) {
  using namespace hash_internal;
  uint64_t seed = kSeed0 ^ (static_cast<uint64_t>(n) * kSeed1);
  uint64_t a = 0;
  uint64_t b = 0;
  if (n <= 16) {
    if (n >= 8) {
      a = Load64(data);
      b = Load64(data + n - 8);
    } else if (n >= 4) {
      a = Load32(data);
      b = Load32(data + n - 4);
    } else if (n > 0) {
      a = (static_cast<uint64_t>(static_cast<uint8_t>(data[0])) << 16) |
          (static_cast<uint64_t>(static_cast<uint8_t>(data[n / 2])) << 8) |
          static_cast<uint64_t>(static_cast<uint8_t>(data[n - 1]));
    }
  } else {
    size_t left = n;
    const char* p = data;
    while (left > 16) {
      seed = MultiplyFold(Load64(p) ^ kSeed1, Load64(p + 8) ^ seed);
      p += 16;
      left -= 16;
    }
    // The last 16 bytes, overlapping what the loop saw; n > 16 keeps them inside the input.
    a = Load64(p + left - 16);
    b = Load64(p + left - 8);
  }
  return MultiplyFold(a ^ kSeed1, b ^ seed);
}

struct Int64Traits {
  using Value = int64_t;
  // A value the writer keeps beyond the call that gave it (statistics).
  using Owned = int64_t;
  static constexpr format::Type::type kType = format::Type::INT64;

  static size_t PlainSize(int64_t) { return 8; }
  static char* WritePlain(char* dst, int64_t value) {
    std::memcpy(dst, &value, 8);
    return dst + 8;
  }
  static void AppendPlain(std::string* out, int64_t value) {
    out->append(reinterpret_cast<const char*>(&value), 8);
  }
  // Size and value of the PLAIN-encoded value at `src`.
  static size_t PlainSizeAt(const char*) { return 8; }
  static int64_t ReadPlain(const char* src) {
    int64_t value;
    std::memcpy(&value, src, 8);
    return value;
  }
  static bool Equal(int64_t a, int64_t b) { return a == b; }
  static bool Less(int64_t a, int64_t b) { return a < b; }
  static uint64_t Hash(int64_t value) {
    return hash_internal::MultiplyFold(static_cast<uint64_t>(value) ^ hash_internal::kSeed0,
                                       hash_internal::kSeed1);
  }
  // Statistics encoding: 8 bytes little endian; signed order. Always exact.
  static StatisticsBound MinStatistic(int64_t value) { return {StatBytes(value), true}; }
  static std::optional<StatisticsBound> MaxStatistic(int64_t value) {
    return StatisticsBound{StatBytes(value), true};
  }
  static std::string StatBytes(int64_t value) {
    std::string out(8, '\0');
    std::memcpy(out.data(), &value, 8);
    return out;
  }
};

struct ByteArrayTraits {
  using Value = std::string_view;
  using Owned = std::string;
  static constexpr format::Type::type kType = format::Type::BYTE_ARRAY;

  static size_t PlainSize(std::string_view value) { return 4 + value.size(); }
  static char* WritePlain(char* dst, std::string_view value) {
    const uint32_t length = static_cast<uint32_t>(value.size());
    std::memcpy(dst, &length, 4);
    if (!value.empty()) std::memcpy(dst + 4, value.data(), value.size());
    return dst + 4 + value.size();
  }
  static void AppendPlain(std::string* out, std::string_view value) {
    const uint32_t length = static_cast<uint32_t>(value.size());
    out->append(reinterpret_cast<const char*>(&length), 4);
    out->append(value.data(), value.size());
  }
  static size_t PlainSizeAt(const char* src) {
    return 4 + static_cast<size_t>(hash_internal::Load32(src));
  }
  static std::string_view ReadPlain(const char* src) {
    return std::string_view(src + 4, static_cast<size_t>(hash_internal::Load32(src)));
  }
  static bool Equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && BytesEqual(a.data(), b.data(), a.size());
  }
  // Unsigned byte order, the type-defined order for BYTE_ARRAY. The first eight bytes, compared
  // as one big-endian word, decide most comparisons without a call to memcmp.
  static bool Less(std::string_view a, std::string_view b) {
    if (a.size() >= 8 && b.size() >= 8) {
      const uint64_t x = __builtin_bswap64(hash_internal::Load64(a.data()));
      const uint64_t y = __builtin_bswap64(hash_internal::Load64(b.data()));
      if (x != y) return x < y;
    }
    return a < b;
  }
  static uint64_t Hash(std::string_view value) { return HashBytes(value.data(), value.size()); }
  // Statistics encoding: the raw bytes, cut to kStatisticsBoundBytes (parquet/statistics.h);
  // string_view compares as unsigned bytes, which is the type-defined order for BYTE_ARRAY.
  static StatisticsBound MinStatistic(std::string_view value) { return MinBound(value); }
  static std::optional<StatisticsBound> MaxStatistic(std::string_view value) {
    return MaxBound(value);
  }
};

}  // namespace lakelog::parquet
