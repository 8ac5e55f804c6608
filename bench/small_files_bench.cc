// Small files: 20 pipelines x 100 events/s for one simulated hour, 5 s flush interval, each
// design writing a REAL Delta table (Parquet files + _delta_log); files and commits are then
// read back from the table itself:
//   - lakelog, fixed interval: Engine + NewDeltaSink (group commit: one commit per round for
//     all pipelines),
//   - lakelog, adaptive: the same with target_file_bytes 8 MiB and max_latency 60 s,
//   - the naive design: one buffer per pipeline, each flush one DeltaTable::Append of that
//     pipeline's events = one file + one commit.
// Time is simulated (ManualClock, EngineOptions::flush_threads = 0, Engine::RunDueRounds), so
// the hour takes as long as writing its Parquet does. The wall column is informational only: on
// the in-memory file system every directory sync scans all files, which penalizes designs with
// many files more than a real file system would. Tables live on an in-memory file system
// by default (the I/O pattern is the same; the VM's fsync latency is not what is compared), or
// under DIR with --disk DIR (fresh subdirectories, removed first).
//
//   ./build/bench/small_files_bench [pipelines] [events_per_second] [seconds] [--disk DIR]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lakelog/delta_sink.h"
#include "lakelog/delta_table.h"
#include "lakelog/engine.h"
#include "lakelog/file_system.h"
#include "lakelog/sink.h"

namespace {

using namespace lakelog;

constexpr int64_t kTickMicros = 10'000;
constexpr int64_t kIntervalMicros = 5'000'000;
constexpr const char* kMessage = "Processed batch of 5000 rows from the upstream source in 12 ms";

struct Load {
  int pipelines, rate, seconds;
  int64_t ticks() const { return int64_t{seconds} * 1'000'000 / kTickMicros; }
  // Events per tick x 100, so rates that are not multiples of 100/s still add up.
  int64_t per_tick_x100() const { return int64_t{rate} * kTickMicros / 10'000; }
};

// What the table says after the run, plus what the run itself counted.
struct Outcome {
  int64_t commits = 0;              // WRITE commits in the table's history
  int64_t versions = 0;             // table version + 1 (includes the creating commit)
  int64_t files = 0;                // active files in the latest snapshot
  int64_t max_partition_files = 0;  // the most live files of one (pipeline, log_date)
  int64_t rows = 0;                 // sum of numRecords over those files
  int64_t data_bytes = 0;
  int64_t log_bytes = 0;  // bytes under _delta_log
  int64_t logged = 0;     // events handed to the design
  int64_t dropped = 0;    // events a lakelog buffer counted as dropped
  double wall_s = 0;
  std::string error;
};

class Tables {
 public:
  explicit Tables(const char* disk_dir) : disk_dir_(disk_dir ? disk_dir : "") {}
  // A fresh file system and root for one design.
  std::pair<FileSystem*, std::string> Fresh(const std::string& name) {
    if (disk_dir_.empty()) {
      mem_ = NewMemFileSystem();
      return {mem_.get(), "/tables/" + name};
    }
    std::string root = disk_dir_ + "/" + name;
    std::filesystem::remove_all(root);
    return {PosixFileSystem(), root};
  }
  void Done() { mem_.reset(); }  // frees the in-memory table once it has been read back

 private:
  std::string disk_dir_;
  std::unique_ptr<FileSystem> mem_;
};

Status ReadBack(FileSystem* fs, const std::string& root, Outcome* r) {
  auto snapshot = ReadDeltaSnapshot(fs, root);
  if (!snapshot.ok()) return snapshot.status();
  r->versions = snapshot->version + 1;
  r->files = static_cast<int64_t>(snapshot->files.size());
  std::map<std::map<std::string, std::optional<std::string>>, int64_t> per_partition;
  for (const DeltaAddFile& f : snapshot->files) {
    r->max_partition_files = std::max(r->max_partition_files, ++per_partition[f.partition_values]);
  }
  r->rows = snapshot->TotalRows();
  r->data_bytes = snapshot->TotalBytes();
  DeltaTableOptions open_only;
  open_only.create_if_missing = false;
  auto table = DeltaTable::Open(fs, root, open_only);
  if (!table.ok()) return table.status();
  auto history = (*table)->History();
  if (!history.ok()) return history.status();
  for (const DeltaCommitInfo& c : *history) r->commits += c.operation == "WRITE";
  const std::string log_dir = JoinPath(root, "_delta_log");
  auto names = fs->ListDir(log_dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    auto info = fs->Stat(JoinPath(log_dir, name));
    if (info.ok() && !info->is_directory) r->log_bytes += static_cast<int64_t>(info->size);
  }
  return Status::OK();
}

// `auto_compact`: the Delta sink's background auto-compaction is on (fixed interval).
Outcome RunLakelog(const Load& load, bool adaptive, Tables* tables, bool auto_compact = false) {
  Outcome r;
  auto t0 = std::chrono::steady_clock::now();
  auto [fs, root] = tables->Fresh(auto_compact ? "lakelog_auto"
                                  : adaptive   ? "lakelog_adaptive"
                                               : "lakelog_fixed");
  ManualClock clock;
  DeltaTableOptions table_options;
  table_options.auto_compaction.enabled = auto_compact;
  auto sink = NewDeltaSink(fs, root, table_options);
  if (!sink.ok()) {
    r.error = sink.status().ToString();
    return r;
  }
  EngineOptions o;
  o.flush_threads = 0;
  o.clock = &clock;
  o.writer_id = "small-files-bench";
  o.host = "bench-host";
  o.error_handler = [&r](const Status& st) { r.error = st.ToString(); };
  // Stop() waits for the background compactions of the last rounds too.
  o.stop_timeout = std::chrono::minutes(10);
  auto engine = Engine::Open(o, std::move(sink).value()).value();
  LoggerOptions lo;
  lo.flush_interval = std::chrono::milliseconds(kIntervalMicros / 1000);
  lo.capacity_events = 16384;
  if (adaptive) {
    lo.target_file_bytes = 8 << 20;
    lo.max_latency = std::chrono::seconds(60);
  }
  std::vector<Logger> loggers;
  for (int p = 0; p < load.pipelines; ++p) {
    loggers.push_back(engine->GetLogger("pipeline_" + std::to_string(p), lo).value());
  }
  std::vector<int64_t> credit(load.pipelines, 0);
  for (int64_t t = 0; t < load.ticks(); ++t) {
    for (int p = 0; p < load.pipelines; ++p) {
      // Pipelines start staggered by 250 ms, as real jobs do.
      if (t * kTickMicros < int64_t{p} * 250'000) continue;
      credit[p] += load.per_tick_x100();
      while (credit[p] >= 100) {
        credit[p] -= 100;
        (void)loggers[p].Log(Level::kInfo, "transform", "RUNNING", kMessage);
        ++r.logged;
      }
    }
    clock.AdvanceMicros(kTickMicros);
    auto rounds = engine->RunDueRounds();
    if (!rounds.ok()) r.error = rounds.status().ToString();
  }
  Status st = engine->Stop();
  if (!st.ok()) r.error = st.ToString();
  for (const Logger& l : loggers) r.dropped += static_cast<int64_t>(l.stats().dropped_total());
  engine.reset();
  st = ReadBack(fs, root, &r);
  if (!st.ok()) r.error = st.ToString();
  tables->Done();
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// One buffer per pipeline, each flushing on its own interval: one Append (file + commit) per
// flush of one pipeline. The buffer is a plain vector; only the table writes are compared.
Outcome RunNaive(const Load& load, Tables* tables) {
  Outcome r;
  auto t0 = std::chrono::steady_clock::now();
  auto [fs, root] = tables->Fresh("naive");
  auto opened = DeltaTable::Open(fs, root, DeltaTableOptions{});
  if (!opened.ok()) {
    r.error = opened.status().ToString();
    return r;
  }
  std::unique_ptr<DeltaTable> table = std::move(opened).value();
  std::vector<int64_t> credit(load.pipelines, 0), oldest(load.pipelines, -1);
  std::vector<std::vector<LogEvent>> buffers(load.pipelines);
  std::vector<const LogEvent*> batch;
  auto flush = [&](int p) {
    batch.clear();
    for (const LogEvent& e : buffers[p]) batch.push_back(&e);
    auto committed = table->Append(batch);
    if (!committed.ok()) r.error = committed.status().ToString();
    buffers[p].clear();
  };
  for (int64_t t = 0; t < load.ticks(); ++t) {
    const int64_t now = ManualClock::kDefaultStartMicros + t * kTickMicros;
    for (int p = 0; p < load.pipelines; ++p) {
      if (t * kTickMicros < int64_t{p} * 250'000) continue;
      credit[p] += load.per_tick_x100();
      while (credit[p] >= 100) {
        credit[p] -= 100;
        if (buffers[p].empty()) oldest[p] = now;
        LogEvent& e = buffers[p].emplace_back();
        e.pipeline = "pipeline_" + std::to_string(p);
        e.ts_micros = now;
        e.level = Level::kInfo;
        e.stage = "transform";
        e.status = "RUNNING";
        e.message = kMessage;
        e.host = "bench-host";
        ++r.logged;
      }
      if (!buffers[p].empty() && now + kTickMicros - oldest[p] >= kIntervalMicros) flush(p);
    }
  }
  for (int p = 0; p < load.pipelines; ++p) {
    if (!buffers[p].empty()) flush(p);
  }
  table.reset();
  Status st = ReadBack(fs, root, &r);
  if (!st.ok()) r.error = st.ToString();
  tables->Done();
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<const char*> args;
  const char* disk = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--disk") == 0 && i + 1 < argc) {
      disk = argv[++i];
    } else {
      args.push_back(argv[i]);
    }
  }
  Load load{args.size() > 0 ? std::atoi(args[0]) : 20, args.size() > 1 ? std::atoi(args[1]) : 100,
            args.size() > 2 ? std::atoi(args[2]) : 3600};
  std::printf(
      "small files: %d pipelines x %d events/s for %d simulated s, 5 s interval; real "
      "Delta tables on %s\n\n",
      load.pipelines, load.rate, load.seconds, disk ? disk : "an in-memory file system");
  Tables tables(disk);
  Outcome fixed = RunLakelog(load, false, &tables);
  Outcome adaptive = RunLakelog(load, true, &tables);
  Outcome compacted = RunLakelog(load, false, &tables, /*auto_compact=*/true);
  Outcome naive = RunNaive(load, &tables);

  std::printf("%-40s %8s %8s %9s %10s %9s %10s %9s %9s %7s\n", "design (read back from the table)",
              "commits", "files", "max/part", "rows", "rows/file", "KiB/file", "data MiB",
              "log KiB", "wall s");
  auto print = [](const char* name, const Outcome& r) {
    std::printf("%-40s %8ld %8ld %9ld %10ld %9.0f %10.1f %9.1f %9.1f %7.1f\n", name,
                (long)r.commits, (long)r.files, (long)r.max_partition_files, (long)r.rows,
                r.files ? double(r.rows) / r.files : 0.0,
                r.files ? r.data_bytes / 1024.0 / r.files : 0.0, r.data_bytes / 1048576.0,
                r.log_bytes / 1024.0, r.wall_s);
  };
  print("lakelog group commit, fixed 5 s", fixed);
  print("lakelog group commit, adaptive (<= 60 s)", adaptive);
  print("lakelog fixed 5 s + auto-compaction", compacted);
  print("naive buffer per pipeline, 5 s", naive);
  bool ok = true;
  for (const Outcome* r : {&fixed, &adaptive, &compacted, &naive}) {
    if (!r->error.empty()) {
      std::printf("ERROR: %s\n", r->error.c_str());
      ok = false;
    }
    // Every event logged is a row of the table, or counted as dropped.
    if (r->rows + r->dropped != r->logged) {
      std::printf("MISMATCH: logged %ld, rows %ld, dropped %ld\n", (long)r->logged, (long)r->rows,
                  (long)r->dropped);
      ok = false;
    }
  }
  auto ratio = [](int64_t a, int64_t b) { return b ? double(a) / double(b) : 0.0; };
  std::printf("\nratios naive / lakelog        %12s %12s\n", "fixed 5 s", "adaptive");
  std::printf("  commits                     %11.1fx %11.1fx\n",
              ratio(naive.commits, fixed.commits), ratio(naive.commits, adaptive.commits));
  std::printf("  files                       %11.1fx %11.1fx\n", ratio(naive.files, fixed.files),
              ratio(naive.files, adaptive.files));
  std::printf("  _delta_log bytes            %11.1fx %11.1fx\n",
              ratio(naive.log_bytes, fixed.log_bytes), ratio(naive.log_bytes, adaptive.log_bytes));
  std::printf("  data bytes                  %11.2fx %11.2fx\n",
              ratio(naive.data_bytes, fixed.data_bytes),
              ratio(naive.data_bytes, adaptive.data_bytes));
  std::printf("dropped: fixed %ld, adaptive %ld, auto-compaction %ld\n", (long)fixed.dropped,
              (long)adaptive.dropped, (long)compacted.dropped);
  // The table-health target: at most 10 live files per (pipeline, log_date) partition after
  // one simulated hour with auto-compaction.
  std::printf("auto-compaction: at most %ld live files per partition (target <= 10): %s\n",
              (long)compacted.max_partition_files,
              compacted.max_partition_files <= 10 ? "met" : "NOT met");
  return ok ? 0 : 1;
}
