// Minimal UTF-8 helpers (validation, code-point iteration, encoding) for the Parquet statistics,
// the Delta log and the CLI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lakelog {

// Decodes the code point starting at text[*pos] and advances *pos past it. On a malformed
// sequence (bad lead or continuation byte, overlong form, surrogate, > U+10FFFF, truncated) it
// returns false and advances *pos by exactly one byte. Precondition: *pos < text.size().
bool NextCodePoint(std::string_view text, size_t* pos, uint32_t* code_point);

// True when `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

// Appends the UTF-8 encoding of `code_point` (which must be a valid scalar value).
void AppendUtf8(uint32_t code_point, std::string* out);

// The number of UTF-16 code units `text` takes in Java: 1 per BMP code point, 2 per
// supplementary one. Malformed bytes count 1 each (Java decodes them to U+FFFD).
size_t Utf16Length(std::string_view text);

}  // namespace lakelog
