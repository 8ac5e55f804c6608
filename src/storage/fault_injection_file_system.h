// A FileSystem wrapper that injects failures, for unit tests of the code above the seam.
//
// Faults are rules: "the 3rd Append to a path containing `_delta_log/` fails with ENOSPC, once".
// A short write appends the first half of the data to the wrapped file, then fails, the way a
// full disk does. Pair it with MemFileSystem::DropUnsyncedData() to model a crash.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lakelog/file_system.h"

namespace lakelog {

enum class FaultOp : uint8_t {
  kOpenWrite,     // NewWritableFile / NewAppendableFile
  kOpenRead,      // NewRandomAccessFile
  kAppend,
  kSync,          // WritableFile::Sync and SyncDir
  kClose,
  kPutIfAbsent,
  kWriteAtomic,
  kCreateDirs,
  kList,
  kDelete,
};

enum class FaultKind : uint8_t {
  kIOError,     // EIO
  kNoSpace,     // ENOSPC: ResourceExhausted
  kShortWrite,  // half the bytes land, then EIO (only meaningful for kAppend)
};

struct FaultRule {
  FaultOp op = FaultOp::kAppend;
  std::string path_contains;  // empty matches every path
  int skip = 0;               // let this many matching calls through first
  int times = 1;              // then fail this many; -1 fails forever
  FaultKind kind = FaultKind::kIOError;
};

class FaultInjectionFileSystem final : public FileSystem {
 public:
  // `target` is not owned and must outlive this object.
  explicit FaultInjectionFileSystem(FileSystem* target) : target_(target) {}

  void AddRule(FaultRule rule);
  void ClearRules();
  // How many faults were injected so far.
  int injected() const { return injected_.load(); }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Status PutIfAbsent(const std::string& path, std::string_view data) override;
  Status WriteFileAtomic(const std::string& path, std::string_view data) override;
  Status CreateDirs(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override { return target_->Stat(path); }
  Status DeleteFile(const std::string& path) override;
  Status DeleteDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;

  // Returns the injected failure for this call, or nullptr-equivalent OK with *kind unset.
  // Public for the file wrappers; not for callers.
  Status Check(FaultOp op, const std::string& path, FaultKind* kind);

 private:
  struct ActiveRule {
    FaultRule rule;
    int seen = 0;
    int fired = 0;
  };

  FileSystem* target_;
  std::mutex mu_;
  std::vector<ActiveRule> rules_;  // guarded by mu_
  std::atomic<int> injected_{0};
};

}  // namespace lakelog
