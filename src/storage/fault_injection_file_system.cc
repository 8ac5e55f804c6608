#include "storage/fault_injection_file_system.h"

namespace lakelog {
namespace {

Status FaultStatus(FaultKind kind, const std::string& path) {
  switch (kind) {
    case FaultKind::kNoSpace:
      return Status::ResourceExhausted("injected ENOSPC: " + path + ": No space left on device");
    case FaultKind::kShortWrite:
      return Status::IOError("injected short write: " + path);
    case FaultKind::kIOError:
      break;
  }
  return Status::IOError("injected EIO: " + path + ": Input/output error");
}

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionFileSystem* fs, std::string path,
                    std::unique_ptr<WritableFile> target)
      : fs_(fs), path_(std::move(path)), target_(std::move(target)) {}

  Status Append(std::string_view data) override {
    FaultKind kind;
    Status st = fs_->Check(FaultOp::kAppend, path_, &kind);
    if (!st.ok()) {
      if (kind == FaultKind::kShortWrite) {
        Status partial = target_->Append(data.substr(0, data.size() / 2));
        (void)partial;  // the injected error is what the caller must see
      }
      return st;
    }
    return target_->Append(data);
  }
  Status Sync() override {
    FaultKind kind;
    LAKELOG_RETURN_IF_ERROR(fs_->Check(FaultOp::kSync, path_, &kind));
    return target_->Sync();
  }
  Status Close() override {
    FaultKind kind;
    LAKELOG_RETURN_IF_ERROR(fs_->Check(FaultOp::kClose, path_, &kind));
    return target_->Close();
  }
  uint64_t Size() const override { return target_->Size(); }

 private:
  FaultInjectionFileSystem* fs_;
  std::string path_;
  std::unique_ptr<WritableFile> target_;
};

}  // namespace

void FaultInjectionFileSystem::AddRule(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back(ActiveRule{std::move(rule)});
}

void FaultInjectionFileSystem::ClearRules() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
}

Status FaultInjectionFileSystem::Check(FaultOp op, const std::string& path, FaultKind* kind) {
  std::lock_guard<std::mutex> lock(mu_);
  for (ActiveRule& active : rules_) {
    const FaultRule& rule = active.rule;
    if (rule.op != op) continue;
    if (!rule.path_contains.empty() && path.find(rule.path_contains) == std::string::npos) continue;
    if (active.seen++ < rule.skip) continue;
    if (rule.times >= 0 && active.fired >= rule.times) continue;
    ++active.fired;
    ++injected_;
    *kind = rule.kind;
    return FaultStatus(rule.kind, path);
  }
  return Status::OK();
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::NewWritableFile(
    const std::string& path) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kOpenWrite, path, &kind));
  LAKELOG_ASSIGN_OR_RETURN(auto file, target_->NewWritableFile(path));
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, path, std::move(file)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::NewAppendableFile(
    const std::string& path) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kOpenWrite, path, &kind));
  LAKELOG_ASSIGN_OR_RETURN(auto file, target_->NewAppendableFile(path));
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, path, std::move(file)));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionFileSystem::NewRandomAccessFile(
    const std::string& path) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kOpenRead, path, &kind));
  return target_->NewRandomAccessFile(path);
}

Status FaultInjectionFileSystem::PutIfAbsent(const std::string& path, std::string_view data) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kPutIfAbsent, path, &kind));
  return target_->PutIfAbsent(path, data);
}

Status FaultInjectionFileSystem::WriteFileAtomic(const std::string& path, std::string_view data) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kWriteAtomic, path, &kind));
  return target_->WriteFileAtomic(path, data);
}

Status FaultInjectionFileSystem::CreateDirs(const std::string& path) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kCreateDirs, path, &kind));
  return target_->CreateDirs(path);
}

Result<std::vector<std::string>> FaultInjectionFileSystem::ListDir(const std::string& path) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kList, path, &kind));
  return target_->ListDir(path);
}

Status FaultInjectionFileSystem::DeleteFile(const std::string& path) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kDelete, path, &kind));
  return target_->DeleteFile(path);
}

Status FaultInjectionFileSystem::DeleteDir(const std::string& path) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kDelete, path, &kind));
  return target_->DeleteDir(path);
}

Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kSync, path, &kind));
  return target_->SyncDir(path);
}

}  // namespace lakelog
