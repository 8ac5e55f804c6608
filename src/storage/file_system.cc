#include "lakelog/file_system.h"

namespace lakelog {

bool FileSystem::Exists(const std::string& path) { return Stat(path).ok(); }

Result<std::unique_ptr<FileLock>> FileSystem::LockFile(const std::string& /*path*/) {
  return std::make_unique<FileLock>();
}

Status FileSystem::ReadFile(const std::string& path, std::string* out) {
  LAKELOG_ASSIGN_OR_RETURN(auto file, NewRandomAccessFile(path));
  return file->Read(0, file->Size(), out);
}

Status FileSystem::WriteFile(const std::string& path, std::string_view data, bool sync) {
  LAKELOG_ASSIGN_OR_RETURN(auto file, NewWritableFile(path));
  LAKELOG_RETURN_IF_ERROR(file->Append(data));
  if (sync) LAKELOG_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  if (out.back() != '/') out += '/';
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out += b;
  return out;
}

std::string ParentPath(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return "";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace lakelog
