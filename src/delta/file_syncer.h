// FileSyncer: the fsync pool of an Append. Syncs and closes finished data files, and syncs their
// directories, on threads of its own: the threads that encode files never wait on the device,
// and the fsyncs of a round overlap.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "parquet/log_file_writer.h"

namespace lakelog::delta {

// At most kMaxWaiting files wait at a time (each holds a descriptor); Submit blocks beyond.
// Thread-safety: Submit may be called from several threads; Drain from one.
class FileSyncer {
 public:
  FileSyncer(FileSystem* fs, size_t threads);
  ~FileSyncer() { Drain(); }

  // Syncs and closes `file`, the data file at `path`, then syncs `dir`; a failure replaces
  // *result, which the caller reads only after Drain().
  void Submit(std::unique_ptr<WritableFile> file, std::string path, std::string dir,
              Result<parquet::DataFileStats>* result) EXCLUDES(mu_);

  // Waits for every submitted file, and stops the threads.
  void Drain() EXCLUDES(mu_);

 private:
  static constexpr size_t kMaxWaiting = 16;

  struct Job {
    std::unique_ptr<WritableFile> file;
    std::string path;
    std::string dir;
    Result<parquet::DataFileStats>* result;
  };

  void Run() EXCLUDES(mu_);

  FileSystem* fs_;
  Mutex mu_;
  CondVar work_;
  CondVar room_;
  std::deque<Job> queue_ GUARDED_BY(mu_);
  bool done_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace lakelog::delta
