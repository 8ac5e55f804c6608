#include "parquet/statistics.h"

#include <cstdint>

#include "common/utf8.h"

namespace lakelog::parquet {

namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr uint32_t kSurrogateFirst = 0xD800;
constexpr uint32_t kSurrogateLast = 0xDFFF;

bool IsContinuation(char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; }

// The largest cut <= limit (limit < value.size()) that does not split a UTF-8 sequence: a
// sequence is at most 4 bytes, so at most 3 continuation bytes are stepped back over. Bytes
// that are not UTF-8 may leave the cut inside them; a byte prefix is still a bound.
size_t CodePointCut(std::string_view value, size_t limit) {
  size_t cut = limit;
  for (int step = 0; step < 3 && cut > 0 && IsContinuation(value[cut]); ++step) --cut;
  return IsContinuation(value[cut]) ? limit : cut;
}

// Decodes text[start, end) as exactly one well-formed UTF-8 code point.
bool DecodeOne(std::string_view text, size_t start, uint32_t* code_point) {
  size_t pos = start;
  return NextCodePoint(text, &pos, code_point) && pos == text.size();
}

}  // namespace

StatisticsBound MinBound(std::string_view value, size_t limit) {
  if (value.size() <= limit) return {std::string(value), true};
  return {std::string(value.substr(0, CodePointCut(value, limit))), false};
}

std::optional<StatisticsBound> MaxBound(std::string_view value, size_t limit) {
  if (value.size() <= limit) return StatisticsBound{std::string(value), true};
  std::string bound(value.substr(0, CodePointCut(value, limit)));
  // Invariant: `bound` is a prefix of `value`; each turn either returns a bound above it or
  // drops the last code point (or byte), which cannot be incremented within the limit.
  while (!bound.empty()) {
    size_t start = bound.size() - 1;
    while (start > 0 && bound.size() - start < 4 && IsContinuation(bound[start])) --start;
    uint32_t cp;
    if (DecodeOne(bound, start, &cp)) {
      bound.resize(start);
      if (cp == kMaxCodePoint) continue;
      AppendUtf8(cp + 1 == kSurrogateFirst ? kSurrogateLast + 1 : cp + 1, &bound);
      // U+007F -> U+0080 and the like grow by a byte; past the limit, step back one more.
      if (bound.size() <= limit) return StatisticsBound{std::move(bound), false};
      bound.resize(start);
      continue;
    }
    // Not UTF-8 here: the byte-wise bound.
    const auto last = static_cast<uint8_t>(bound.back());
    if (last < 0xFF) {
      bound.back() = static_cast<char>(last + 1);
      return StatisticsBound{std::move(bound), false};
    }
    bound.pop_back();
  }
  return std::nullopt;
}

}  // namespace lakelog::parquet
