// The decoded values of one leaf column of one row group, in columnar form.
//
// A vector has one slot per level entry of the column chunk: one per row for a column outside
// any repeated field, one per element (or per empty/null list or map) below a repeated field.
// Every slot has a value position, so slot i's value is at index i whether or not it is null;
// a null slot holds 0, an empty byte array or dictionary index 0. This keeps record assembly and
// row access free of prefix sums, at the price of one value slot per null.
//
// Byte arrays are one contiguous buffer plus offsets, or, when every page of the chunk was
// dictionary-encoded, the dictionary (itself contiguous bytes plus offsets) and one index per
// slot, so that filtering on a low-cardinality column compares dictionary entries once and
// never copies strings.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parquet_types.h"

namespace lakelog::parquet {

// Byte arrays as one buffer: value i is data[offsets[i], offsets[i + 1]).
// Invariant: offsets.size() == size() + 1, offsets is non-decreasing, offsets.back() ==
// data.size().
class ByteArrayBuffer {
 public:
  ByteArrayBuffer() : offsets_(1, 0) {}

  size_t size() const { return offsets_.size() - 1; }
  std::string_view Get(size_t i) const {
    assert(i + 1 < offsets_.size() && offsets_[i] <= offsets_[i + 1]);
    return std::string_view(data_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  const uint32_t* offsets() const { return offsets_.data(); }
  const char* data() const { return data_.data(); }
  size_t data_size() const { return data_.size(); }

  // Keeps the capacity, for reuse across row groups.
  void Clear() {
    offsets_.resize(1);
    data_.clear();
  }
  // Room for `values` more values of `bytes` more bytes in all. Grows geometrically: the
  // decoder calls it once per page, and exact growth would copy the column once per page.
  void Reserve(size_t values, size_t bytes) {
    Grow(&offsets_, offsets_.size() + values);
    Grow(&data_, data_.size() + bytes);
  }
  // The caller keeps data_size() + bytes below 4 GiB (the decoder checks it).
  void Append(const char* bytes, size_t length) {
    data_.append(bytes, length);
    offsets_.push_back(static_cast<uint32_t>(data_.size()));
  }
  void AppendEmpty() { offsets_.push_back(static_cast<uint32_t>(data_.size())); }

 private:
  template <typename Buffer>
  static void Grow(Buffer* buffer, size_t needed) {
    if (needed > buffer->capacity()) buffer->reserve(std::max(needed, 2 * buffer->capacity()));
  }

  std::vector<uint32_t> offsets_;
  std::string data_;
};

// The physical layout of a vector's values.
enum class VectorLayout : uint8_t {
  kBool,        // bools(): 0 or 1 per slot
  kInt32,       // int32s()
  kInt64,       // int64s(); INT96 timestamps are converted to microseconds since the epoch
  kFloat,       // floats()
  kDouble,      // doubles()
  kBytes,       // bytes(): BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY
  kDictionary,  // indices() into dictionary(): a BYTE_ARRAY chunk whose pages were all
                // dictionary-encoded
};

class ColumnVector {
 public:
  ColumnVector() = default;
  ColumnVector(const ColumnVector&) = delete;
  ColumnVector& operator=(const ColumnVector&) = delete;
  ColumnVector(ColumnVector&&) = default;
  ColumnVector& operator=(ColumnVector&&) = default;

  // Number of slots (level entries).
  size_t size() const { return size_; }
  format::Type::type physical_type() const { return physical_type_; }
  VectorLayout layout() const { return layout_; }
  int16_t max_def() const { return max_def_; }
  int16_t max_rep() const { return max_rep_; }

  // Definition level of slot i (0 for a required column, which stores none).
  uint16_t DefLevel(size_t i) const { return def_levels_.empty() ? 0 : def_levels_[i]; }
  // Repetition level of slot i: 0 starts a new row.
  uint16_t RepLevel(size_t i) const { return rep_levels_.empty() ? 0 : rep_levels_[i]; }
  // The raw level streams; empty when the column's max level is 0.
  const std::vector<uint16_t>& def_levels() const { return def_levels_; }
  const std::vector<uint16_t>& rep_levels() const { return rep_levels_; }

  // True when slot i holds a value (its definition level is the column's maximum).
  bool IsValid(size_t i) const { return def_levels_.empty() || def_levels_[i] == max_def_; }

  const std::vector<uint8_t>& bools() const { return bools_; }
  const std::vector<int32_t>& int32s() const { return int32s_; }
  const std::vector<int64_t>& int64s() const { return int64s_; }
  const std::vector<float>& floats() const { return floats_; }
  const std::vector<double>& doubles() const { return doubles_; }
  const ByteArrayBuffer& bytes() const { return bytes_; }
  const std::vector<uint32_t>& indices() const { return indices_; }
  const ByteArrayBuffer& dictionary() const { return dictionary_; }

  // The bytes of slot i of a kBytes or kDictionary vector. For a null slot: empty (kBytes) or
  // dictionary entry 0 (kDictionary; the dictionary is never empty), so check IsValid first.
  std::string_view GetBytes(size_t i) const {
    return layout_ == VectorLayout::kDictionary ? dictionary_.Get(indices_[i]) : bytes_.Get(i);
  }

  // For a column below one repeated field (max_rep == 1, e.g. a MAP's key or value): sets
  // (*offsets)[r] to the first slot of row r, for num_rows + 1 entries. For max_rep == 0 slot
  // r is row r. The caller checked the row count (ParquetFile::ReadRowGroup does).
  void RowOffsets(std::vector<uint32_t>* offsets) const;

 private:
  friend class ColumnChunkDecoder;

  // Empties the vector for a new chunk of a column of this type, keeping capacity.
  void Reset(format::Type::type physical_type, int16_t max_def, int16_t max_rep);

  size_t size_ = 0;
  format::Type::type physical_type_ = format::Type::BOOLEAN;
  VectorLayout layout_ = VectorLayout::kBool;
  int16_t max_def_ = 0;
  int16_t max_rep_ = 0;
  std::vector<uint16_t> def_levels_;
  std::vector<uint16_t> rep_levels_;
  std::vector<uint8_t> bools_;
  std::vector<int32_t> int32s_;
  std::vector<int64_t> int64s_;
  std::vector<float> floats_;
  std::vector<double> doubles_;
  ByteArrayBuffer bytes_;
  std::vector<uint32_t> indices_;
  ByteArrayBuffer dictionary_;
};

}  // namespace lakelog::parquet
