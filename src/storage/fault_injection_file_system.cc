#include "storage/fault_injection_file_system.h"

#include "storage/mem_file_system.h"

namespace lakelog {
namespace {

Status FaultStatus(FaultKind kind, const std::string& path) {
  switch (kind) {
    case FaultKind::kNoSpace:
      return Status::ResourceExhausted("injected ENOSPC: " + path + ": No space left on device");
    case FaultKind::kShortWrite: return Status::IOError("injected short write: " + path);
    case FaultKind::kSyncLostData:
      return Status::IOError("injected EIO (dirty pages dropped): " + path +
                             ": Input/output error");
    case FaultKind::kIOError: break;
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
    Status st = fs_->Check(FaultOp::kSync, path_, &kind);
    if (!st.ok()) {
      if (kind == FaultKind::kSyncLostData && fs_->mem() != nullptr) {
        fs_->mem()->LoseUnsyncedData(path_);
      }
      return st;
    }
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

std::string_view FaultOpName(FaultOp op) {
  switch (op) {
    case FaultOp::kOpenWrite: return "open-write";
    case FaultOp::kOpenRead: return "open-read";
    case FaultOp::kAppend: return "append";
    case FaultOp::kSync: return "sync";
    case FaultOp::kClose: return "close";
    case FaultOp::kPutIfAbsent: return "put-if-absent";
    case FaultOp::kWriteAtomic: return "write-atomic";
    case FaultOp::kCreateDirs: return "create-dirs";
    case FaultOp::kList: return "list";
    case FaultOp::kDelete: return "delete";
    case FaultOp::kRename: return "rename";
    case FaultOp::kAny: return "any";
  }
  return "unknown";
}

std::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kIOError: return "EIO";
    case FaultKind::kNoSpace: return "ENOSPC";
    case FaultKind::kShortWrite: return "short-write";
    case FaultKind::kSyncLostData: return "EIO+lost-pages";
  }
  return "unknown";
}

FaultInjectionFileSystem::FaultInjectionFileSystem(MemFileSystem* target)
    : target_(target), mem_(target) {}

void FaultInjectionFileSystem::AddRule(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.push_back(ActiveRule{std::move(rule)});
}

void FaultInjectionFileSystem::ClearRules() {
  std::lock_guard<std::mutex> lock(mu_);
  rules_.clear();
  crash_at_ = -1;
}

void FaultInjectionFileSystem::CrashAtCall(int64_t index, FaultKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  crash_at_ = checked_ + index;
  crash_kind_ = kind;
}

bool FaultInjectionFileSystem::crashed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return crash_at_ >= 0 && checked_ > crash_at_;
}

void FaultInjectionFileSystem::set_record_calls(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  record_calls_ = on;
}

std::vector<FaultCall> FaultInjectionFileSystem::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

void FaultInjectionFileSystem::ClearCalls() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.clear();
}

Status FaultInjectionFileSystem::Check(FaultOp op, const std::string& path, FaultKind* kind) {
  std::lock_guard<std::mutex> lock(mu_);
  if (record_calls_) calls_.push_back(FaultCall{op, path});
  const int64_t call = checked_++;
  if (crash_at_ >= 0 && call >= crash_at_) {
    ++injected_;
    *kind = call == crash_at_ ? crash_kind_ : FaultKind::kIOError;
    return FaultStatus(*kind, path);
  }
  for (ActiveRule& active : rules_) {
    const FaultRule& rule = active.rule;
    if (rule.op != op && rule.op != FaultOp::kAny) continue;
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

Result<std::string> FaultInjectionFileSystem::WriteTempFile(const std::string& path,
                                                            std::string_view data) {
  const std::string dir = ParentPath(path);
  const std::string name = path.substr(dir.empty() ? 0 : dir.size() + 1);
  const std::string tmp =
      JoinPath(dir, "." + name + ".tmp-fault-" + std::to_string(temp_counter_++));
  // The POSIX sequence: open, write, fsync, close; on failure the temp file is unlinked (an
  // I/O call of its own, whose failure leaves an orphan that every reader ignores).
  Status st = WriteFile(tmp, data, /*sync=*/true);
  if (!st.ok()) {
    (void)DeleteFile(tmp);
    return st;
  }
  return tmp;
}

Status FaultInjectionFileSystem::PutIfAbsent(const std::string& path, std::string_view data) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kPutIfAbsent, path, &kind));
  LAKELOG_ASSIGN_OR_RETURN(std::string tmp, WriteTempFile(path, data));
  if (Status st = Check(FaultOp::kRename, path, &kind); !st.ok()) {
    (void)DeleteFile(tmp);
    return st;
  }
  // The link. With the crash model its directory entry stays volatile until the SyncDir below.
  Status linked =
      mem_ != nullptr ? mem_->PutIfAbsentUnsynced(path, data) : target_->PutIfAbsent(path, data);
  (void)DeleteFile(tmp);
  LAKELOG_RETURN_IF_ERROR(linked);
  return SyncDir(ParentPath(path));
}

// The rename that replaces the target is modelled as durable at once (MemFileSystem cannot keep
// the old contents for a crash to bring back); the directory sync after it is still a fault
// point, which returns an error after the new contents became visible.
Status FaultInjectionFileSystem::WriteFileAtomic(const std::string& path, std::string_view data) {
  FaultKind kind;
  LAKELOG_RETURN_IF_ERROR(Check(FaultOp::kWriteAtomic, path, &kind));
  LAKELOG_ASSIGN_OR_RETURN(std::string tmp, WriteTempFile(path, data));
  if (Status st = Check(FaultOp::kRename, path, &kind); !st.ok()) {
    (void)DeleteFile(tmp);
    return st;
  }
  Status renamed = target_->WriteFileAtomic(path, data);
  (void)DeleteFile(tmp);
  LAKELOG_RETURN_IF_ERROR(renamed);
  return SyncDir(ParentPath(path));
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
