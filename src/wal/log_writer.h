// LogWriter: frames logical records into the block format of log_format.h and appends them to
// a WritableFile.
//
// Each AddRecord() hands the whole framed record (trailer, headers, fragments) to the file in a
// single WritableFile::Append, so a failed or short write leaves at most a prefix of one
// record's framing at the end of the file, which a reader treats as a truncated tail.
//
// Not thread-safe; one writer per file. The framing buffer is reused across records, so after
// warm-up AddRecord() does not allocate.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "wal/log_format.h"

namespace lakelog::wal {

class LogWriter {
 public:
  // `dest` is not owned and must outlive the writer. `dest_length` is the file's current size
  // (non-zero when continuing an existing file), so block boundaries line up.
  explicit LogWriter(WritableFile* dest, uint64_t dest_length = 0,
                     size_t max_record_bytes = kDefaultMaxRecordBytes);

  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Appends one logical record whose payload is `head` followed by `body` (two parts so callers
  // can prefix a small header without copying the body first).
  // Returns InvalidArgument when the payload exceeds max_record_bytes (nothing written), or the
  // file's error. After a file error the writer is failed: the file's tail is unknown, so every
  // later call returns the same error without writing.
  Status AddRecord(std::string_view head, std::string_view body = {});

  // Bytes the writer has handed to the file, including any initial length.
  uint64_t file_length() const { return file_length_; }
  // Bytes AddRecord(head, body) would append now.
  size_t EncodedSize(size_t payload_bytes) const {
    return EncodedRecordSize(block_offset_, payload_bytes);
  }
  bool failed() const { return !error_.ok(); }

 private:
  WritableFile* dest_;
  const size_t max_record_bytes_;
  size_t block_offset_;  // Invariant: block_offset_ < kBlockSize
  uint64_t file_length_;
  Status error_;
  std::string buffer_;  // framed bytes of the record being written; reused
};

}  // namespace lakelog::wal
