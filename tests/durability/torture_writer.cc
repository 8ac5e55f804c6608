// lakelog_torture_writer: the process the kill -9 torture harness (tests/durability/torture.py)
// kills. It opens an engine with a WAL on a Delta table (replaying what the previous, killed
// trial left), then several threads log uniquely numbered events into several pipelines and,
// every few events, call Engine::Sync() and print what is now acknowledged:
//
//   ack <trial> <thread> <seq>     every event <trial>:<thread>:<n> with n <= seq is durable
//
// It runs until killed: by the harness's SIGKILL at a random moment, or by itself, with
// --die-at KIND:N, at the N-th file-system call of KIND, right before the call — inside a WAL
// append, a segment roll, a WAL fsync, a data-file write or a Delta commit.
//   KIND = wal-append | segment-roll | wal-sync | data-file | commit
// --drain opens the engine, lets it replay, flushes and stops cleanly (the final check).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lakelog/delta_sink.h"
#include "lakelog/engine.h"
#include "lakelog/file_system.h"

namespace {

using lakelog::FileInfo;
using lakelog::FileSystem;
using lakelog::RandomAccessFile;
using lakelog::Result;
using lakelog::Status;
using lakelog::WritableFile;

enum class Point { kNone, kWalAppend, kSegmentRoll, kWalSync, kDataFile, kCommit };

bool EndsWith(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// Counts the calls of one kind and SIGKILLs the process at the chosen one.
class Tripwire {
 public:
  Tripwire(Point point, long at) : point_(point), at_(at) {}
  void Hit(Point p) {
    if (p != point_ || at_ <= 0) return;
    if (count_.fetch_add(1) + 1 == at_) {
      std::fflush(stdout);
      ::kill(::getpid(), SIGKILL);
    }
  }

 private:
  const Point point_;
  const long at_;
  std::atomic<long> count_{0};
};

class TripFile final : public WritableFile {
 public:
  TripFile(std::unique_ptr<WritableFile> file, std::string path, Tripwire* wire)
      : file_(std::move(file)), path_(std::move(path)), wire_(wire) {}
  Status Append(std::string_view data) override {
    if (EndsWith(path_, ".wal")) wire_->Hit(Point::kWalAppend);
    if (EndsWith(path_, ".parquet")) wire_->Hit(Point::kDataFile);
    return file_->Append(data);
  }
  Status Sync() override {
    if (EndsWith(path_, ".wal")) wire_->Hit(Point::kWalSync);
    return file_->Sync();
  }
  Status Close() override { return file_->Close(); }
  uint64_t Size() const override { return file_->Size(); }

 private:
  std::unique_ptr<WritableFile> file_;
  std::string path_;
  Tripwire* wire_;
};

// PosixFileSystem with the tripwire in front of the calls named above.
class TripFileSystem final : public FileSystem {
 public:
  TripFileSystem(FileSystem* target, Tripwire* wire) : target_(target), wire_(wire) {}
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    if (EndsWith(path, ".wal")) wire_->Hit(Point::kSegmentRoll);
    auto file = target_->NewWritableFile(path);
    if (!file.ok()) return file.status();
    return std::unique_ptr<WritableFile>(new TripFile(std::move(file).value(), path, wire_));
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    auto file = target_->NewAppendableFile(path);
    if (!file.ok()) return file.status();
    return std::unique_ptr<WritableFile>(new TripFile(std::move(file).value(), path, wire_));
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    return target_->NewRandomAccessFile(path);
  }
  Status PutIfAbsent(const std::string& path, std::string_view data) override {
    if (path.find("_delta_log") != std::string::npos) wire_->Hit(Point::kCommit);
    return target_->PutIfAbsent(path, data);
  }
  Status WriteFileAtomic(const std::string& path, std::string_view data) override {
    return target_->WriteFileAtomic(path, data);
  }
  Status CreateDirs(const std::string& path) override { return target_->CreateDirs(path); }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return target_->ListDir(path);
  }
  Result<FileInfo> Stat(const std::string& path) override { return target_->Stat(path); }
  Status DeleteFile(const std::string& path) override { return target_->DeleteFile(path); }
  Status DeleteDir(const std::string& path) override { return target_->DeleteDir(path); }
  Status SyncDir(const std::string& path) override { return target_->SyncDir(path); }
  Result<std::unique_ptr<lakelog::FileLock>> LockFile(const std::string& path) override {
    return target_->LockFile(path);
  }

 private:
  FileSystem* target_;
  Tripwire* wire_;
};

struct Args {
  std::string table, wal, sync = "group";
  int trial = 0, threads = 3, pipelines = 4, ack_every = 50;
  Point die_point = Point::kNone;
  long die_at = 0;
  bool drain = false;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr, "lakelog_torture_writer: %s (see --help)\n", why);
  std::exit(2);
}

// Exits on --help (0) or a usage error (2, with CLI11's message).
Args Parse(int argc, char** argv) {
  Args a;
  std::string die_at;
  CLI::App app{"The process tests/durability/torture.py kills (see the head of this file)."};
  app.add_option("--table", a.table, "Delta table directory")->required();
  app.add_option("--wal", a.wal, "WAL directory")->required();
  app.add_option("--trial", a.trial, "trial number, part of every event's message");
  app.add_option("--threads", a.threads, "logging threads")->check(CLI::Range(1, 1000000));
  app.add_option("--pipelines", a.pipelines, "pipelines")->check(CLI::Range(1, 1000000));
  app.add_option("--sync", a.sync, "WAL sync mode: none, interval or group");
  app.add_option("--ack-every", a.ack_every, "events between two Sync() calls")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--die-at", die_at,
                 "KIND:N, KIND one of wal-append, segment-roll, wal-sync, data-file, commit");
  app.add_flag("--drain", a.drain, "replay, flush and stop cleanly");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  if (!die_at.empty()) {
    const size_t colon = die_at.find(':');
    if (colon == std::string::npos) Usage("--die-at wants KIND:N");
    const std::string kind = die_at.substr(0, colon);
    a.die_at = std::atol(die_at.c_str() + colon + 1);
    if (kind == "wal-append") {
      a.die_point = Point::kWalAppend;
    } else if (kind == "segment-roll") {
      a.die_point = Point::kSegmentRoll;
    } else if (kind == "wal-sync") {
      a.die_point = Point::kWalSync;
    } else if (kind == "data-file") {
      a.die_point = Point::kDataFile;
    } else if (kind == "commit") {
      a.die_point = Point::kCommit;
    } else {
      Usage("unknown --die-at kind");
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  Tripwire wire(args.die_point, args.die_at);
  TripFileSystem fs(lakelog::PosixFileSystem(), &wire);

  lakelog::EngineOptions options;
  options.wal_dir = args.wal;
  options.wal_fs = &fs;
  options.wal.segment_bytes = 64 << 10;  // frequent segment rolls
  if (!lakelog::ParseWalSyncMode(args.sync, &options.wal.sync_mode)) Usage("unknown --sync");
  options.wal.sync_interval_ms = 20;
  options.flush_threads = 2;
  options.retry_initial_backoff = std::chrono::milliseconds(5);
  options.retry_max_backoff = std::chrono::milliseconds(100);
  options.error_handler = [](const Status& st) {
    std::fprintf(stderr, "torture_writer: %s\n", st.ToString().c_str());
  };
  auto sink = lakelog::NewDeltaSink(&fs, args.table);
  if (!sink.ok()) {
    std::fprintf(stderr, "torture_writer: %s\n", sink.status().ToString().c_str());
    return 1;
  }
  auto opened = lakelog::Engine::Open(options, std::move(sink).value());
  if (!opened.ok()) {
    std::fprintf(stderr, "torture_writer: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<lakelog::Engine> engine = std::move(opened).value();

  if (args.drain) {
    Status st = engine->Flush(std::chrono::seconds(120));
    lakelog::Engine::WalInfo info = engine->wal_info();
    Status stopped = engine->Stop();
    std::printf("drained replayed=%lld corrupt=%llu\n",
                static_cast<long long>(info.replayed_events),
                static_cast<unsigned long long>(info.corrupt_records));
    if (!st.ok() || !stopped.ok()) {
      std::fprintf(stderr, "torture_writer: drain: %s / %s\n", st.ToString().c_str(),
                   stopped.ToString().c_str());
      return 1;
    }
    return 0;
  }

  // Small batches and short intervals: flushes, commits and WAL rolls happen all the time.
  lakelog::LoggerOptions logger_options;
  logger_options.flush_interval = std::chrono::milliseconds(100);
  logger_options.batch_events = 1000;
  logger_options.overflow = lakelog::OverflowPolicy::kBlock;
  logger_options.block_timeout = std::chrono::seconds(60);
  std::vector<lakelog::Logger> loggers;
  for (int p = 0; p < args.pipelines; ++p) {
    auto logger = engine->GetLogger("torture_" + std::to_string(p), logger_options);
    if (!logger.ok()) return 1;
    loggers.push_back(*logger);
  }
  std::mutex out_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < args.threads; ++t) {
    threads.emplace_back([&, t] {
      char message[64];
      for (long seq = 1;; ++seq) {
        std::snprintf(message, sizeof(message), "%d:%d:%ld", args.trial, t, seq);
        lakelog::Logger& logger = loggers[(t + seq) % loggers.size()];
        if (logger.Info("torture", "SUCCESS", message) != lakelog::LogResult::kAccepted) {
          std::fprintf(stderr, "torture_writer: event %s not accepted\n", message);
          std::exit(1);
        }
        if (seq % args.ack_every == 0) {
          Status st = engine->Sync(std::chrono::seconds(60));
          if (!st.ok()) {
            std::fprintf(stderr, "torture_writer: sync: %s\n", st.ToString().c_str());
            continue;  // not acknowledged; keep going
          }
          std::lock_guard<std::mutex> lock(out_mu);
          std::printf("ack %d %d %ld\n", args.trial, t, seq);
          std::fflush(stdout);
        }
      }
    });
  }
  for (auto& th : threads) th.join();  // never: the process is killed
  return 0;
}
