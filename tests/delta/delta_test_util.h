// Helpers shared by the Delta tests: events, hand-written commits.
#pragma once

#include <string>
#include <vector>

#include "delta/log_store.h"
#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "storage/mem_file_system.h"

namespace lakelog::delta::testing {

// 2026-11-24T10:15:30Z
inline constexpr int64_t kTs = 1795515330000000;
inline constexpr int64_t kMicrosPerDay = 86'400'000'000;

inline LogEvent MakeEvent(std::string pipeline, int64_t ts_micros, std::string message = "m") {
  LogEvent e;
  e.pipeline = std::move(pipeline);
  e.ts_micros = ts_micros;
  e.level = Level::kInfo;
  e.stage = "stage";
  e.status = "SUCCESS";
  e.message = std::move(message);
  e.run_id = "run-1";
  e.host = "host-1";
  e.attributes = {{"k", "v"}};
  return e;
}

inline std::vector<const LogEvent*> Pointers(const std::vector<LogEvent>& events) {
  std::vector<const LogEvent*> out;
  out.reserve(events.size());
  for (const LogEvent& e : events) out.push_back(&e);
  return out;
}

// Writes `lines` (joined with '\n') as commit `version` of the table at `root`.
inline void WriteCommitLines(FileSystem* fs, const std::string& root, int64_t version,
                             const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  (void)fs->CreateDirs(JoinPath(root, "_delta_log"));
  Status st =
      fs->WriteFile(JoinPath(JoinPath(root, "_delta_log"), LogStore::CommitFileName(version)), text,
                    /*sync=*/true);
  (void)st;
}

inline std::string ProtocolLine() {
  return R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})";
}

std::string MetadataLine(const std::string& id = "11111111-2222-4333-8444-555555555555");

inline std::string AddLine(const std::string& path, int64_t rows) {
  return R"({"add":{"path":")" + path +
         R"(","partitionValues":{"pipeline":"p","log_date":"2026-11-24"},"size":100,"modificationTime":1,"dataChange":true,"stats":"{\"numRecords\":)" +
         std::to_string(rows) + R"(}"}})";
}

inline std::string RemoveLine(const std::string& path) {
  return R"({"remove":{"path":")" + path + R"(","deletionTimestamp":5,"dataChange":true}})";
}

inline std::string TxnLine(const std::string& app, int64_t version) {
  return R"({"txn":{"appId":")" + app + R"(","version":)" + std::to_string(version) + "}}";
}

inline std::string CommitInfoLine(const std::string& operation) {
  return R"({"commitInfo":{"timestamp":1000,"operation":")" + operation +
         R"(","operationParameters":{"mode":"Append"}}})";
}

// A FileSystem that forwards every call to a MemFileSystem of its own: a test derives from it
// and overrides the call it intercepts (a rival commit, a lagging listing).
class ForwardingMemFileSystem : public FileSystem {
 public:
  explicit ForwardingMemFileSystem(Clock* clock = nullptr) : target_(clock) {}
  MemFileSystem& target() { return target_; }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& p) override {
    return target_.NewWritableFile(p);
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& p) override {
    return target_.NewAppendableFile(p);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& p) override {
    return target_.NewRandomAccessFile(p);
  }
  Status PutIfAbsent(const std::string& p, std::string_view d) override {
    return target_.PutIfAbsent(p, d);
  }
  Status WriteFileAtomic(const std::string& p, std::string_view d) override {
    return target_.WriteFileAtomic(p, d);
  }
  Status CreateDirs(const std::string& p) override { return target_.CreateDirs(p); }
  Result<std::vector<std::string>> ListDir(const std::string& p) override {
    return target_.ListDir(p);
  }
  Result<FileInfo> Stat(const std::string& p) override { return target_.Stat(p); }
  Status DeleteFile(const std::string& p) override { return target_.DeleteFile(p); }
  Status DeleteDir(const std::string& p) override { return target_.DeleteDir(p); }
  Status SyncDir(const std::string& p) override { return target_.SyncDir(p); }

 protected:
  MemFileSystem target_;
};

}  // namespace lakelog::delta::testing
