// The FileSystem seam. The WAL, Parquet and Delta code never call the OS directly: all of
// their I/O goes through this interface, so tests can swap in an in-memory file system or one
// that injects faults and drops unsynced data, and an object store can sit behind it later.
//
// Paths are plain strings joined with '/'. Implementations are thread-safe; a file handle is
// used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lakelog/status.h"

namespace lakelog {

// A file being written sequentially. Data is durable only after Sync() returns OK.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Flushes to stable storage (fsync).
  virtual Status Sync() = 0;
  // Closes the handle; does not imply Sync(). Destruction without Close() closes quietly.
  virtual Status Close() = 0;
  // Bytes appended so far.
  virtual uint64_t Size() const = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `n` bytes at `offset` into *out (replacing its contents). Fewer bytes come back
  // only at end of file.
  virtual Status Read(uint64_t offset, size_t n, std::string* out) const = 0;
  virtual uint64_t Size() const = 0;
};

// An exclusive lock from FileSystem::LockFile; destroying it releases the lock.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

struct FileInfo {
  uint64_t size = 0;
  int64_t modification_time_ms = 0;  // milliseconds since the Unix epoch
  bool is_directory = false;
  // The path itself is a symbolic link (Stat describes its target). VACUUM never follows or
  // deletes one. Always false on file systems without links.
  bool is_symlink = false;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates or truncates `path`. The parent directory must exist.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending, creating it when missing.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;

  // Atomically creates `path` holding exactly `data`, durably, only if nothing exists there.
  // Returns AlreadyExists when another writer got there first; never replaces a file. This is
  // the primitive behind Delta commits (put-if-absent).
  virtual Status PutIfAbsent(const std::string& path, std::string_view data) = 0;

  // Writes `data` to `path` atomically (temp file, fsync, rename over), replacing any file there.
  virtual Status WriteFileAtomic(const std::string& path, std::string_view data) = 0;

  // Creates `path` and any missing parents; OK if it already exists.
  virtual Status CreateDirs(const std::string& path) = 0;
  // Names (not paths) of the entries in `path`, in no particular order. NotFound if missing.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // NotFound if missing.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  virtual Status DeleteFile(const std::string& path) = 0;
  // Deletes an empty directory.
  virtual Status DeleteDir(const std::string& path) = 0;
  // Makes the directory entries of `path` durable (fsync on the directory).
  virtual Status SyncDir(const std::string& path) = 0;

  // Takes an exclusive lock on the file `path` (created when missing), so that two writers
  // never own one directory at once. Unavailable when another holder has it. On POSIX it is an
  // flock(): held until the returned object is destroyed or the process dies, and it conflicts
  // with another LockFile() of the same path in the same process too. The default, for file
  // systems without processes (in-memory), locks nothing and always succeeds.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path);

  // Convenience built on the primitives above.
  bool Exists(const std::string& path);
  Status ReadFile(const std::string& path, std::string* out);
  // Writes (truncating) and syncs, without atomicity.
  Status WriteFile(const std::string& path, std::string_view data, bool sync);
};

// The process-wide POSIX file system. Never null; not owned by the caller.
FileSystem* PosixFileSystem();

// A thread-safe in-memory file system, for unit tests. It remembers which bytes of each file
// were synced, so a fault-injecting wrapper can model a crash.
std::unique_ptr<FileSystem> NewMemFileSystem();

// "a" + "b" -> "a/b"; an empty side is skipped.
std::string JoinPath(std::string_view a, std::string_view b);
// "a/b/c" -> "a/b"; "c" -> "".
std::string ParentPath(std::string_view path);

}  // namespace lakelog
