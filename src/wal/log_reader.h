// LogReader: reads logical records back from a file in the format of log_format.h.
//
// Semantics (see docs/wal.md):
//  - End of file inside a record (a partial header, a fragment shorter than its length, or a
//    FIRST/MIDDLE chain with no LAST) is the end of the log: not an error and not reported as
//    corruption; its size is counted in truncated_tail_bytes().
//  - A corrupt physical record (checksum mismatch, length past the end of a full block, unknown
//    type) makes the reader drop the rest of that block; the dropped bytes and the reason go to
//    the Reporter, and reading continues with the next block. A broken fragment sequence (a
//    MIDDLE/LAST without a FIRST, a FIRST/FULL interrupting a chain) and a reassembled record
//    over max_record_bytes are reported the same way.
//  - A zero header (type kZero, length 0) marks a preallocated region: the rest of the block is
//    skipped silently.
// Memory is bounded by one block plus max_record_bytes, whatever the input.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "wal/log_format.h"

namespace lakelog::wal {

class LogReader {
 public:
  // Receives every piece of data the reader drops.
  class Reporter {
   public:
    virtual ~Reporter() = default;
    // `bytes` were dropped (approximately: a whole block remainder, or the fragments of a
    // broken record); `reason` is a Corruption status naming why.
    virtual void Corruption(uint64_t bytes, const Status& reason) = 0;
  };

  // `file` is not owned and must outlive the reader. `reporter` may be null.
  LogReader(const RandomAccessFile* file, Reporter* reporter,
            size_t max_record_bytes = kDefaultMaxRecordBytes);

  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Reads the next logical record. On true, *record is valid until the next call (it may point
  // into *scratch or into the reader's block buffer). False at end of log, or when a read from
  // the file failed (then status() says why).
  bool ReadRecord(std::string_view* record, std::string* scratch);

  // OK unless a file read failed.
  const Status& status() const { return status_; }
  // File offset of the first physical record of the last record returned.
  uint64_t last_record_offset() const { return last_record_offset_; }
  // Bytes at the end of the file that belonged to an incomplete record.
  uint64_t truncated_tail_bytes() const { return truncated_tail_bytes_; }

 private:
  // Outcomes of ReadPhysicalRecord beyond the record types.
  enum class Physical : uint8_t { kRecord, kEof, kBad };

  Physical ReadPhysicalRecord(RecordType* type, std::string_view* fragment,
                              uint64_t* fragment_offset);
  // Loads the next block into block_; false at end of file or on a read error.
  bool ReadNextBlock();
  void ReportCorruption(uint64_t bytes, std::string_view reason);

  const RandomAccessFile* file_;
  Reporter* reporter_;
  const size_t max_record_bytes_;
  Status status_;
  std::string block_;               // the current block as read
  std::string_view unread_;         // the part of block_ not yet consumed
  uint64_t next_block_offset_ = 0;  // file offset of the block after block_
  bool eof_ = false;                // the last block read was short: no more blocks follow
  uint64_t last_record_offset_ = 0;
  uint64_t truncated_tail_bytes_ = 0;
};

}  // namespace lakelog::wal
