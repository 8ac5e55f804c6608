#include "wal/log_writer.h"

#include <algorithm>
#include <cassert>

#include "wal/coding.h"
#include "wal/crc32c.h"

namespace lakelog::wal {

size_t EncodedRecordSize(size_t block_offset, size_t n) {
  size_t total = 0;
  bool first = true;
  while (first || n > 0) {
    size_t left = kBlockSize - block_offset;
    if (left < kHeaderSize) {
      total += left;  // zero trailer
      block_offset = 0;
      left = kBlockSize;
    }
    size_t fragment = std::min(n, left - kHeaderSize);
    total += kHeaderSize + fragment;
    block_offset += kHeaderSize + fragment;
    if (block_offset == kBlockSize) block_offset = 0;
    n -= fragment;
    first = false;
  }
  return total;
}

LogWriter::LogWriter(WritableFile* dest, uint64_t dest_length, size_t max_record_bytes)
    : dest_(dest),
      max_record_bytes_(max_record_bytes),
      block_offset_(static_cast<size_t>(dest_length % kBlockSize)),
      file_length_(dest_length) {}

Status LogWriter::AddRecord(std::string_view head, std::string_view body) {
  LAKELOG_RETURN_IF_ERROR(Stage(head, body));
  return WritePending();
}

Status LogWriter::Stage(std::string_view head, std::string_view body) {
  if (!error_.ok()) return error_;
  const size_t total = head.size() + body.size();
  if (total > max_record_bytes_) {
    return Status::InvalidArgument("wal record of " + std::to_string(total) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(max_record_bytes_));
  }

  size_t consumed = 0;  // payload bytes framed so far, across head then body
  auto copy_payload = [&](size_t n) {
    while (n > 0) {
      std::string_view src =
          consumed < head.size() ? head.substr(consumed) : body.substr(consumed - head.size());
      size_t take = std::min(n, src.size());
      buffer_.append(src.data(), take);
      consumed += take;
      n -= take;
    }
  };

  size_t block_offset = block_offset_;
  bool begin = true;
  // An empty payload still produces one FULL record, hence the do-while.
  do {
    size_t left = kBlockSize - block_offset;
    if (left < kHeaderSize) {
      buffer_.append(left, '\0');  // trailer
      block_offset = 0;
      left = kBlockSize;
    }
    const size_t remaining = total - consumed;
    const size_t fragment = std::min(remaining, left - kHeaderSize);
    const bool end = fragment == remaining;
    RecordType type = begin && end ? RecordType::kFull
                      : begin      ? RecordType::kFirst
                      : end        ? RecordType::kLast
                                   : RecordType::kMiddle;

    const size_t header_pos = buffer_.size();
    buffer_.append(kHeaderSize, '\0');
    buffer_[header_pos + 4] = static_cast<char>(fragment & 0xFFu);
    buffer_[header_pos + 5] = static_cast<char>((fragment >> 8) & 0xFFu);
    buffer_[header_pos + 6] = static_cast<char>(type);
    copy_payload(fragment);
    // The CRC covers the type byte and the payload, which sit contiguously in buffer_.
    uint32_t crc = crc32c::Value(buffer_.data() + header_pos + 6, 1 + fragment);
    EncodeFixed32(buffer_.data() + header_pos, crc32c::Mask(crc));

    block_offset += kHeaderSize + fragment;
    if (block_offset == kBlockSize) block_offset = 0;
    begin = false;
  } while (consumed < total);

  block_offset_ = block_offset;
  // Invariant (log_writer.h): block_offset_ < kBlockSize; a full block wrapped to 0 above.
  assert(block_offset_ < kBlockSize);
  return Status::OK();
}

Status LogWriter::WritePending() {
  if (!error_.ok()) return error_;
  if (buffer_.empty()) return Status::OK();
  Status st = dest_->Append(buffer_);
  if (!st.ok()) {
    error_ = st;
    return st;
  }
  file_length_ += buffer_.size();
  // Keep the buffer for the next batch, unless one huge batch made it huge.
  constexpr size_t kKeepCapacity = 8u << 20;
  if (buffer_.capacity() > kKeepCapacity) {
    buffer_ = std::string();
  } else {
    buffer_.clear();
  }
  return Status::OK();
}

}  // namespace lakelog::wal
