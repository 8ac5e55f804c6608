// The RLE / bit-packed hybrid encoding of Parquet, used for definition and repetition levels,
// dictionary indices and RLE booleans.
//
//   encoded  := run*
//   run      := rle-run | bit-packed-run
//   rle-run  := varint(count << 1) value-in-ceil(bit_width/8)-bytes-little-endian
//   bit-packed-run := varint(groups << 1 | 1) groups*bit_width bytes (8 values per group,
//                     packed least significant bit first)
//
// Levels in data pages v1 carry a 4-byte little-endian length prefix; dictionary indices are
// preceded by a one-byte bit width instead; levels in data pages v2 have neither.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lakelog/status.h"

namespace lakelog::parquet {

inline constexpr int kMaxRleBitWidth = 32;

// Bits needed to store every value in [0, max_value]; 0 for 0.
int BitWidthFor(uint64_t max_value);

// Appends an unsigned LEB128 varint.
void AppendVarint(uint64_t value, std::string* out);

// Encodes a stream of values, each below 2^bit_width, appending runs to *out. A run of eight or
// more equal values becomes an RLE run; everything else is bit-packed in groups of eight.
// Invariant: literal runs hold a multiple of 8 values except the last one written by Flush(),
// which is padded with zeros (readers stop at the value count they know from the page).
class RleBitPackedEncoder {
 public:
  // `out` is not owned and must outlive the encoder. bit_width in [0, kMaxRleBitWidth].
  RleBitPackedEncoder(int bit_width, std::string* out);

  void Put(uint32_t value) {
    if (value == current_value_) {
      ++repeat_count_;
      // Past eight the run is already committed to RLE; only the count grows.
      if (repeat_count_ > 8) return;
    } else {
      if (repeat_count_ >= 8) FlushRepeatedRun();
      repeat_count_ = 1;
      current_value_ = value;
    }
    buffered_[num_buffered_++] = value;
    if (num_buffered_ == 8) FlushBufferedValues();
  }
  // Put(value) `count` times; once the run is committed to RLE, the rest only adds to its count.
  void PutRepeated(uint32_t value, size_t count) {
    while (count > 0 && !(value == current_value_ && repeat_count_ >= 8)) {
      Put(value);
      --count;
    }
    repeat_count_ += static_cast<int64_t>(count);
  }
  // Writes every buffered value. The encoder is then empty and may be used again.
  void Flush();

 private:
  static constexpr int kMaxLiteralGroups = 63;  // keeps a literal run header to one byte

  void FlushBufferedValues();
  void FlushRepeatedRun();
  void FlushLiteralRun();

  int bit_width_;
  std::string* out_;
  uint32_t current_value_ = 0;
  int64_t repeat_count_ = 0;
  uint32_t buffered_[8];
  int num_buffered_ = 0;
  uint32_t literals_[kMaxLiteralGroups * 8];
  int literal_count_ = 0;  // a multiple of 8 between flushes
};

// Encodes `count` levels (each <= max_level) as a hybrid run prefixed by its 4-byte length, the
// layout of data page v1. `scratch` is reused to avoid allocating.
void AppendLevelsV1(const int16_t* levels, size_t count, int16_t max_level, std::string* scratch,
                    std::string* out);

// Decodes a hybrid stream. Every length and count is checked against the input, so malformed
// bytes give Corruption and never an out-of-bounds read.
class RleBitPackedDecoder {
 public:
  RleBitPackedDecoder() = default;
  // `data` must outlive the decoder. bit_width in [0, kMaxRleBitWidth].
  RleBitPackedDecoder(const uint8_t* data, size_t size, int bit_width);

  // Decodes exactly `n` values into out[0, n). Corruption when the stream ends first.
  Status Get(uint32_t* out, size_t n);

 private:
  Status NextRun();

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;
  int bit_width_ = 0;
  uint64_t rle_left_ = 0;
  uint32_t rle_value_ = 0;
  uint64_t literal_left_ = 0;
  const uint8_t* literal_data_ = nullptr;
  uint64_t literal_bit_ = 0;
};

}  // namespace lakelog::parquet
