// A Delta table on a simulated clock (DeltaTableOptions::clock, a ManualClock): its commit
// timestamps, its backoff after lost races and its log retention all run on the clock's time,
// so a conflict storm and a 30-day retention cut-off take no real waiting.
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "common/backoff.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "delta_test_util.h"
#include "lakelog/clock.h"
#include "lakelog/delta_table.h"
#include "storage/mem_file_system.h"

namespace lakelog::delta {
namespace {

using namespace testing;

constexpr char kRoot[] = "/t";
constexpr int64_t kDayMicros = 86'400'000'000;

// Forwards to a MemFileSystem on the test's clock; before each of the next `storm` commit
// put-if-absents "another writer" takes the version with a blind append.
class StormFileSystem final : public testing::ForwardingMemFileSystem {
 public:
  explicit StormFileSystem(Clock* clock) : ForwardingMemFileSystem(clock) {}
  void Storm(int losses) {
    std::lock_guard<std::mutex> lock(mu_);
    storm_left_ = losses;
  }

  Status PutIfAbsent(const std::string& path, std::string_view data) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (storm_left_ > 0 && path.find("/_delta_log/") != std::string::npos) {
        --storm_left_;
        const std::string rival = CommitInfoLine("WRITE") + "\n" +
                                  AddLine("rival/f" + std::to_string(storm_left_), 1) + "\n";
        EXPECT_TRUE(target_.PutIfAbsent(path, rival).ok());
      }
    }
    return target_.PutIfAbsent(path, data);
  }

 private:
  std::mutex mu_;
  int storm_left_ = 0;
};

class SimulatedClockTest : public ::testing::Test {
 protected:
  void Open(std::map<std::string, std::string> configuration = {}) {
    DeltaTableOptions options;
    options.clock = &clock_;
    options.configuration = std::move(configuration);
    Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(&fs_, kRoot, options);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    table_ = std::move(table).value();
  }

  Result<DeltaCommitResult> AppendOne() {
    std::vector<LogEvent> events = {MakeEvent("p", clock_.NowMicros())};
    return table_->Append(Pointers(events));
  }

  // The commitInfo timestamp of commit `version`.
  int64_t CommitTimestampMs(int64_t version) {
    LogStore store(&fs_, kRoot);
    Result<std::string> bytes = store.ReadCommitBytes(version);
    EXPECT_TRUE(bytes.ok());
    if (!bytes.ok()) return -1;
    std::string first_line = bytes->substr(0, bytes->find('\n'));
    return nlohmann::json::parse(first_line)["commitInfo"]["timestamp"].get<int64_t>();
  }

  ManualClock clock_;
  StormFileSystem fs_{&clock_};
  std::unique_ptr<DeltaTable> table_;
};

TEST_F(SimulatedClockTest, CommitsAreStampedWithTheTablesClock) {
  Open();
  clock_.AdvanceSeconds(3600);
  Result<DeltaCommitResult> result = AppendOne();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(CommitTimestampMs(result->version), clock_.NowMicros() / 1000);
  Result<DeltaSnapshot> snapshot = table_->Snapshot();
  ASSERT_TRUE(snapshot.ok());
  ASSERT_EQ(snapshot->files.size(), 1u);
  EXPECT_EQ(snapshot->files[0].modification_time_ms, clock_.NowMicros() / 1000);
}

// The first losses in a row are retried at once (the winners were just read); only after
// CommitRetry::kImmediateRetries does the writer back off, on the simulated clock.
TEST_F(SimulatedClockTest, FirstLostRacesRetryAtOnce) {
  Open();
  fs_.Storm(CommitRetry::kImmediateRetries);
  Result<DeltaCommitResult> result = AppendOne();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->attempts, CommitRetry::kImmediateRetries + 1);
  EXPECT_EQ(result->version, CommitRetry::kImmediateRetries + 1);
  EXPECT_EQ(clock_.SleptMicros(), 0);
}

TEST_F(SimulatedClockTest, ConflictStormBacksOffOnTheClockWithoutSleeping) {
  Open();
  constexpr int kLosses = 40;
  fs_.Storm(kLosses);
  const int64_t before = clock_.NowMicros();
  Result<DeltaCommitResult> result = AppendOne();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->attempts, kLosses + 1);
  EXPECT_EQ(result->version, kLosses + 1);  // after the create and every rival
  // Every backoff went through the clock: at most the sum of the jitter ceilings.
  int64_t ceilings = 0;
  Backoff bounds(CommitRetry::kInitialBackoff, CommitRetry::kMaxBackoff, 0);
  for (int loss = CommitRetry::kImmediateRetries + 1; loss <= kLosses; ++loss) {
    ceilings += bounds.CeilingMicros(loss - CommitRetry::kImmediateRetries - 1);
  }
  EXPECT_GT(clock_.SleptMicros(), 0);
  EXPECT_LE(clock_.SleptMicros(), ceilings);
  EXPECT_EQ(clock_.NowMicros() - before, clock_.SleptMicros());
  // The commit was stamped once, on the clock, when it was built: every retry writes the same
  // bytes.
  EXPECT_EQ(CommitTimestampMs(result->version), before / 1000);
  // Every rival's rows and ours are in the table.
  Result<DeltaSnapshot> snapshot = table_->Snapshot();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->files.size(), static_cast<size_t>(kLosses + 1));
}

TEST_F(SimulatedClockTest, StormOutlastingTheAttemptsIsAConflict) {
  Open();
  fs_.Storm(1000);
  std::vector<LogEvent> events = {MakeEvent("p", clock_.NowMicros())};
  DeltaAppendOptions options;
  options.max_commit_attempts = 20;
  Result<DeltaCommitResult> result = table_->Append(Pointers(events), options);
  EXPECT_TRUE(result.status().IsConflict()) << result.status().ToString();
  EXPECT_GT(clock_.SleptMicros(), 0);
}

// A maintenance commit (CommitActions) takes the same policy.
TEST_F(SimulatedClockTest, MaintenanceCommitsBackOffOnTheClock) {
  Open();
  LogStore store(&fs_, kRoot);
  fs_.Storm(10);
  CommitInfoAction info;
  info.info.operation = "VACUUM START";
  std::vector<Action> actions;
  actions.emplace_back(info);
  TransactionOptions options;
  options.clock = &clock_;
  Result<int64_t> version = CommitActions(&store, 0, actions, NoDataChangeCheck, options);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, 11);
  EXPECT_GT(clock_.SleptMicros(), 0);
}

// delta.logRetentionDuration on the simulated clock: the commits before a checkpoint that is
// older than the retention go when a later checkpoint is written; nothing younger goes.
TEST_F(SimulatedClockTest, LogRetentionCutOffFollowsTheClock) {
  Open({{"delta.logRetentionDuration", "interval 2 days"}});
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(AppendOne().ok());  // checkpoint at 10
  LogStore store(&fs_, kRoot);
  ASSERT_TRUE(fs_.target().Stat(JoinPath(store.log_dir(), LogStore::CommitFileName(0))).ok());

  clock_.AdvanceMicros(kDayMicros);                              // one day: nothing has expired yet
  for (int i = 11; i <= 20; ++i) ASSERT_TRUE(AppendOne().ok());  // checkpoint at 20
  EXPECT_TRUE(fs_.target().Stat(JoinPath(store.log_dir(), LogStore::CommitFileName(0))).ok());

  // Now 0..10 are 2.5 days old (past the cut-off), 11..20 1.5 days (not).
  clock_.AdvanceMicros(3 * kDayMicros / 2);
  for (int i = 21; i <= 30; ++i) ASSERT_TRUE(AppendOne().ok());  // checkpoint at 30
  // The newest checkpoint older than the cut-off is the one at 10: every version below it is
  // gone, and it and everything after it stay.
  for (int64_t v = 0; v < 10; ++v) {
    EXPECT_TRUE(fs_.target()
                    .Stat(JoinPath(store.log_dir(), LogStore::CommitFileName(v)))
                    .status()
                    .IsNotFound())
        << v;
  }
  for (int64_t v = 10; v <= 30; ++v) {
    EXPECT_TRUE(fs_.target().Stat(JoinPath(store.log_dir(), LogStore::CommitFileName(v))).ok())
        << v;
  }
  EXPECT_EQ(clock_.SleptMicros(), 0);
  Result<DeltaSnapshot> snapshot = table_->Snapshot();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_EQ(snapshot->version, 30);
  EXPECT_EQ(snapshot->TotalRows(), 30);
}

}  // namespace
}  // namespace lakelog::delta
