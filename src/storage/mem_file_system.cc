#include "storage/mem_file_system.h"

#include <algorithm>

namespace lakelog {

MemFileSystem::MemFileSystem(Clock* clock) : clock_(clock != nullptr ? clock : RealClock()) {}

// Writes go straight into the shared node; Sync() records the synced length.
class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(MemFileSystem* fs, std::string path) : fs_(fs), path_(std::move(path)) {}

  Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    auto it = fs_->files_.find(path_);
    if (it == fs_->files_.end()) return Status::IOError("append " + path_ + ": file was deleted");
    it->second.data->append(data);
    it->second.mtime_ms = fs_->NowMs();
    return Status::OK();
  }

  Status Sync() override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    auto it = fs_->files_.find(path_);
    if (it == fs_->files_.end()) return Status::IOError("sync " + path_ + ": file was deleted");
    it->second.synced = it->second.data->size();
    return Status::OK();
  }

  Status Close() override { return Status::OK(); }

  uint64_t Size() const override {
    std::lock_guard<std::mutex> lock(fs_->mu_);
    auto it = fs_->files_.find(path_);
    return it == fs_->files_.end() ? 0 : it->second.data->size();
  }

 private:
  MemFileSystem* fs_;
  std::string path_;
};

namespace {

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  explicit MemRandomAccessFile(std::shared_ptr<std::string> snapshot)
      : data_(std::move(snapshot)) {}
  Status Read(uint64_t offset, size_t n, std::string* out) const override {
    if (offset >= data_->size()) {
      out->clear();
      return Status::OK();
    }
    out->assign(*data_, offset, n);
    return Status::OK();
  }
  uint64_t Size() const override { return data_->size(); }

 private:
  std::shared_ptr<std::string> data_;  // a copy taken at open
};

}  // namespace

std::unique_ptr<FileSystem> NewMemFileSystem() { return std::make_unique<MemFileSystem>(); }

std::string MemFileSystem::Normalize(std::string_view path) {
  std::string out(path);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (out == "/") out.clear();
  return out;
}

bool MemFileSystem::ParentExistsLocked(const std::string& path) const {
  return dirs_.count(Normalize(ParentPath(path))) > 0;
}

Result<std::unique_ptr<WritableFile>> MemFileSystem::NewWritableFile(const std::string& raw) {
  std::string path = Normalize(raw);
  std::lock_guard<std::mutex> lock(mu_);
  if (!ParentExistsLocked(path)) return Status::NotFound("open " + path + ": no parent directory");
  if (dirs_.count(path)) return Status::InvalidArgument("open " + path + ": is a directory");
  Node& node = files_[path];
  node.data = std::make_shared<std::string>();
  node.synced = 0;
  node.mtime_ms = NowMs();
  return std::unique_ptr<WritableFile>(new MemWritableFile(this, path));
}

Result<std::unique_ptr<WritableFile>> MemFileSystem::NewAppendableFile(const std::string& raw) {
  std::string path = Normalize(raw);
  std::lock_guard<std::mutex> lock(mu_);
  if (!ParentExistsLocked(path)) return Status::NotFound("open " + path + ": no parent directory");
  if (!files_.count(path)) files_[path].mtime_ms = NowMs();
  return std::unique_ptr<WritableFile>(new MemWritableFile(this, path));
}

Result<std::unique_ptr<RandomAccessFile>> MemFileSystem::NewRandomAccessFile(
    const std::string& raw) {
  std::string path = Normalize(raw);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound("open " + path + ": no such file");
  return std::unique_ptr<RandomAccessFile>(
      new MemRandomAccessFile(std::make_shared<std::string>(*it->second.data)));
}

Status MemFileSystem::PutIfAbsent(const std::string& raw, std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  return PutIfAbsentLocked(Normalize(raw), data, /*entry_durable=*/true);  // link + dir fsync
}

Status MemFileSystem::PutIfAbsentUnsynced(const std::string& raw, std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  return PutIfAbsentLocked(Normalize(raw), data, /*entry_durable=*/false);
}

Status MemFileSystem::PutIfAbsentLocked(const std::string& path, std::string_view data,
                                        bool entry_durable) {
  if (!ParentExistsLocked(path)) return Status::NotFound("put " + path + ": no parent directory");
  if (files_.count(path) || dirs_.count(path)) {
    return Status::AlreadyExists(path + " already exists");
  }
  Node& node = files_[path];
  node.data = std::make_shared<std::string>(data);
  node.synced = data.size();
  node.mtime_ms = NowMs();
  if (entry_durable) SyncDirLocked(Normalize(ParentPath(path)));  // the fsync that follows link()
  return Status::OK();
}

Status MemFileSystem::WriteFileAtomic(const std::string& raw, std::string_view data) {
  std::string path = Normalize(raw);
  std::lock_guard<std::mutex> lock(mu_);
  if (!ParentExistsLocked(path)) return Status::NotFound("put " + path + ": no parent directory");
  Node& node = files_[path];
  node.data = std::make_shared<std::string>(data);
  node.synced = data.size();
  node.mtime_ms = NowMs();
  SyncDirLocked(Normalize(ParentPath(path)));  // the fsync that follows rename()
  return Status::OK();
}

Status MemFileSystem::CreateDirs(const std::string& raw) {
  std::string path = Normalize(raw);
  std::lock_guard<std::mutex> lock(mu_);
  while (!path.empty()) {
    if (files_.count(path)) return Status::AlreadyExists(path + " exists and is not a directory");
    dirs_.insert(path);
    path = Normalize(ParentPath(path));
  }
  return Status::OK();
}

Result<std::vector<std::string>> MemFileSystem::ListDir(const std::string& raw) {
  std::string path = Normalize(raw);
  std::lock_guard<std::mutex> lock(mu_);
  if (!dirs_.count(path)) return Status::NotFound("list " + path + ": no such directory");
  std::string prefix = path.empty() ? "" : path + "/";
  std::vector<std::string> names;
  auto child_name = [&](const std::string& p) -> std::string {
    if (p.size() <= prefix.size() || p.compare(0, prefix.size(), prefix) != 0) return "";
    std::string rest = p.substr(prefix.size());
    return rest.find('/') == std::string::npos ? rest : "";
  };
  for (const auto& [p, node] : files_) {
    std::string name = child_name(p);
    if (!name.empty()) names.push_back(name);
  }
  for (const auto& d : dirs_) {
    std::string name = child_name(d);
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

Result<FileInfo> MemFileSystem::Stat(const std::string& raw) {
  std::string path = Normalize(raw);
  std::lock_guard<std::mutex> lock(mu_);
  FileInfo info;
  if (dirs_.count(path)) {
    info.is_directory = true;
    return info;
  }
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound("stat " + path + ": no such file");
  info.size = it->second.data->size();
  info.modification_time_ms = it->second.mtime_ms;
  return info;
}

Status MemFileSystem::DeleteFile(const std::string& raw) {
  std::string path = Normalize(raw);
  std::lock_guard<std::mutex> lock(mu_);
  if (files_.erase(path) == 0) return Status::NotFound("delete " + path + ": no such file");
  return Status::OK();
}

Status MemFileSystem::DeleteDir(const std::string& raw) {
  std::string path = Normalize(raw);
  std::lock_guard<std::mutex> lock(mu_);
  if (!dirs_.count(path)) return Status::NotFound("rmdir " + path + ": no such directory");
  std::string prefix = path + "/";
  for (const auto& [p, node] : files_) {
    if (p.compare(0, prefix.size(), prefix) == 0)
      return Status::IOError("rmdir " + path + ": not empty");
  }
  for (const auto& d : dirs_) {
    if (d.compare(0, prefix.size(), prefix) == 0)
      return Status::IOError("rmdir " + path + ": not empty");
  }
  dirs_.erase(path);
  return Status::OK();
}

Status MemFileSystem::SyncDir(const std::string& raw) {
  std::lock_guard<std::mutex> lock(mu_);
  SyncDirLocked(Normalize(raw));
  return Status::OK();
}

void MemFileSystem::SyncDirLocked(const std::string& dir) {
  for (auto& [p, node] : files_) {
    if (Normalize(ParentPath(p)) == dir) node.entry_durable = true;
  }
}

void MemFileSystem::DropUnsyncedData() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = files_.begin(); it != files_.end();) {
    Node& node = it->second;
    if (!node.entry_durable) {
      it = files_.erase(it);
      continue;
    }
    node.data = std::make_shared<std::string>(node.data->substr(0, node.synced));
    ++it;
  }
}

void MemFileSystem::LoseUnsyncedData(const std::string& raw) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(Normalize(raw));
  if (it == files_.end()) return;
  Node& node = it->second;
  std::fill(node.data->begin() + static_cast<std::ptrdiff_t>(node.synced), node.data->end(), '\0');
  node.synced = node.data->size();
}

Status MemFileSystem::SetModificationTime(const std::string& path, int64_t mtime_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(Normalize(path));
  if (it == files_.end()) return Status::NotFound("set mtime " + path);
  it->second.mtime_ms = mtime_ms;
  return Status::OK();
}

std::vector<std::string> MemFileSystem::AllFiles() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [p, node] : files_) out.push_back(p);
  return out;
}

}  // namespace lakelog
