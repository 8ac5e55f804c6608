// The framing of a Parquet file, shared by the writers and the reader:
//   PAR1 | column chunks | footer (Thrift FileMetaData) | footer length (u32 LE) | PAR1
#pragma once

#include <cstddef>
#include <string_view>

namespace lakelog::parquet {

// A Parquet file starts and ends with this.
inline constexpr std::string_view kParquetMagic = "PAR1";
// The magic of a file with an encrypted footer, which lakelog does not read.
inline constexpr std::string_view kEncryptedParquetMagic = "PARE";
// What follows the footer: its length and the magic.
inline constexpr size_t kFooterTrailerSize = 4 + kParquetMagic.size();

}  // namespace lakelog::parquet
