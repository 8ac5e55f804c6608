#include "delta/file_syncer.h"

#include <utility>

namespace lakelog::delta {

void FileSyncer::Submit(std::unique_ptr<WritableFile> file, std::string path, std::string dir,
                        Result<parquet::DataFileStats>* result) {
  {
    MutexLock lock(&mu_);
    while (waiting_ >= kMaxWaiting) room_.Wait(&mu_);
    ++waiting_;
    ++pending_;
  }
  // std::function needs a copyable callable: the job travels in a shared_ptr.
  auto job = std::make_shared<Job>(Job{std::move(file), std::move(path), std::move(dir), result});
  pool_.Schedule([this, job] {
    {
      MutexLock lock(&mu_);
      --waiting_;
      room_.Signal();
    }
    Run(*job);
    MutexLock lock(&mu_);
    if (--pending_ == 0) idle_.SignalAll();
  });
}

void FileSyncer::WaitIdle() {
  MutexLock lock(&mu_);
  while (pending_ > 0) idle_.Wait(&mu_);
}

void FileSyncer::Run(Job& job) {
  Status status = job.file->Sync();
  Status closed = job.file->Close();
  if (status.ok()) status = closed;
  if (!status.ok()) {
    *job.result = status.WithContext(job.path);
    return;
  }
  // The file's fsync does not make its name durable: without the directory's fsync a
  // power loss after the commit can leave an add that points at no file. (Found by
  // tests/delta/fault_matrix_test.cc, CleanAppendSurvivesPowerLoss.)
  Status synced = fs_->SyncDir(job.dir);
  if (!synced.ok()) *job.result = synced.WithContext("syncing the directory of " + job.path);
}

}  // namespace lakelog::delta
