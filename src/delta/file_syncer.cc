#include "delta/file_syncer.h"

#include <utility>

namespace lakelog::delta {

FileSyncer::FileSyncer(FileSystem* fs, size_t threads) : fs_(fs) {
  for (size_t t = 0; t < threads; ++t) threads_.emplace_back([this] { Run(); });
}

void FileSyncer::Submit(std::unique_ptr<WritableFile> file, std::string path, std::string dir,
                        Result<parquet::DataFileStats>* result) {
  MutexLock lock(&mu_);
  while (queue_.size() >= kMaxWaiting) room_.Wait(&mu_);
  queue_.push_back(Job{std::move(file), std::move(path), std::move(dir), result});
  work_.Signal();
}

void FileSyncer::Drain() {
  {
    MutexLock lock(&mu_);
    done_ = true;
  }
  work_.SignalAll();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

void FileSyncer::Run() {
  while (true) {
    Job job;
    {
      MutexLock lock(&mu_);
      while (!done_ && queue_.empty()) work_.Wait(&mu_);
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      room_.Signal();
    }
    Status status = job.file->Sync();
    Status closed = job.file->Close();
    if (status.ok()) status = closed;
    if (!status.ok()) {
      *job.result = status.WithContext(job.path);
      continue;
    }
    // The file's fsync does not make its name durable: without the directory's fsync a
    // power loss after the commit can leave an add that points at no file. (Found by
    // tests/delta/fault_matrix_test.cc, CleanAppendSurvivesPowerLoss.)
    Status synced = fs_->SyncDir(job.dir);
    if (!synced.ok()) *job.result = synced.WithContext("syncing the directory of " + job.path);
  }
}

}  // namespace lakelog::delta
