#include "wal/log_reader.h"

#include "wal/coding.h"
#include "wal/crc32c.h"

namespace lakelog::wal {

LogReader::LogReader(const RandomAccessFile* file, Reporter* reporter, size_t max_record_bytes)
    : file_(file), reporter_(reporter), max_record_bytes_(max_record_bytes) {}

void LogReader::ReportCorruption(uint64_t bytes, std::string_view reason) {
  if (reporter_ != nullptr) reporter_->Corruption(bytes, Status::Corruption(reason));
}

bool LogReader::ReadNextBlock() {
  if (eof_ || !status_.ok()) return false;
  Status st = file_->Read(next_block_offset_, kBlockSize, &block_);
  if (!st.ok()) {
    status_ = st;
    unread_ = {};
    return false;
  }
  next_block_offset_ += block_.size();
  unread_ = block_;
  if (block_.size() < kBlockSize) eof_ = true;
  return !block_.empty();
}

LogReader::Physical LogReader::ReadPhysicalRecord(RecordType* type, std::string_view* fragment,
                                                  uint64_t* fragment_offset) {
  while (true) {
    if (unread_.size() < kHeaderSize) {
      if (!eof_) {
        // A full block's remainder under kHeaderSize is the zero trailer: skip it. False means
        // the file ended on a block boundary, or a read failed (status_ says which).
        if (ReadNextBlock()) continue;
        return Physical::kEof;
      }
      // A partial header at the end of the file.
      truncated_tail_bytes_ += unread_.size();
      unread_ = {};
      return Physical::kEof;
    }

    const char* header = unread_.data();
    const uint32_t length = static_cast<uint32_t>(static_cast<unsigned char>(header[4])) |
                            (static_cast<uint32_t>(static_cast<unsigned char>(header[5])) << 8);
    const uint8_t raw_type = static_cast<uint8_t>(header[6]);
    const uint64_t offset = next_block_offset_ - block_.size() + (unread_.data() - block_.data());

    if (kHeaderSize + length > unread_.size()) {
      if (eof_) {
        // The writer died mid-record: the end of the log, not corruption.
        truncated_tail_bytes_ += unread_.size();
        unread_ = {};
        return Physical::kEof;
      }
      ReportCorruption(unread_.size(), "bad record length");
      unread_ = {};
      return Physical::kBad;
    }

    if (raw_type == static_cast<uint8_t>(RecordType::kZero) && length == 0) {
      // Preallocated zeros; nothing in this block after them is ours.
      unread_ = {};
      continue;
    }

    const uint32_t expected = crc32c::Unmask(DecodeFixed32(header));
    const uint32_t actual = crc32c::Value(header + 6, 1 + length);
    if (actual != expected) {
      // The length may be the corrupt part, so nothing else in this block can be trusted.
      ReportCorruption(unread_.size(), "checksum mismatch");
      unread_ = {};
      return Physical::kBad;
    }
    if (raw_type == 0 || raw_type > kMaxRecordType) {
      ReportCorruption(unread_.size(), "unknown record type " + std::to_string(raw_type));
      unread_ = {};
      return Physical::kBad;
    }

    *type = static_cast<RecordType>(raw_type);
    *fragment = unread_.substr(kHeaderSize, length);
    *fragment_offset = offset;
    unread_.remove_prefix(kHeaderSize + length);
    return Physical::kRecord;
  }
}

bool LogReader::ReadRecord(std::string_view* record, std::string* scratch) {
  scratch->clear();
  bool in_fragmented = false;
  // After an oversized chain, MIDDLE/LAST fragments are dropped until the next FIRST/FULL.
  bool skipping = false;
  uint64_t record_offset = 0;

  while (true) {
    RecordType type;
    std::string_view fragment;
    uint64_t fragment_offset = 0;
    const Physical what = ReadPhysicalRecord(&type, &fragment, &fragment_offset);

    if (what == Physical::kEof) {
      if (in_fragmented) truncated_tail_bytes_ += scratch->size();
      scratch->clear();
      return false;
    }
    if (what == Physical::kBad) {
      if (in_fragmented) {
        ReportCorruption(scratch->size(), "fragmented record broken by a corrupt block");
        scratch->clear();
        in_fragmented = false;
      }
      continue;
    }

    switch (type) {
      case RecordType::kFull:
        if (in_fragmented) {
          ReportCorruption(scratch->size(), "partial record without end (FULL follows)");
        }
        scratch->clear();
        last_record_offset_ = fragment_offset;
        *record = fragment;
        return true;

      case RecordType::kFirst:
        if (in_fragmented) {
          ReportCorruption(scratch->size(), "partial record without end (FIRST follows)");
        }
        skipping = false;
        if (fragment.size() > max_record_bytes_) {
          ReportCorruption(fragment.size(), "record exceeds the size limit");
          scratch->clear();
          in_fragmented = false;
          skipping = true;
          break;
        }
        scratch->assign(fragment);
        in_fragmented = true;
        record_offset = fragment_offset;
        break;

      case RecordType::kMiddle:
      case RecordType::kLast:
        if (!in_fragmented) {
          if (!skipping) {
            ReportCorruption(fragment.size(), "missing start of fragmented record");
          } else {
            ReportCorruption(fragment.size(), "record exceeds the size limit");
          }
          if (type == RecordType::kLast) skipping = false;
          break;
        }
        if (scratch->size() + fragment.size() > max_record_bytes_) {
          ReportCorruption(scratch->size() + fragment.size(), "record exceeds the size limit");
          scratch->clear();
          in_fragmented = false;
          skipping = type == RecordType::kMiddle;
          break;
        }
        scratch->append(fragment);
        if (type == RecordType::kLast) {
          last_record_offset_ = record_offset;
          *record = *scratch;
          return true;
        }
        break;

      case RecordType::kZero: break;  // never produced by ReadPhysicalRecord
    }
  }
}

}  // namespace lakelog::wal
