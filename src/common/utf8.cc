#include "common/utf8.h"

namespace lakelog {

bool NextCodePoint(std::string_view text, size_t* pos, uint32_t* code_point) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = *pos;
  unsigned char lead = p[i];
  if (lead < 0x80) {
    *code_point = lead;
    *pos = i + 1;
    return true;
  }
  int extra;
  uint32_t cp;
  uint32_t min;
  if ((lead & 0xE0) == 0xC0) {
    extra = 1;
    cp = lead & 0x1F;
    min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2;
    cp = lead & 0x0F;
    min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3;
    cp = lead & 0x07;
    min = 0x10000;
  } else {
    *pos = i + 1;
    return false;
  }
  if (i + extra >= n) {  // truncated sequence
    *pos = i + 1;
    return false;
  }
  for (int k = 1; k <= extra; ++k) {
    unsigned char c = p[i + k];
    if ((c & 0xC0) != 0x80) {
      *pos = i + 1;
      return false;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *pos = i + 1;
    return false;
  }
  *code_point = cp;
  *pos = i + 1 + extra;
  return true;
}

bool IsValidUtf8(std::string_view text) {
  size_t pos = 0;
  uint32_t cp;
  while (pos < text.size()) {
    if (!NextCodePoint(text, &pos, &cp)) return false;
  }
  return true;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t Utf16Length(std::string_view text) {
  size_t pos = 0;
  size_t units = 0;
  uint32_t cp;
  while (pos < text.size()) {
    units += (NextCodePoint(text, &pos, &cp) && cp >= 0x10000) ? 2 : 1;
  }
  return units;
}

}  // namespace lakelog
