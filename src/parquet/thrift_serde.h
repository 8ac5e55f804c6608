// Thrift compact-protocol (de)serialization of Parquet metadata structs.
//
// Thrift reports errors by throwing; these functions are the one place where that happens, and
// no exception leaves them.
#pragma once

#include <thrift/TBase.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "lakelog/status.h"

namespace lakelog::parquet {

// Upper bounds applied to every struct read from a file, so a hostile length cannot make the
// reader allocate without limit. Both are far above what any real footer holds.
inline constexpr int32_t kMaxThriftStringBytes = 64 << 20;
inline constexpr int32_t kMaxThriftContainerSize = 4 << 20;

// Appends the compact-protocol encoding of `value` to *out. Internal on a Thrift failure.
Status SerializeThrift(const apache::thrift::TBase& value, std::string* out);

// Parses one struct from data[0, size) into *value and sets *consumed to the bytes it used.
// Corruption when the bytes do not hold a valid struct (truncated, missing required field,
// oversized string or container, nesting too deep).
Status DeserializeThrift(const uint8_t* data, size_t size, apache::thrift::TBase* value,
                         size_t* consumed);

// The raw wire value of an enum field of a deserialized struct. Thrift stores whatever i32 it
// read into the enum, and loading an out-of-range enumerator is undefined behaviour (UBSan
// aborts on it), so untrusted enum fields are read through this and range-checked. For the
// same reason the reader never copies or moves structs it deserialized from a file.
template <typename Enum>
int32_t RawEnum(const Enum& value) {
  static_assert(sizeof(Enum) == sizeof(int32_t));
  int32_t raw;
  std::memcpy(&raw, &value, sizeof(raw));
  return raw;
}

}  // namespace lakelog::parquet
