#include "delta/file_syncer.h"

#include <utility>

namespace lakelog::delta {

FileSyncer::FileSyncer(FileSystem* fs, size_t threads) : fs_(fs) {
  for (size_t t = 0; t < threads; ++t) threads_.emplace_back([this] { Run(); });
}

void FileSyncer::Submit(std::unique_ptr<WritableFile> file, std::string path, std::string dir,
                        Result<parquet::DataFileStats>* result) {
  std::unique_lock<std::mutex> lock(mu_);
  room_.wait(lock, [this] { return queue_.size() < kMaxWaiting; });
  queue_.push_back(Job{std::move(file), std::move(path), std::move(dir), result});
  work_.notify_one();
}

void FileSyncer::Drain() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  work_.notify_all();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

void FileSyncer::Run() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [this] { return done_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      room_.notify_one();
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
