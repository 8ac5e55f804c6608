// LogWriter: frames logical records into the block format of log_format.h and appends them to
// a WritableFile.
//
// Each AddRecord() hands the whole framed record (trailer, headers, fragments) to the file in a
// single WritableFile::Append, so a failed or short write leaves at most a prefix of one
// record's framing at the end of the file, which a reader treats as a truncated tail. To cut
// syscalls, Stage() frames records into memory and WritePending() hands all of them over in one
// Append; a failed or short write then leaves whole records followed by at most a prefix of
// one, and the reader keeps the whole ones.
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

  // Frames one record like AddRecord() but keeps it in memory until WritePending(). Returns
  // InvalidArgument when the payload is too large (nothing staged) or the writer's error.
  Status Stage(std::string_view head, std::string_view body = {});
  // Hands every staged record to the file in one Append; OK when none is staged. A file error
  // fails the writer as in AddRecord().
  Status WritePending();
  // Bytes staged and not yet handed to the file.
  size_t pending_bytes() const { return buffer_.size(); }

  // Bytes the writer has handed to the file, including any initial length.
  uint64_t file_length() const { return file_length_; }
  // Bytes AddRecord(head, body) would append now (after any staged records).
  size_t EncodedSize(size_t payload_bytes) const {
    return EncodedRecordSize(block_offset_, payload_bytes);
  }
  bool failed() const { return !error_.ok(); }

 private:
  WritableFile* dest_;
  const size_t max_record_bytes_;
  size_t block_offset_;  // after the staged records. Invariant: block_offset_ < kBlockSize
  uint64_t file_length_;
  Status error_;
  std::string buffer_;  // framed bytes of the staged records; reused
};

}  // namespace lakelog::wal
