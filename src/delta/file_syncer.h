// FileSyncer: the fsync pool of a Delta table. Syncs and closes finished data files, and syncs
// their directories, on threads of its own: the threads that encode files never wait on the
// device, and the fsyncs of a round overlap. Owned by the table; its threads start with the
// first file and live as long as the table.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/mutex.h"
#include "common/thread_annotations.h"
#include "common/thread_pool.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "parquet/log_file_writer.h"

namespace lakelog::delta {

// At most kMaxWaiting files wait at a time (each holds a descriptor); Submit blocks beyond.
// Thread-safety: Submit may be called from several threads; WaitIdle from one at a time.
class FileSyncer {
 public:
  FileSyncer(FileSystem* fs, size_t threads) : fs_(fs), pool_(threads) {}
  ~FileSyncer() { WaitIdle(); }

  // Syncs and closes `file`, the data file at `path`, then syncs `dir`; a failure replaces
  // *result, which the caller reads only after WaitIdle().
  void Submit(std::unique_ptr<WritableFile> file, std::string path, std::string dir,
              Result<parquet::DataFileStats>* result) EXCLUDES(mu_);

  // Waits until every submitted file is done.
  void WaitIdle() EXCLUDES(mu_);

 private:
  static constexpr size_t kMaxWaiting = 16;

  struct Job {
    std::unique_ptr<WritableFile> file;
    std::string path;
    std::string dir;
    Result<parquet::DataFileStats>* result;
  };

  void Run(Job& job);

  FileSystem* const fs_;
  Mutex mu_;
  CondVar room_;                        // signalled when a waiting file starts
  CondVar idle_;                        // signalled when the last pending file is done
  size_t waiting_ GUARDED_BY(mu_) = 0;  // submitted, not started
  size_t pending_ GUARDED_BY(mu_) = 0;  // submitted, not done
  // Last: destroyed (its threads joined) before the counters its tasks update.
  ThreadPool pool_;
};

}  // namespace lakelog::delta
