// A FileSystem wrapper that injects failures, for unit tests of the code above the seam.
//
// Faults are rules: "the 3rd Append to a path containing `_delta_log/` fails with ENOSPC, once".
// A short write appends the first half of the data to the wrapped file, then fails, the way a
// full disk does.
//
// Every I/O call is a fault point, including the steps the POSIX implementation takes inside
// PutIfAbsent() and WriteFileAtomic(): create the temp file, append, sync, close, link/rename
// (kRename), remove the temp file, sync the directory. The wrapper can record the calls it sees
// (set_record_calls), so a test can enumerate the fault points of an operation with one clean
// run and then re-run it with a fault at each of them (tests/storage/fault_matrix.h).
//
// The crash model. Wrapping a MemFileSystem enables the parts that need to reach below the seam:
//   - MemFileSystem::DropUnsyncedData() is a power loss: unsynced bytes and directory entries
//     that no directory sync covered disappear.
//   - PutIfAbsent's link is not durable until its directory sync: a failure of that sync leaves
//     a visible commit that a crash can still take away.
//   - FaultKind::kSyncLostData models Linux after a failed fsync: the dirty pages are dropped
//     (the unsynced bytes read back as zeros) and a retried fsync reports success.
// CrashAtCall(n) is a crash at the n-th call from now: that call and every later one fail (the
// process is dead); the test then calls DropUnsyncedData() and restarts on the MemFileSystem.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "lakelog/file_system.h"

namespace lakelog {

class MemFileSystem;

enum class FaultOp : uint8_t {
  // NewWritableFile / NewAppendableFile.
  kOpenWrite,
  // NewRandomAccessFile.
  kOpenRead,
  kAppend,
  // WritableFile::Sync and SyncDir.
  kSync,
  kClose,
  // PutIfAbsent / WriteFileAtomic as a whole, checked before their steps.
  kPutIfAbsent,
  kWriteAtomic,
  kCreateDirs,
  kList,
  // DeleteFile / DeleteDir.
  kDelete,
  // The link() / rename() that publishes a PutIfAbsent / WriteFileAtomic.
  kRename,
  // Rules only: matches every call.
  kAny,
};

enum class FaultKind : uint8_t {
  kIOError,       // EIO
  kNoSpace,       // ENOSPC: ResourceExhausted
  kShortWrite,    // half the bytes land, then EIO (only meaningful for kAppend)
  kSyncLostData,  // EIO from fsync, and the unsynced bytes are gone (needs a MemFileSystem)
};

std::string_view FaultOpName(FaultOp op);
std::string_view FaultKindName(FaultKind kind);

struct FaultRule {
  FaultOp op = FaultOp::kAppend;
  std::string path_contains;  // empty matches every path
  int skip = 0;               // let this many matching calls through first
  int times = 1;              // then fail this many; -1 fails forever
  FaultKind kind = FaultKind::kIOError;
};

// One I/O call the wrapper saw (when recording).
struct FaultCall {
  FaultOp op = FaultOp::kAppend;
  std::string path;
};

class FaultInjectionFileSystem final : public FileSystem {
 public:
  // `target` is not owned and must outlive this object.
  explicit FaultInjectionFileSystem(FileSystem* target) : target_(target) {}
  // The same, with the crash model described above.
  explicit FaultInjectionFileSystem(MemFileSystem* target);

  void AddRule(FaultRule rule);
  // Removes every rule and any pending crash.
  void ClearRules();
  // Call number `index` (0-based, counting from this call on) fails with `kind`, and every call
  // after it with EIO, as if the process died there. Rules are not consulted after the crash.
  void CrashAtCall(int64_t index, FaultKind kind = FaultKind::kIOError);
  // Whether a crash set by CrashAtCall has happened.
  bool crashed() const;
  // How many faults were injected so far.
  int injected() const { return injected_.load(); }

  // Recording of the calls, in the order they were checked. Off by default.
  void set_record_calls(bool on);
  std::vector<FaultCall> calls() const;
  void ClearCalls();

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
  // Not a fault point: passed through to the target.
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return target_->LockFile(path);
  }

  // Returns the injected failure for this call (setting *kind), or OK. Public for the file
  // wrappers; not for callers.
  Status Check(FaultOp op, const std::string& path, FaultKind* kind);
  // The MemFileSystem below, when there is one (the crash model); else nullptr.
  MemFileSystem* mem() const { return mem_; }

 private:
  struct ActiveRule {
    FaultRule rule;
    int seen = 0;
    int fired = 0;
  };

  // Writes `data` to a fresh temp file beside `path` (create, append, sync, close: each a fault
  // point) and returns its name; removes it again on failure.
  Result<std::string> WriteTempFile(const std::string& path, std::string_view data);

  FileSystem* target_;
  MemFileSystem* mem_ = nullptr;
  mutable std::mutex mu_;
  std::vector<ActiveRule> rules_;  // guarded by mu_
  bool record_calls_ = false;      // guarded by mu_
  std::vector<FaultCall> calls_;   // guarded by mu_
  int64_t checked_ = 0;            // guarded by mu_; calls checked so far
  int64_t crash_at_ = -1;          // guarded by mu_; value of checked_ that crashes; -1: none
  FaultKind crash_kind_ = FaultKind::kIOError;  // guarded by mu_
  std::atomic<int> injected_{0};
  std::atomic<uint64_t> temp_counter_{0};
};

}  // namespace lakelog
