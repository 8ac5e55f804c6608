#include "parquet/column_vector.h"

namespace lakelog::parquet {

namespace {

VectorLayout LayoutFor(format::Type::type physical_type) {
  switch (physical_type) {
    case format::Type::BOOLEAN: return VectorLayout::kBool;
    case format::Type::INT32: return VectorLayout::kInt32;
    case format::Type::INT64:
    case format::Type::INT96: return VectorLayout::kInt64;
    case format::Type::FLOAT: return VectorLayout::kFloat;
    case format::Type::DOUBLE: return VectorLayout::kDouble;
    case format::Type::BYTE_ARRAY:
    case format::Type::FIXED_LEN_BYTE_ARRAY: return VectorLayout::kBytes;
  }
  return VectorLayout::kBytes;
}

}  // namespace

void ColumnVector::Reset(format::Type::type physical_type, int16_t max_def, int16_t max_rep) {
  size_ = 0;
  physical_type_ = physical_type;
  layout_ = LayoutFor(physical_type);
  max_def_ = max_def;
  max_rep_ = max_rep;
  def_levels_.clear();
  rep_levels_.clear();
  bools_.clear();
  int32s_.clear();
  int64s_.clear();
  floats_.clear();
  doubles_.clear();
  bytes_.Clear();
  indices_.clear();
  dictionary_.Clear();
}

void ColumnVector::RowOffsets(std::vector<uint32_t>* offsets) const {
  offsets->clear();
  if (rep_levels_.empty()) {
    offsets->resize(size_ + 1);
    for (size_t i = 0; i <= size_; ++i) (*offsets)[i] = static_cast<uint32_t>(i);
    return;
  }
  for (size_t i = 0; i < size_; ++i) {
    if (rep_levels_[i] == 0) offsets->push_back(static_cast<uint32_t>(i));
  }
  offsets->push_back(static_cast<uint32_t>(size_));
}

}  // namespace lakelog::parquet
