#include "parquet/rle_encoding.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

namespace lakelog::parquet {

static_assert(std::endian::native == std::endian::little,
              "bit-packed groups are copied out of a little-endian word");

int BitWidthFor(uint64_t max_value) {
  int width = 0;
  while (max_value != 0) {
    ++width;
    max_value >>= 1;
  }
  return width;
}

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

RleBitPackedEncoder::RleBitPackedEncoder(int bit_width, std::string* out)
    : bit_width_(bit_width), out_(out) {
  assert(bit_width >= 0 && bit_width <= kMaxRleBitWidth);
}

// Called with a full group of eight. repeat_count_ restarts at group boundaries, so
// repeat_count_ >= 8 here means the whole group is one value and belongs to an RLE run.
void RleBitPackedEncoder::FlushBufferedValues() {
  if (repeat_count_ >= 8) {
    num_buffered_ = 0;
    if (literal_count_ > 0) FlushLiteralRun();
    return;
  }
  std::memcpy(literals_ + literal_count_, buffered_, sizeof(buffered_));
  literal_count_ += 8;
  num_buffered_ = 0;
  if (literal_count_ == kMaxLiteralGroups * 8) FlushLiteralRun();
  repeat_count_ = 0;
}

void RleBitPackedEncoder::FlushRepeatedRun() {
  AppendVarint(static_cast<uint64_t>(repeat_count_) << 1, out_);
  uint32_t value = current_value_;
  for (int i = 0; i < (bit_width_ + 7) / 8; ++i) {
    out_->push_back(static_cast<char>(value & 0xff));
    value >>= 8;
  }
  repeat_count_ = 0;
}

void RleBitPackedEncoder::FlushLiteralRun() {
  assert(literal_count_ % 8 == 0);
  const int groups = literal_count_ / 8;
  AppendVarint((static_cast<uint64_t>(groups) << 1) | 1, out_);
  const size_t start = out_->size();
  out_->resize(start + static_cast<size_t>(groups) * bit_width_);
  char* dst = out_->data() + start;
  if (bit_width_ <= 16) {
    // Eight values of up to 16 bits fill at most one 128-bit word: pack a whole group at once;
    // its low bit_width_ bytes (little endian) are the group's bytes.
    for (int g = 0; g < groups; ++g) {
      const uint32_t* values = literals_ + g * 8;
      unsigned __int128 packed = 0;
      for (int i = 0; i < 8; ++i) {
        packed |= static_cast<unsigned __int128>(values[i]) << (i * bit_width_);
      }
      std::memcpy(dst, &packed, static_cast<size_t>(bit_width_));
      dst += bit_width_;
    }
  } else {
    uint64_t acc = 0;
    int bits = 0;
    for (int i = 0; i < literal_count_; ++i) {
      acc |= static_cast<uint64_t>(literals_[i]) << bits;
      bits += bit_width_;
      while (bits >= 8) {
        *dst++ = static_cast<char>(acc & 0xff);
        acc >>= 8;
        bits -= 8;
      }
    }
  }
  literal_count_ = 0;
}

void RleBitPackedEncoder::Flush() {
  if (literal_count_ > 0 || repeat_count_ > 0 || num_buffered_ > 0) {
    const bool all_repeat =
        literal_count_ == 0 && (repeat_count_ == num_buffered_ || num_buffered_ == 0);
    if (repeat_count_ > 0 && all_repeat) {
      FlushRepeatedRun();
    } else {
      if (num_buffered_ > 0) {
        for (int i = num_buffered_; i < 8; ++i) buffered_[i] = 0;
        std::memcpy(literals_ + literal_count_, buffered_, sizeof(buffered_));
        literal_count_ += 8;
      }
      FlushLiteralRun();
    }
  }
  repeat_count_ = 0;
  num_buffered_ = 0;
  literal_count_ = 0;
  current_value_ = 0;
}

void AppendLevelsV1(const int16_t* levels, size_t count, int16_t max_level, std::string* scratch,
                    std::string* out) {
  scratch->clear();
  RleBitPackedEncoder encoder(BitWidthFor(static_cast<uint64_t>(max_level)), scratch);
  // Levels come in long runs (a column without nulls is one run); hand them over run by run,
  // finding the end of a run four levels at a time.
  size_t i = 0;
  while (i < count) {
    const int16_t level = levels[i];
    const uint64_t four = 0x0001000100010001ull * static_cast<uint16_t>(level);
    size_t end = i + 1;
    for (uint64_t word; end + 4 <= count; end += 4) {
      std::memcpy(&word, levels + end, 8);
      if (word != four) break;
    }
    while (end < count && levels[end] == level) ++end;
    encoder.PutRepeated(static_cast<uint32_t>(level), end - i);
    i = end;
  }
  encoder.Flush();
  const uint32_t length = static_cast<uint32_t>(scratch->size());
  char prefix[4] = {static_cast<char>(length & 0xff), static_cast<char>((length >> 8) & 0xff),
                    static_cast<char>((length >> 16) & 0xff),
                    static_cast<char>((length >> 24) & 0xff)};
  out->append(prefix, 4);
  out->append(*scratch);
}

RleBitPackedDecoder::RleBitPackedDecoder(const uint8_t* data, size_t size, int bit_width)
    : data_(data), size_(size), bit_width_(bit_width) {}

Status RleBitPackedDecoder::NextRun() {
  uint64_t header = 0;
  int shift = 0;
  while (true) {
    if (pos_ >= size_) return Status::Corruption("RLE stream ends inside a run header");
    if (shift > 63) return Status::Corruption("RLE run header varint too long");
    const uint8_t byte = data_[pos_++];
    header |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
    shift += 7;
  }
  const uint64_t count = header >> 1;
  if (count == 0) return Status::Corruption("empty RLE run");
  if (header & 1) {
    const size_t remaining = size_ - pos_;
    if (count > (uint64_t{1} << 40)) return Status::Corruption("bit-packed run too long");
    const uint64_t bytes = count * static_cast<uint64_t>(bit_width_);
    uint64_t values = count * 8;
    // Some writers cut the final group short; take the values the bytes actually hold.
    if (bytes > remaining) {
      if (bit_width_ == 0) return Status::Corruption("bit-packed run overflows");
      values = remaining * 8 / static_cast<uint64_t>(bit_width_);
      if (values == 0) return Status::Corruption("bit-packed run past end of data");
      literal_data_ = data_ + pos_;
      pos_ = size_;
    } else {
      literal_data_ = data_ + pos_;
      pos_ += static_cast<size_t>(bytes);
    }
    literal_left_ = values;
    literal_bit_ = 0;
  } else {
    const int value_bytes = (bit_width_ + 7) / 8;
    if (size_ - pos_ < static_cast<size_t>(value_bytes)) {
      return Status::Corruption("RLE run value past end of data");
    }
    uint32_t value = 0;
    for (int i = 0; i < value_bytes; ++i)
      value |= static_cast<uint32_t>(data_[pos_ + i]) << (8 * i);
    pos_ += value_bytes;
    rle_value_ = value;
    rle_left_ = count;
  }
  return Status::OK();
}

Status RleBitPackedDecoder::Get(uint32_t* out, size_t n) {
  const uint64_t mask = bit_width_ == 32 ? 0xffffffffull : ((uint64_t{1} << bit_width_) - 1);
  while (n > 0) {
    if (rle_left_ > 0) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(rle_left_, n));
      std::fill(out, out + take, rle_value_);
      out += take;
      n -= take;
      rle_left_ -= take;
    } else if (literal_left_ > 0) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(literal_left_, n));
      const int value_bytes = (bit_width_ + 7) / 8 + 1;
      // The run's bytes were validated to hold literal_left_ values; read only those bytes.
      const uint64_t end_bit = literal_bit_ + literal_left_ * static_cast<uint64_t>(bit_width_);
      const uint64_t end_byte = (end_bit + 7) / 8;
      size_t i = 0;
      if (end_byte >= 8) {
        // While an 8-byte load stays inside the run, one load per value: a value is at most 32
        // bits and starts at most 7 bits into its first byte.
        const uint64_t last_load = end_byte - 8;
        uint64_t bit = literal_bit_;
        for (; i < take && (bit >> 3) <= last_load; ++i) {
          uint64_t word;
          std::memcpy(&word, literal_data_ + (bit >> 3), sizeof(word));
          out[i] = static_cast<uint32_t>((word >> (bit & 7)) & mask);
          bit += static_cast<uint64_t>(bit_width_);
        }
        literal_bit_ = bit;
      }
      for (; i < take; ++i) {
        const uint64_t byte = literal_bit_ >> 3;
        const int shift = static_cast<int>(literal_bit_ & 7);
        uint64_t word = 0;
        for (int k = 0; k < value_bytes && byte + k < end_byte; ++k) {
          word |= static_cast<uint64_t>(literal_data_[byte + k]) << (8 * k);
        }
        out[i] = static_cast<uint32_t>((word >> shift) & mask);
        literal_bit_ += static_cast<uint64_t>(bit_width_);
      }
      out += take;
      n -= take;
      literal_left_ -= take;
    } else {
      LAKELOG_RETURN_IF_ERROR(NextRun());
    }
  }
  return Status::OK();
}

}  // namespace lakelog::parquet
