#include "delta/file_write_scheduler.h"

#include <sched.h>

#include <algorithm>
#include <latch>

namespace lakelog::delta {
namespace {

// CPUs this process may run on (its affinity mask), at least 1.
size_t UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

}  // namespace

std::vector<Result<parquet::DataFileStats>> WriteGroupFiles(
    FileSystem* fs, const std::string& root, const ParquetWriteOptions& options,
    std::span<const LogEvent* const> events, const Grouping& grouping,
    const std::vector<std::string>& relatives, ThreadPool* writers, FileSyncer* syncer) {
  constexpr size_t kMaxOpenFiles = 64;
  constexpr size_t kWindowEvents = 2048;
  const std::vector<Group>& groups = grouping.groups;
  std::vector<Result<parquet::DataFileStats>> results(
      groups.size(), Result<parquet::DataFileStats>(Status::Internal("not written")));
  const size_t threads = std::min({writers->size() + 1, groups.size(), UsableCpus()});
  // Largest groups first, each to the thread with the fewest rows so far.
  std::vector<uint32_t> by_size(groups.size());
  for (uint32_t g = 0; g < by_size.size(); ++g) by_size[g] = g;
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&groups](uint32_t a, uint32_t b) { return groups[a].rows > groups[b].rows; });
  std::vector<std::vector<uint32_t>> shares(threads);
  std::vector<size_t> load(threads, 0);
  for (uint32_t g : by_size) {
    const size_t t = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    shares[t].push_back(g);
    load[t] += groups[g].rows;
  }

  auto work = [&](const std::vector<uint32_t>& share) {
    // One writer per thread for the round: its buffers serve every file the thread writes,
    // and are freed when the round ends.
    parquet::DataFileSetWriter writer(options);
    constexpr size_t kNone = SIZE_MAX;
    std::vector<size_t> handle_of(groups.size(), kNone);
    std::vector<std::vector<const LogEvent*>> buckets;  // by handle: the window's rows
    for (size_t begin = 0; begin < share.size(); begin += kMaxOpenFiles) {
      const size_t end = std::min(share.size(), begin + kMaxOpenFiles);
      size_t first = SIZE_MAX, last = 0;
      for (size_t k = begin; k < end; ++k) {
        const uint32_t g = share[k];
        auto handle = writer.Begin(fs, JoinPath(root, relatives[g]), groups[g].rows);
        if (!handle.ok()) {
          results[g] = handle.status();
          continue;
        }
        handle_of[g] = *handle;
        if (buckets.size() <= *handle) buckets.resize(*handle + 1);
        first = std::min(first, groups[g].first);
        last = std::max(last, groups[g].last);
      }
      // Window by window: the window's events are bucketed by file, then each file takes its
      // bucket. A window's events lie close together in memory and stay cached while the
      // files take them, and each file's column writers (the larger working set: buffers
      // and dictionaries) take a run of rows rather than one row at a time.
      for (size_t w = first; w <= last && first != SIZE_MAX; w += kWindowEvents) {
        const size_t w_end = std::min(last + 1, w + kWindowEvents);
        for (size_t i = w; i < w_end; ++i) {
          const size_t handle = handle_of[grouping.group_of[i]];
          if (handle != kNone) buckets[handle].push_back(events[i]);
        }
        for (size_t handle = 0; handle < buckets.size(); ++handle) {
          // A failed file keeps its error for Finish and takes no more rows.
          (void)writer.AddRows(handle, buckets[handle]);
          buckets[handle].clear();
        }
      }
      for (size_t k = begin; k < end; ++k) {
        const uint32_t g = share[k];
        if (handle_of[g] == kNone) continue;
        std::unique_ptr<WritableFile> file;
        results[g] = writer.Finish(handle_of[g], &file);
        handle_of[g] = kNone;
        if (results[g].ok()) {
          syncer->Submit(std::move(file), JoinPath(root, relatives[g]),
                         JoinPath(root, ParentPath(relatives[g])), &results[g]);
        }
      }
    }
  };
  std::latch others_done(static_cast<std::ptrdiff_t>(threads - 1));
  for (size_t t = 1; t < threads; ++t) {
    writers->Schedule([&work, &shares, &others_done, t] {
      work(shares[t]);
      others_done.count_down();
    });
  }
  work(shares[0]);  // the calling thread takes a share too
  others_done.wait();
  syncer->WaitIdle();
  return results;
}

}  // namespace lakelog::delta
