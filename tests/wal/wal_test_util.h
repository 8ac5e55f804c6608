// Helpers shared by the WAL tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lakelog/file_system.h"
#include "wal/log_reader.h"
#include "wal/wal.h"

namespace lakelog::wal_testing {

// A RandomAccessFile over a string the test controls.
class StringFile final : public RandomAccessFile {
 public:
  explicit StringFile(std::string data) : data_(std::move(data)) {}
  Status Read(uint64_t offset, size_t n, std::string* out) const override {
    if (offset >= data_.size()) {
      out->clear();
      return Status::OK();
    }
    out->assign(data_, static_cast<size_t>(offset), n);
    return Status::OK();
  }
  uint64_t Size() const override { return data_.size(); }

 private:
  std::string data_;
};

class CountingReporter final : public wal::LogReader::Reporter {
 public:
  void Corruption(uint64_t bytes, const Status& reason) override {
    ++count;
    dropped += bytes;
    reasons.push_back(reason.message());
  }
  int count = 0;
  uint64_t dropped = 0;
  std::vector<std::string> reasons;
};

struct ReadResult {
  std::vector<std::string> records;
  int corruptions = 0;
  uint64_t truncated_tail_bytes = 0;
};

inline ReadResult ReadAllRecords(const std::string& bytes,
                                 size_t max_record_bytes = wal::kDefaultMaxRecordBytes) {
  StringFile file(bytes);
  CountingReporter reporter;
  wal::LogReader reader(&file, &reporter, max_record_bytes);
  ReadResult result;
  std::string scratch;
  std::string_view record;
  while (reader.ReadRecord(&record, &scratch)) result.records.emplace_back(record);
  EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
  result.corruptions = reporter.count;
  result.truncated_tail_bytes = reader.truncated_tail_bytes();
  return result;
}

using Replayed = std::vector<std::pair<uint64_t, std::string>>;

inline Replayed ReplayAll(wal::Wal* wal, wal::WalReplayStats* stats_out = nullptr,
                          uint64_t after = 0) {
  Replayed out;
  auto stats = wal->Replay(
      [&](uint64_t sequence, std::string_view record) {
        out.emplace_back(sequence, std::string(record));
        return Status::OK();
      },
      after);
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  if (stats.ok() && stats_out != nullptr) *stats_out = *stats;
  return out;
}

// A deterministic record body for sequence-independent checks: "r<i>:" padded to `size`.
inline std::string MakeRecord(int i, size_t size) {
  std::string s = "r" + std::to_string(i) + ":";
  while (s.size() < size) s.push_back(static_cast<char>('a' + (s.size() * 7 + i) % 26));
  s.resize(std::max(size, s.size()));
  return s;
}

}  // namespace lakelog::wal_testing
