#include "lakelog/parquet_options.h"

#include <cctype>
#include <string>

namespace lakelog {

bool ParseCompression(std::string_view text, Compression* out) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "none" || lower == "uncompressed") {
    *out = Compression::kNone;
  } else if (lower == "snappy") {
    *out = Compression::kSnappy;
  } else if (lower == "zstd") {
    *out = Compression::kZstd;
  } else if (lower == "lz4_raw") {
    *out = Compression::kLz4Raw;
  } else {
    return false;
  }
  return true;
}

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone: return "none";
    case Compression::kSnappy: return "snappy";
    case Compression::kZstd: return "zstd";
    case Compression::kLz4Raw: return "lz4_raw";
  }
  return "none";
}

}  // namespace lakelog
