// In-memory FileSystem for unit tests. Thread-safe.
//
// Each file remembers how many of its bytes were synced, and each directory entry whether the
// directory was synced after it appeared, so DropUnsyncedData() can model a power loss.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "lakelog/clock.h"
#include "lakelog/file_system.h"

namespace lakelog {

class MemFileSystem final : public FileSystem {
 public:
  // `clock` (null: RealClock()) stamps the files' modification times, so that age-based rules
  // (VACUUM, log cleanup) can run on a simulated clock.
  explicit MemFileSystem(Clock* clock = nullptr);

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Status PutIfAbsent(const std::string& path, std::string_view data) override;
  Status WriteFileAtomic(const std::string& path, std::string_view data) override;
  Status CreateDirs(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Status DeleteFile(const std::string& path) override;
  Status DeleteDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;

  // Models a crash: every file loses the bytes appended after its last Sync(), and files created
  // since their directory was last synced disappear.
  void DropUnsyncedData();

  // Crash-model hooks for FaultInjectionFileSystem.
  //
  // PutIfAbsent() without its final directory sync: the contents are durable (they were synced
  // as a temp file before the link), the directory entry only after SyncDir() of the parent.
  Status PutIfAbsentUnsynced(const std::string& path, std::string_view data);
  // A failed fsync after which the kernel dropped the dirty pages: the bytes appended since
  // the last Sync() read back as zeros, and count as synced (a retried fsync has nothing left
  // to write, so it succeeds). No-op for a missing file.
  void LoseUnsyncedData(const std::string& path);

  // Sets a file's modification time (tests of age-based rules: VACUUM, log cleanup). NotFound
  // for a missing file.
  Status SetModificationTime(const std::string& path, int64_t mtime_ms);

  // Paths of every file, sorted. For assertions in tests.
  std::vector<std::string> AllFiles() const;

 private:
  struct Node {
    std::shared_ptr<std::string> data = std::make_shared<std::string>();
    size_t synced = 0;
    bool entry_durable = false;  // the parent directory was synced since creation
    int64_t mtime_ms = 0;
  };
  friend class MemWritableFile;

  static std::string Normalize(std::string_view path);
  bool ParentExistsLocked(const std::string& path) const;
  Status PutIfAbsentLocked(const std::string& path, std::string_view data, bool entry_durable);
  // Makes every entry of `dir` (normalized) durable, as a directory fsync does.
  void SyncDirLocked(const std::string& dir);

  int64_t NowMs() const { return clock_->NowMicros() / 1000; }

  Clock* const clock_;
  mutable std::mutex mu_;
  std::map<std::string, Node> files_;  // guarded by mu_
  std::set<std::string> dirs_{""};     // guarded by mu_; "" is the root
};

}  // namespace lakelog
