// The engine with a write-ahead log: durable acknowledgement (Sync), replay on start with
// exactly-once commits, writer ids per WAL directory, and a sink that is down at start.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "flush/test_sinks.h"
#include "lakelog/delta_sink.h"
#include "lakelog/delta_table.h"
#include "lakelog/engine.h"
#include "query/table_scan.h"
#include "storage/fault_injection_file_system.h"
#include "storage/mem_file_system.h"

namespace lakelog {
namespace {

// The value of `r`; a failed Result ends the test binary with its status (the tests below
// cannot go on without it).
template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) {
    std::fprintf(stderr, "unexpected error: %s\n", r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r).value();
}

// Every event's message is its unique number; returns message -> how many rows carry it.
std::map<std::string, int> RowsByMessage(FileSystem* fs, const std::string& table) {
  std::map<std::string, int> out;
  auto snap = ReadDeltaSnapshot(fs, table);
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  if (!snap.ok()) return out;
  Status st = query::ScanTable(fs, table, *snap, [&](const query::ScannedRow& row) {
    ++out[row.message.value_or("<null>")];
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

// A Delta sink whose commits land but whose acknowledgements are lost: every Write() returns
// an I/O error after the table took it (an ambiguous failure, like a timeout after the
// commit). The engine keeps retrying; the events stay in its WAL.
class AckLosingSink final : public Sink {
 public:
  explicit AckLosingSink(std::unique_ptr<Sink> inner) : inner_(std::move(inner)) {}
  void Attach(const SinkAttachContext& ctx) override { inner_->Attach(ctx); }
  std::string_view name() const override { return "ack-losing"; }
  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    Status st = inner_->Write(events, ctx);
    if (!st.ok()) return st;
    return Status::IOError("connection reset after the commit");
  }
  Status Flush(std::chrono::milliseconds t) override { return inner_->Flush(t); }
  Result<int64_t> CommittedRound(std::string_view id) override {
    return inner_->CommittedRound(id);
  }

 private:
  std::unique_ptr<Sink> inner_;
};

class EngineWalTest : public ::testing::Test {
 protected:
  EngineOptions WalOptions(WalSyncMode mode = WalSyncMode::kGroupCommit) {
    EngineOptions o;
    o.wal_dir = wal_;
    o.wal.sync_mode = mode;
    o.wal.segment_bytes = 32 << 10;  // many segments, so deletion is exercised
    o.wal_fs = &fs_;
    o.host = "test-host";
    o.retry_initial_backoff = std::chrono::milliseconds(1);
    o.retry_max_backoff = std::chrono::milliseconds(5);
    o.error_handler = [this](const Status& st) {
      std::lock_guard<std::mutex> l(errors_mu_);
      errors_.push_back(st.ToString());
    };
    return o;
  }
  static void LogNumbered(Engine* engine, int from, int to) {
    Logger a = engine->GetLogger("alpha").value();
    Logger b = engine->GetLogger("beta").value();
    for (int i = from; i < to; ++i) {
      ASSERT_EQ((i % 2 ? a : b).Info("stage", "SUCCESS", std::to_string(i)), LogResult::kAccepted);
    }
  }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> l(errors_mu_);
    return errors_;
  }

  MemFileSystem fs_;
  std::string table_ = "/table";
  std::string wal_ = "/wal";
  int case_ = 0;
  std::mutex errors_mu_;
  std::vector<std::string> errors_;
};

TEST_F(EngineWalTest, SyncAcknowledgesDurableEventsAndStopCommitsThemOnce) {
  for (WalSyncMode mode : {WalSyncMode::kNone, WalSyncMode::kInterval, WalSyncMode::kGroupCommit}) {
    SCOPED_TRACE(std::string(WalSyncModeName(mode)));
    table_ = "/table-" + std::to_string(++case_);
    wal_ = "/wal-" + std::to_string(case_);
    auto engine = Must(Engine::Open(WalOptions(mode), NewDeltaSink(&fs_, table_).value()));
    LogNumbered(engine.get(), 0, 500);
    ASSERT_TRUE(engine->Sync().ok());
    Engine::WalInfo info = engine->wal_info();
    EXPECT_TRUE(info.enabled);
    if (mode == WalSyncMode::kGroupCommit) {
      EXPECT_GE(info.durable_sequence, 500u);
    }
    ASSERT_TRUE(engine->Stop().ok());
    auto rows = RowsByMessage(&fs_, table_);
    ASSERT_EQ(rows.size(), 500u);
    for (const auto& [message, count] : rows) EXPECT_EQ(count, 1) << message;
    EXPECT_GE(engine->wal_info().committed_sequence, 500u);
  }
}

TEST_F(EngineWalTest, CommittedSegmentsAreDeleted) {
  auto engine = Must(Engine::Open(WalOptions(), NewDeltaSink(&fs_, table_).value()));
  for (int round = 0; round < 10; ++round) {
    LogNumbered(engine.get(), round * 200, round * 200 + 200);
    ASSERT_TRUE(engine->Flush().ok());
  }
  auto names = fs_.ListDir(wal_).value();
  int segments = 0;
  for (const auto& n : names) segments += n.ends_with(".wal");
  // 2000 events of ~60 bytes roll 32 KiB segments a few times; only the newest remains.
  EXPECT_EQ(segments, 1) << names.size();
  ASSERT_TRUE(engine->Stop().ok());
}

TEST_F(EngineWalTest, EventsOfASinkThatNeverAnsweredAreCommittedByTheNextEngine) {
  auto log = std::make_shared<testing::SinkLog>();
  std::string first_writer;
  {
    auto down = std::make_unique<testing::FailingSink>(log, -1, Status::Unavailable("down"));
    auto engine = Must(Engine::Open(WalOptions(), std::move(down)));
    first_writer = engine->writer_id();
    LogNumbered(engine.get(), 0, 300);
    ASSERT_TRUE(engine->Sync().ok());  // durable, though the sink has nothing
    Status st = engine->Stop(StopOptions{.timeout = std::chrono::milliseconds(200)});
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
    EXPECT_NE(st.ToString().find("kept in the WAL"), std::string::npos) << st.ToString();
    EXPECT_EQ(engine->wal_info().events_left_in_wal, 300);
    // Kept in the WAL is not dropped.
    EXPECT_EQ(engine->Stats("alpha")->dropped_total(), 0u);
  }
  auto engine = Must(Engine::Open(WalOptions(), NewDeltaSink(&fs_, table_).value()));
  EXPECT_EQ(engine->writer_id(), first_writer);  // the id belongs to the WAL directory
  LogNumbered(engine.get(), 300, 400);
  ASSERT_TRUE(engine->Flush().ok());
  Engine::WalInfo info = engine->wal_info();
  EXPECT_TRUE(info.recovered);
  EXPECT_EQ(info.replayed_events, 300);
  ASSERT_TRUE(engine->Stop().ok());
  auto rows = RowsByMessage(&fs_, table_);
  ASSERT_EQ(rows.size(), 400u);
  for (const auto& [message, count] : rows) EXPECT_EQ(count, 1) << message;
}

TEST_F(EngineWalTest, ReplayCommitsOnlyWhatTheSinkDoesNotHold) {
  // The first engine's commits land but it never learns so: all its events stay in the WAL.
  {
    auto sink = std::make_unique<AckLosingSink>(NewDeltaSink(&fs_, table_).value());
    auto engine = Must(Engine::Open(WalOptions(), std::move(sink)));
    LogNumbered(engine.get(), 0, 200);
    ASSERT_TRUE(engine->Sync().ok());
    EXPECT_FALSE(engine->Stop(StopOptions{.timeout = std::chrono::milliseconds(200)}).ok());
  }
  EXPECT_EQ(RowsByMessage(&fs_, table_).size(), 200u);  // landed, unacknowledged
  auto engine = Must(Engine::Open(WalOptions(), NewDeltaSink(&fs_, table_).value()));
  ASSERT_TRUE(engine->Flush().ok());
  EXPECT_EQ(engine->wal_info().replayed_events, 0);  // the table's txn covers all of them
  LogNumbered(engine.get(), 200, 250);
  ASSERT_TRUE(engine->Stop().ok());
  auto rows = RowsByMessage(&fs_, table_);
  ASSERT_EQ(rows.size(), 250u);
  for (const auto& [message, count] : rows) EXPECT_EQ(count, 1) << message;
}

TEST_F(EngineWalTest, TwoWalDirectoriesNeverShareAWriterId) {
  EngineOptions a = WalOptions();
  EngineOptions b = WalOptions();
  a.writer_id = b.writer_id = "same-name";
  b.wal_dir = "/wal-b";
  auto ea = Must(
      Engine::Open(a, std::make_unique<testing::MemorySink>(std::make_shared<testing::SinkLog>())));
  auto eb = Must(
      Engine::Open(b, std::make_unique<testing::MemorySink>(std::make_shared<testing::SinkLog>())));
  EXPECT_NE(ea->writer_id(), eb->writer_id());
  EXPECT_TRUE(ea->writer_id().starts_with("same-name-wal-"));
  EXPECT_TRUE(eb->writer_id().starts_with("same-name-wal-"));
}

TEST_F(EngineWalTest, TwoEnginesNeverShareOneWalDirectory) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("lakelog_engine_wal_lock_" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  EngineOptions o = WalOptions();
  o.wal_fs = PosixFileSystem();
  o.wal_dir = dir;
  auto log = std::make_shared<testing::SinkLog>();
  auto first = Must(Engine::Open(o, std::make_unique<testing::MemorySink>(log)));
  auto second = Engine::Open(o, std::make_unique<testing::MemorySink>(log));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().ToString().find(dir), std::string::npos);
  ASSERT_TRUE(first->Stop().ok());
  auto third = Engine::Open(o, std::make_unique<testing::MemorySink>(log));
  EXPECT_TRUE(third.ok()) << third.status().ToString();
  if (third.ok()) {
    EXPECT_TRUE((*third)->Stop().ok());
  }
  std::filesystem::remove_all(dir);
}

TEST_F(EngineWalTest, WalSeriesAreExported) {
  auto engine = Must(Engine::Open(WalOptions(), NewDeltaSink(&fs_, table_).value()));
  LogNumbered(engine.get(), 0, 300);
  ASSERT_TRUE(engine->Flush().ok());
  const std::string text = engine->MetricsText();
  auto value = [&](const std::string& name) {
    const size_t at = text.find("\n" + name + " ");
    EXPECT_NE(at, std::string::npos) << name << " missing in\n" << text;
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + name.size() + 2));
  };
  EXPECT_EQ(value("lakelog_wal_records_appended_total"), 300);
  EXPECT_EQ(value("lakelog_wal_append_failures_total"), 0);
  EXPECT_GE(value("lakelog_wal_syncs_total"), 1);
  EXPECT_EQ(value("lakelog_wal_durable_sequence"), 300);
  EXPECT_EQ(value("lakelog_wal_committed_sequence"), 300);
  EXPECT_EQ(value("lakelog_wal_uncommitted_records"), 0);
  EXPECT_GE(value("lakelog_wal_segments"), 1);
  ASSERT_TRUE(engine->Stop().ok());

  EngineOptions plain = WalOptions();
  plain.wal_dir.clear();
  auto no_wal = Must(Engine::Open(
      plain, std::make_unique<testing::MemorySink>(std::make_shared<testing::SinkLog>())));
  EXPECT_EQ(no_wal->MetricsText().find("lakelog_wal_"), std::string::npos);
}

TEST_F(EngineWalTest, AnUnfinishedIngestsDirectoryIsRefused) {
  ASSERT_TRUE(fs_.CreateDirs(wal_).ok());
  ASSERT_TRUE(fs_.WriteFileAtomic(wal_ + "/ingest.json",
                                  R"({"app_id":"x","table":"/logs","input":"in.ndjson"})")
                  .ok());
  ASSERT_TRUE(fs_.WriteFile(wal_ + "/000001.wal", "journal records", true).ok());
  auto log = std::make_shared<testing::SinkLog>();
  auto engine = Engine::Open(WalOptions(), std::make_unique<testing::MemorySink>(log));
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kInvalidArgument);
  // The next step, with the ingest's own table.
  EXPECT_NE(engine.status().ToString().find("`lakelog recover --table /logs --wal /wal`"),
            std::string::npos)
      << engine.status().ToString();
  // Nothing was written into the directory.
  auto names = fs_.ListDir(wal_).value();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"000001.wal", "ingest.json"}));
  EXPECT_EQ(log->num_writes(), 0u);
}

// Segment files (or anything else) without engine.json are not this engine's: adopting them
// would strand their events (a new writer id never replays them) and then delete them.
TEST_F(EngineWalTest, FilesWithoutEngineJsonAreRefusedAndLeftUntouched) {
  std::mt19937_64 rng(3);
  std::string random(4096, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"000001.wal", random}, {"000001.wal", "plain text\n"}, {"notes.txt", "hello"}}) {
    SCOPED_TRACE(name);
    wal_ = "/wal-" + std::to_string(++case_);
    ASSERT_TRUE(fs_.CreateDirs(wal_).ok());
    ASSERT_TRUE(fs_.WriteFile(wal_ + "/" + name, bytes, true).ok());
    auto log = std::make_shared<testing::SinkLog>();
    auto engine = Engine::Open(WalOptions(), std::make_unique<testing::MemorySink>(log));
    ASSERT_FALSE(engine.ok());
    EXPECT_EQ(engine.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(engine.status().message().find(name + " but no engine.json"), std::string::npos)
        << engine.status().ToString();
    EXPECT_EQ(fs_.ListDir(wal_).value(), std::vector<std::string>{name});
    std::string after;
    ASSERT_TRUE(fs_.ReadFile(wal_ + "/" + name, &after).ok());
    EXPECT_EQ(after, bytes);
    EXPECT_EQ(log->num_writes(), 0u);
  }
}

// A random file named like a segment in the engine's own WAL is no "0 damaged records": it is
// counted, reported, and kept in damaged/, while every real event commits exactly once.
TEST_F(EngineWalTest, ARandomSegmentInTheEnginesWalIsCountedAndKeptAside) {
  {
    auto engine = Must(Engine::Open(WalOptions(), NewDeltaSink(&fs_, table_).value()));
    LogNumbered(engine.get(), 0, 100);
    ASSERT_TRUE(engine->Stop().ok());
  }
  std::mt19937_64 rng(5);
  std::string random(4096, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  ASSERT_TRUE(fs_.WriteFile(wal_ + "/000099.wal", random, true).ok());

  auto engine = Must(Engine::Open(WalOptions(), NewDeltaSink(&fs_, table_).value()));
  LogNumbered(engine.get(), 100, 200);
  ASSERT_TRUE(engine->Flush().ok());
  EXPECT_EQ(engine->wal_info().corrupt_records, 1u);
  EXPECT_GE(engine->wal_info().corrupt_bytes, random.size());
  ASSERT_TRUE(engine->Stop().ok());
  bool reported = false;
  for (const std::string& e : errors()) {
    reported |= e.find("000099.wal") != std::string::npos &&
                e.find("/wal/damaged/000099.wal") != std::string::npos;
  }
  EXPECT_TRUE(reported);
  std::string kept;
  ASSERT_TRUE(fs_.ReadFile(wal_ + "/damaged/000099.wal", &kept).ok());
  EXPECT_EQ(kept, random);
  EXPECT_FALSE(fs_.Exists(wal_ + "/000099.wal"));
  auto rows = RowsByMessage(&fs_, table_);
  ASSERT_EQ(rows.size(), 200u);
  for (const auto& [message, count] : rows) EXPECT_EQ(count, 1) << message;
}

TEST_F(EngineWalTest, DamagedEngineJsonIsACorruptionError) {
  ASSERT_TRUE(fs_.CreateDirs(wal_).ok());
  ASSERT_TRUE(fs_.WriteFileAtomic(wal_ + "/engine.json", "{\"writer\":").ok());
  auto engine = Engine::Open(
      WalOptions(), std::make_unique<testing::MemorySink>(std::make_shared<testing::SinkLog>()));
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kCorruption);
}

// Start-up problems: the table cannot be created (unwritable directory, full disk). Open()
// succeeds, the error reaches the handler, events wait in the WAL and the buffer, and once the
// storage recovers everything is committed exactly once.
TEST_F(EngineWalTest, UnwritableTableAtStartKeepsEventsUntilItRecovers) {
  for (FaultKind kind : {FaultKind::kIOError, FaultKind::kNoSpace}) {
    SCOPED_TRACE(std::string(FaultKindName(kind)));
    table_ = "/table-" + std::to_string(++case_);
    wal_ = "/wal-" + std::to_string(case_);
    {
      std::lock_guard<std::mutex> l(errors_mu_);
      errors_.clear();
    }
    FaultInjectionFileSystem table_fs(&fs_);
    // The directory cannot be made and nothing in it can be written.
    for (FaultOp op : {FaultOp::kCreateDirs, FaultOp::kPutIfAbsent, FaultOp::kOpenWrite}) {
      table_fs.AddRule(FaultRule{.op = op, .path_contains = table_, .times = -1, .kind = kind});
    }
    auto sink = NewDeltaSink(&table_fs, table_);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    auto engine = Must(Engine::Open(WalOptions(), std::move(sink).value()));
    LogNumbered(engine.get(), 0, 100);
    ASSERT_TRUE(engine->Sync().ok());  // durable in the WAL while the table is unwritable
    EXPECT_EQ(engine->Flush(std::chrono::milliseconds(100)).code(), StatusCode::kTimedOut);
    auto seen = errors();
    ASSERT_FALSE(seen.empty());
    EXPECT_NE(seen.front().find(table_), std::string::npos) << seen.front();
    table_fs.ClearRules();  // the operator fixed the permissions / freed space
    ASSERT_TRUE(engine->Flush().ok());
    ASSERT_TRUE(engine->Stop().ok());
    auto rows = RowsByMessage(&fs_, table_);
    ASSERT_EQ(rows.size(), 100u);
    for (const auto& [message, count] : rows) EXPECT_EQ(count, 1) << message;
  }
}

TEST_F(EngineWalTest, NotALakelogTableIsStillAnErrorAtOpen) {
  ASSERT_TRUE(fs_.CreateDirs(table_ + "/_delta_log").ok());
  ASSERT_TRUE(fs_.WriteFileAtomic(table_ + "/_delta_log/00000000000000000000.json", "{").ok());
  EXPECT_FALSE(NewDeltaSink(&fs_, table_).ok());
}

TEST_F(EngineWalTest, WithoutAWalSyncIsFlush) {
  auto log = std::make_shared<testing::SinkLog>();
  EngineOptions o;
  auto engine = Must(Engine::Open(o, std::make_unique<testing::MemorySink>(log)));
  (void)engine->GetLogger("p").value().Info("s", "SUCCESS", "m");
  ASSERT_TRUE(engine->Sync().ok());
  EXPECT_EQ(log->num_events(), 1u);
  EXPECT_FALSE(engine->wal_info().enabled);
}

}  // namespace
}  // namespace lakelog
