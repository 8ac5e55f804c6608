#include "wal/set_aside.h"

#include "wal/wal.h"

namespace lakelog::wal {
namespace {

constexpr size_t kCopyChunkBytes = 1u << 20;

// The first free name in `damaged_dir` for a file of `size` bytes: `name`, or `name.N`. A
// file of the same size there is taken to be an interrupted earlier copy and is reused.
Result<std::string> DestinationFor(FileSystem* fs, const std::string& damaged_dir,
                                   const std::string& name, uint64_t size) {
  for (int n = 1;; ++n) {
    std::string path = JoinPath(damaged_dir, n == 1 ? name : name + "." + std::to_string(n));
    auto info = fs->Stat(path);
    if (!info.ok()) {
      if (info.status().IsNotFound()) return path;
      return info.status();
    }
    if (!info->is_directory && info->size == size) return path;
  }
}

}  // namespace

Result<std::string> MoveToDamaged(FileSystem* fs, const std::string& dir, const std::string& name) {
  const std::string source = JoinPath(dir, name);
  const std::string damaged_dir = JoinPath(dir, Wal::kDamagedDirName);
  LAKELOG_RETURN_IF_ERROR(fs->CreateDirs(damaged_dir));
  LAKELOG_ASSIGN_OR_RETURN(auto in, fs->NewRandomAccessFile(source));
  const uint64_t size = in->Size();
  LAKELOG_ASSIGN_OR_RETURN(std::string destination, DestinationFor(fs, damaged_dir, name, size));
  LAKELOG_ASSIGN_OR_RETURN(auto out, fs->NewWritableFile(destination));
  Status st;
  std::string chunk;
  for (uint64_t offset = 0; st.ok() && offset < size; offset += chunk.size()) {
    st = in->Read(offset, kCopyChunkBytes, &chunk);
    if (st.ok() && chunk.empty()) break;  // shorter than Size() said: copy what there is
    if (st.ok()) st = out->Append(chunk);
  }
  if (st.ok()) st = out->Sync();
  Status closed = out->Close();
  if (st.ok()) st = closed;
  if (st.ok()) st = fs->SyncDir(damaged_dir);
  if (!st.ok()) return st.WithContext("wal: keeping " + source + " as " + destination);
  in.reset();
  LAKELOG_RETURN_IF_ERROR(fs->DeleteFile(source).WithContext("wal: moving " + source + " aside"));
  LAKELOG_RETURN_IF_ERROR(fs->SyncDir(dir));
  return destination;
}

}  // namespace lakelog::wal
