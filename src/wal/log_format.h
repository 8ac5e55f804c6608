// The physical record format of a WAL segment file (LevelDB's log format). See docs/wal.md.
//
// A file is a sequence of 32 KiB blocks. Each block holds physical records:
//
//   masked crc32c (4, LE) | length (2, LE) | type (1) | payload (length bytes)
//
// The CRC covers the type byte and the payload. A logical record that does not fit in the
// rest of a block is split into FIRST, MIDDLE..., LAST fragments; one that fits is FULL.
// Invariant: a writer never leaves fewer than kHeaderSize bytes at the end of a block without
// zero-filling them (the trailer) and moving on to the next block.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lakelog::wal {

enum class RecordType : uint8_t {
  // Reserved for preallocated (zero-filled) file regions; never written as a record.
  kZero = 0,
  kFull = 1,
  kFirst = 2,
  kMiddle = 3,
  kLast = 4,
};
inline constexpr uint8_t kMaxRecordType = static_cast<uint8_t>(RecordType::kLast);

inline constexpr size_t kBlockSize = 32768;
inline constexpr size_t kHeaderSize = 4 + 2 + 1;

// Upper bound on a logical record, enforced by the writer (InvalidArgument) and the reader
// (a larger reassembled record is dropped as corruption), so garbage cannot make the reader
// allocate without bound.
inline constexpr size_t kDefaultMaxRecordBytes = 64u << 20;

// Bytes a logical record of `n` payload bytes occupies when written at `block_offset`
// (including headers and any zero trailer the writer must emit first).
size_t EncodedRecordSize(size_t block_offset, size_t n);

}  // namespace lakelog::wal
