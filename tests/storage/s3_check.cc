// lakelog_s3_check: the S3 file system against a real S3 server (tests/storage/
// test_s3_file_system.py starts s3proxy and runs it). The endpoint and credentials come from
// the AWS_* environment variables, the bucket from LAKELOG_S3_BUCKET.
//
//   lakelog_s3_check contract PREFIX                  FileSystem contract checks; exit 1 on a
//   failure lakelog_s3_check append ROOT ROUNDS EVENTS        ROUNDS Delta commits of EVENTS events
//   each lakelog_s3_check concurrent ROOT WRITERS COMMITS  WRITERS threads, each its own
//   DeltaTable,
//                                                     COMMITS commits each; prints a JSON summary
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/event.h"
#include "lakelog/s3_file_system.h"

namespace lakelog {
namespace {

int failures = 0;

void Check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

std::unique_ptr<FileSystem> OpenFs() {
  const char* bucket = std::getenv("LAKELOG_S3_BUCKET");
  auto options = S3OptionsFromEnvironment(bucket ? bucket : "");
  if (!options.ok()) {
    std::fprintf(stderr, "%s\n", options.status().ToString().c_str());
    std::exit(2);
  }
  options->part_size = 5ull << 20;
  auto fs = NewS3FileSystem(*options);
  if (!fs.ok()) {
    std::fprintf(stderr, "%s\n", fs.status().ToString().c_str());
    std::exit(2);
  }
  return std::move(fs).value();
}

int Contract(const std::string& prefix) {
  auto fs = OpenFs();
  const std::string commit = prefix + "/_delta_log/00000000000000000000.json";
  Check(fs->PutIfAbsent(commit, "first").ok(), "put-if-absent creates");
  Check(fs->PutIfAbsent(commit, "second").IsAlreadyExists(),
        "put-if-absent refuses an existing key");
  std::string back;
  Check(fs->ReadFile(commit, &back).ok() && back == "first", "the first writer's bytes stay");

  // Racing conditional PUTs of one key: exactly one wins.
  std::atomic<int> winners{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Status st = fs->PutIfAbsent(prefix + "/race", "writer " + std::to_string(i));
      if (st.ok()) ++winners;
      if (st.IsAlreadyExists()) ++refused;
    });
  }
  for (auto& t : threads) t.join();
  Check(winners == 1 && refused == 7, "8 racing put-if-absent: " + std::to_string(winners.load()) +
                                          " won, " + std::to_string(refused.load()) + " refused");

  // A small object in one PUT, a large one as a multipart upload (5 MiB parts + a tail).
  for (size_t size : {size_t{1000}, (size_t{5} << 20) * 3 + 12345}) {
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
    const std::string path = prefix + "/pipeline=a b/file-" + std::to_string(size) + ".parquet";
    auto file = fs->NewWritableFile(path);
    bool ok = file.ok();
    for (size_t at = 0; ok && at < size; at += 1 << 20) {
      ok = (*file)->Append(std::string_view(data).substr(at, 1 << 20)).ok();
    }
    ok = ok && (*file)->Sync().ok() && (*file)->Close().ok();
    Check(ok, "write " + std::to_string(size) + " bytes");
    std::string read;
    Check(fs->ReadFile(path, &read).ok() && read == data,
          "read back " + std::to_string(size) + " bytes");
    auto random = fs->NewRandomAccessFile(path);
    std::string range;
    Check(random.ok() && (*random)->Size() == size &&
              (*random)->Read(size - 10, 100, &range).ok() && range == data.substr(size - 10),
          "a range read at the end of " + std::to_string(size) + " bytes");
    auto info = fs->Stat(path);
    Check(info.ok() && info->size == size && !info->is_directory && info->modification_time_ms > 0,
          "stat of " + std::to_string(size) + " bytes");
  }

  // Listing across pages (ListObjectsV2 answers 1000 keys a page).
  const std::string many = prefix + "/many";
  std::vector<std::thread> writers;
  std::atomic<int> written{0};
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < 1100; i += 8) {
        if (fs->WriteFileAtomic(many + "/f" + std::to_string(i), "x").ok()) ++written;
      }
    });
  }
  for (auto& t : writers) t.join();
  Check(fs->WriteFileAtomic(many + "/sub/deeper", "y").ok(), "a nested key");
  auto names = fs->ListDir(many);
  Check(written == 1100 && names.ok() && names->size() == 1101,
        "list 1100 keys and one prefix across pages: " +
            std::to_string(names.ok() ? names->size() : 0));
  auto dir = fs->Stat(many + "/sub");
  Check(dir.ok() && dir->is_directory, "a prefix stats as a directory");
  Check(fs->Stat(prefix + "/missing").status().IsNotFound(), "stat of a missing key: NotFound");
  Check(fs->ListDir(prefix + "/missing").status().IsNotFound(),
        "list of an empty prefix: NotFound");
  Check(fs->DeleteFile(many + "/f1").ok() && fs->Stat(many + "/f1").status().IsNotFound(),
        "delete");
  Check(fs->NewAppendableFile(prefix + "/wal").status().code() == StatusCode::kNotSupported,
        "appendable files are refused");
  return failures == 0 ? 0 : 1;
}

std::vector<LogEvent> Events(int n, const std::string& tag) {
  std::vector<LogEvent> events(n);
  for (int i = 0; i < n; ++i) {
    LogEvent& e = events[i];
    e.pipeline = i % 2 ? "ingestion" : "index loader";
    e.ts_micros = 1796000000000000 + i;
    e.stage = "stage";
    e.status = i % 5 ? "SUCCESS" : "FAILED";
    e.message = tag + "-" + std::to_string(i);
  }
  return events;
}

Status AppendRounds(FileSystem* fs, const std::string& root, int rounds, int n,
                    const std::string& tag) {
  LAKELOG_ASSIGN_OR_RETURN(auto table, DeltaTable::Open(fs, root, DeltaTableOptions{}));
  for (int r = 0; r < rounds; ++r) {
    std::vector<LogEvent> events = Events(n, tag + "-r" + std::to_string(r));
    std::vector<const LogEvent*> rows;
    for (const LogEvent& e : events) rows.push_back(&e);
    LAKELOG_RETURN_IF_ERROR(table->Append(rows).status());
  }
  return Status::OK();
}

int Append(const std::string& root, int rounds, int n) {
  auto fs = OpenFs();
  Status st = AppendRounds(fs.get(), root, rounds, n, "append");
  if (!st.ok()) std::fprintf(stderr, "%s\n", st.ToString().c_str());
  return st.ok() ? 0 : 1;
}

int Concurrent(const std::string& root, int writers, int commits) {
  auto fs = OpenFs();
  // The table exists before the writers race (creating it is a race of its own).
  Status created = AppendRounds(fs.get(), root, 0, 0, "create");
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.ToString().c_str());
    return 1;
  }
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      Status st = AppendRounds(fs.get(), root, commits, 3, "w" + std::to_string(w));
      if (!st.ok()) {
        ++failed;
        std::fprintf(stderr, "writer %d: %s\n", w, st.ToString().c_str());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto snapshot = ReadDeltaSnapshot(fs.get(), root);
  std::printf("{\"failed_writers\": %d, \"version\": %lld}\n", failed.load(),
              snapshot.ok() ? static_cast<long long>(snapshot->version) : -1LL);  // NOLINT
  return failed == 0 && snapshot.ok() ? 0 : 1;
}

// One thread writes keys 0..n-1 in order (each after the previous one landed); another lists
// meanwhile. A listing that holds key i must hold every key below it: prints the violations.
int ListingRace(const std::string& prefix, int n) {
  auto fs = OpenFs();
  std::atomic<int> written{0};
  std::thread writer([&] {
    char name[32];
    for (int i = 0; i < n; ++i) {
      std::snprintf(name, sizeof(name), "%020d.json", i);
      if (!fs->PutIfAbsent(prefix + "/" + name, "x").ok()) std::exit(3);
      written = i + 1;
    }
  });
  int violations = 0, listings = 0;
  while (written < n) {
    auto names = fs->ListDir(prefix);
    if (!names.ok()) continue;
    ++listings;
    std::vector<int> keys;
    for (const auto& name : *names) keys.push_back(std::atoi(name.c_str()));
    std::sort(keys.begin(), keys.end());
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] != static_cast<int>(i)) {
        ++violations;
        std::printf("listing %d: %zu keys, key %zu missing (next %d)\n", listings, keys.size(), i,
                    keys[i]);
        break;
      }
    }
  }
  writer.join();
  std::printf("{\"listings\": %d, \"violations\": %d}\n", listings, violations);
  return violations == 0 ? 0 : 1;
}

}  // namespace
}  // namespace lakelog

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "contract" && argc == 3) return lakelog::Contract(argv[2]);
  if (mode == "listing-race" && argc == 4) return lakelog::ListingRace(argv[2], std::atoi(argv[3]));
  if (mode == "append" && argc == 5)
    return lakelog::Append(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  if (mode == "concurrent" && argc == 5) {
    return lakelog::Concurrent(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  }
  std::fprintf(stderr, "usage: see the top of tests/storage/s3_check.cc\n");
  return 2;
}
