// libFuzzer target: arbitrary bytes as a WAL segment.
//
// The input is (1) read directly with LogReader under a small record limit, (2) installed as
// segment 000001.wal of a WAL directory on a MemFileSystem, then opened and replayed through
// Wal, and (3) every record read is fed to the event codec. None of it may crash, hang, or
// allocate beyond the input size plus the limits; a decoded event must re-encode to bytes that
// decode to the same event.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/mem_file_system.h"
#include "wal/log_reader.h"
#include "wal/record_codec.h"
#include "wal/wal.h"

namespace {

class StringFile final : public lakelog::RandomAccessFile {
 public:
  explicit StringFile(std::string_view data) : data_(data) {}
  lakelog::Status Read(uint64_t offset, size_t n, std::string* out) const override {
    if (offset >= data_.size()) {
      out->clear();
      return lakelog::Status::OK();
    }
    out->assign(data_.substr(static_cast<size_t>(offset), n));
    return lakelog::Status::OK();
  }
  uint64_t Size() const override { return data_.size(); }

 private:
  std::string_view data_;
};

class NullReporter final : public lakelog::wal::LogReader::Reporter {
 public:
  void Corruption(uint64_t bytes, const lakelog::Status& reason) override {
    if (!reason.IsCorruption()) std::abort();
  }
};

void CheckEvent(std::string_view record) {
  lakelog::LogEvent event;
  if (!lakelog::wal::DecodeLogEvent(record, &event).ok()) return;
  std::string again;
  lakelog::wal::EncodeLogEvent(event, &again);
  lakelog::LogEvent twice;
  if (!lakelog::wal::DecodeLogEvent(again, &twice).ok()) std::abort();
  if (twice.pipeline != event.pipeline || twice.ts_micros != event.ts_micros ||
      twice.level != event.level || twice.stage != event.stage || twice.status != event.status ||
      twice.message != event.message || twice.run_id != event.run_id || twice.host != event.host ||
      twice.attributes != event.attributes) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr size_t kMaxRecord = 1 << 16;

  {
    StringFile file(input);
    NullReporter reporter;
    lakelog::wal::LogReader reader(&file, &reporter, kMaxRecord);
    std::string scratch;
    std::string_view record;
    while (reader.ReadRecord(&record, &scratch)) {
      if (record.size() > kMaxRecord) std::abort();
      CheckEvent(record);
      // The WAL wraps events behind a 9-byte kind|sequence header.
      if (record.size() > 9) CheckEvent(record.substr(9));
    }
  }

  lakelog::MemFileSystem fs;
  if (!fs.CreateDirs("wal").ok()) std::abort();
  if (!fs.WriteFile("wal/000001.wal", input, true).ok()) std::abort();
  lakelog::WalOptions options;
  options.max_record_bytes = kMaxRecord;
  auto wal = lakelog::wal::Wal::Open(&fs, "wal", options);
  if (!wal.ok()) std::abort();  // garbage is corruption to count, never an open failure
  uint64_t last = 0;
  auto stats = (*wal)->Replay([&](uint64_t sequence, std::string_view record) {
    if (sequence <= last) std::abort();
    last = sequence;
    CheckEvent(record);
    return lakelog::Status::OK();
  });
  if (!stats.ok()) std::abort();
  // New appends must land above everything replayed.
  auto seq = (*wal)->Append("x");
  if (!seq.ok() || *seq <= last) std::abort();
  return 0;
}
