// The WAL with a fault at each of its I/O calls, and with a crash at each of them.
//
// The scenario (Scenario::Run) is what a WAL user does: open a WAL a previous process left
// (recovery scans, syncs the old segment, starts a new one), replay it, mark the old records
// committed (deleting their segment), append batches of records of 200 B to 40 KB with 32 KiB
// segments (so appends roll segments and records span blocks) with a Sync() after each batch,
// and close. A careful caller retries a failed call once and carries on.
//
// One clean run records the calls; then for every call x every fault kind that can happen
// there x {once, persistent} the scenario runs again with that fault, in every sync mode, and
// for every call x {EIO, torn write} it runs with a crash there. The invariant:
//   - Replay yields only records whose Append() returned OK, byte for byte, in sequence order;
//     a record whose Append() failed never replays;
//   - after a restart (kill -9), every record appended OK and not put in doubt by a failed
//     sync replays; after a power loss, every record a successful Sync() acknowledged
//     (sequence <= DurableSequence(), not in doubt) does. Committed records may go.
//   - every failed call returns an IOError / ResourceExhausted naming the injected fault.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "storage/fault_injection_file_system.h"
#include "storage/fault_matrix.h"
#include "storage/mem_file_system.h"
#include "wal/wal.h"
#include "wal_test_util.h"

namespace lakelog::wal {
namespace {

using fault_testing::Describe;
using fault_testing::FaultAt;
using fault_testing::FaultPoint;
using fault_testing::FaultPoints;
using fault_testing::KindsAt;
using fault_testing::OutcomeTally;
using fault_testing::Persistence;
using wal_testing::MakeRecord;

constexpr char kDir[] = "wal";

// Record sizes per batch: small ones, one spanning two blocks, and enough to roll 32 KiB
// segments several times.
const std::vector<std::vector<size_t>> kBatches = {
    {200, 9000, 200}, {20000}, {5000, 300}, {40000}, {100, 100, 100}};

WalOptions Options(WalSyncMode mode) {
  WalOptions options;
  options.sync_mode = mode;
  options.sync_interval_ms = 0;  // kInterval: every Append() syncs (an fsync inside Append)
  options.segment_bytes = 32 * 1024;
  return options;
}

// What the caller knows about each record.
struct Model {
  std::map<uint64_t, std::string> appended;  // Append() returned OK: sequence -> record
  std::set<uint64_t> pending;                // appended since the last Sync() outcome
  std::set<uint64_t> acknowledged;           // a successful Sync() vouched for them
  std::set<uint64_t> in_doubt;               // a failed Sync() or Close() put them in doubt
  uint64_t committed = 0;                    // passed to MarkCommitted()
};

// Runs the scenario against `fs`, recording into `model` and `outcome`. Stops early when the
// file system crashed (every call fails from then on).
class Scenario {
 public:
  Scenario(FaultInjectionFileSystem* fs, WalSyncMode mode) : fs_(fs), mode_(mode) {}

  // A previous process's WAL: three records, synced and closed.
  static void Prepare(MemFileSystem* mem, WalSyncMode mode, Model* model) {
    auto wal = Wal::Open(mem, kDir, Options(mode));
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    for (int i = 0; i < 3; ++i) {
      std::string record = MakeRecord(1000 + i, 500);
      auto seq = (*wal)->Append(record);
      ASSERT_TRUE(seq.ok());
      model->appended[*seq] = record;
      model->acknowledged.insert(*seq);
    }
    ASSERT_TRUE((*wal)->Close().ok());
  }

  void Run(Model* model, std::vector<Status>* errors) {
    model_ = model;
    errors_ = errors;
    std::unique_ptr<Wal> wal;
    if (!Steps(wal)) {
      // Stopped by an error. A sync the WAL made on its own may have failed meanwhile (and
      // put records in doubt); the caller learns that from Sync() before it gives up.
      if (wal != nullptr && !fs_->crashed()) {
        Status st = wal->Sync();
        (void)Synced(st, wal->DurableSequence());
        if (!st.ok()) errors_->push_back(st);
      }
      return;
    }
    Status closed = wal->Close();
    (void)Synced(closed, closed.ok() ? wal->LastSequence() : 0);
    if (!closed.ok()) errors_->push_back(closed);
  }

 private:
  // Everything up to Close(). False when the scenario stopped at an error.
  bool Steps(std::unique_ptr<Wal>& wal) {
    if (!Retry([&] {
          auto opened = Wal::Open(fs_, kDir, Options(mode_));
          if (opened.ok()) wal = std::move(opened).value();
          return opened.status();
        })) {
      return false;
    }
    uint64_t recovered = 0;
    if (!Retry([&] {
          auto stats = wal->Replay([&](uint64_t seq, std::string_view) {
            recovered = std::max(recovered, seq);
            return Status::OK();
          });
          return stats.status();
        })) {
      return false;
    }
    // They are committed to the sink now; the WAL may drop them even if MarkCommitted fails.
    model_->committed = recovered;
    if (!Retry([&] { return wal->MarkCommitted(recovered); })) return false;
    for (const std::vector<size_t>& batch : kBatches) {
      for (size_t size : batch) {
        if (!Retry([&] {
              std::string record = MakeRecord(next_record_++, size);
              auto seq = wal->Append(record);
              if (seq.ok()) {
                model_->appended[*seq] = record;
                model_->pending.insert(*seq);
              }
              return seq.status();
            })) {
          return false;
        }
      }
      if (!Retry([&] {
            Status st = wal->Sync();
            return Synced(st, wal->DurableSequence());
          })) {
        return false;
      }
    }
    return true;
  }

  // Runs `call`; on failure records the error and runs it once more (a careful caller). False
  // when it still fails or the file system crashed: the scenario stops.
  template <typename Call>
  bool Retry(Call call) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      Status st = call();
      if (st.ok()) return true;
      errors_->push_back(st);
      if (fs_->crashed()) return false;
    }
    return false;
  }

  // Applies a Sync()/Close() outcome to the model.
  Status Synced(const Status& st, uint64_t durable) {
    for (uint64_t seq : model_->pending) {
      if (!st.ok()) {
        model_->in_doubt.insert(seq);
      } else if (seq <= durable) {
        model_->acknowledged.insert(seq);
      }
    }
    if (!st.ok()) {
      model_->pending.clear();
    } else {
      std::erase_if(model_->pending, [&](uint64_t seq) { return seq <= durable; });
    }
    return st;
  }

  FaultInjectionFileSystem* fs_;
  WalSyncMode mode_;
  Model* model_ = nullptr;
  std::vector<Status>* errors_ = nullptr;
  int next_record_ = 0;
};

// Opens the WAL on `mem` with no faults and checks what replays against the model.
// `power_loss`: only acknowledged records are owed; otherwise every record appended OK and
// not in doubt is.
void ExpectReplayMatches(MemFileSystem* mem, WalSyncMode mode, const Model& model, bool power_loss,
                         const std::string& context) {
  auto wal = Wal::Open(mem, kDir, Options(mode));
  ASSERT_TRUE(wal.ok()) << context << ": reopen: " << wal.status().ToString();
  std::set<uint64_t> replayed;
  auto stats = (*wal)->Replay([&](uint64_t seq, std::string_view record) {
    auto it = model.appended.find(seq);
    if (it == model.appended.end()) {
      ADD_FAILURE() << context << ": sequence " << seq << " replays but its Append() failed";
    } else if (it->second != record) {
      ADD_FAILURE() << context << ": sequence " << seq << " replays with different bytes";
    }
    replayed.insert(seq);
    return Status::OK();
  });
  ASSERT_TRUE(stats.ok()) << context << ": " << stats.status().ToString();
  for (const auto& [seq, record] : model.appended) {
    if (seq <= model.committed || model.in_doubt.count(seq)) continue;
    const bool owed = power_loss ? model.acknowledged.count(seq) > 0 : true;
    if (owed) {
      EXPECT_TRUE(replayed.count(seq))
          << context << ": sequence " << seq << " is lost"
          << (power_loss ? " (acknowledged by Sync)" : " (appended OK)");
    }
  }
  // New sequences never reuse a replayed one.
  EXPECT_GE((*wal)->LastSequence(), replayed.empty() ? 0 : *replayed.rbegin()) << context;
}

void ExpectInjectedErrors(const std::vector<Status>& errors, const std::string& context) {
  for (const Status& st : errors) {
    EXPECT_TRUE(st.code() == StatusCode::kIOError || st.code() == StatusCode::kResourceExhausted)
        << context << ": " << st.ToString();
    EXPECT_NE(st.message().find("injected"), std::string::npos)
        << context << ": the error does not name its cause: " << st.ToString();
  }
}

std::string ModeName(WalSyncMode mode) { return std::string(WalSyncModeName(mode)); }

class WalFaultMatrixTest : public ::testing::TestWithParam<WalSyncMode> {
 protected:
  std::vector<FaultPoint> CleanRunPoints() {
    MemFileSystem mem;
    Model model;
    Scenario::Prepare(&mem, GetParam(), &model);
    FaultInjectionFileSystem faulty(&mem);
    faulty.set_record_calls(true);
    std::vector<Status> errors;
    Scenario(&faulty, GetParam()).Run(&model, &errors);
    EXPECT_TRUE(errors.empty()) << errors.front().ToString();
    EXPECT_EQ(model.acknowledged.size(), 3u + 10u);
    std::vector<FaultPoint> points = FaultPoints(faulty.calls());
    fault_testing::MaybePrintPoints("Wal scenario (" + ModeName(GetParam()) + ")", points);
    return points;
  }
};

TEST_P(WalFaultMatrixTest, CleanRunRollsSegments) {
  std::map<FaultOp, int> ops;
  for (const FaultPoint& p : CleanRunPoints()) ++ops[p.op];
  EXPECT_GE(ops[FaultOp::kOpenWrite], 5);  // the old segment reopened to sync it, four new ones
  EXPECT_GE(ops[FaultOp::kSync], 8);
  EXPECT_GE(ops[FaultOp::kClose], 4);
  EXPECT_GE(ops[FaultOp::kAppend], 12);
  EXPECT_EQ(ops[FaultOp::kDelete], 1);  // the committed segment
  EXPECT_GE(ops[FaultOp::kOpenRead], 2);
}

TEST_P(WalFaultMatrixTest, FaultAtEachCall) {
  const std::vector<FaultPoint> points = CleanRunPoints();
  OutcomeTally tally;
  for (const FaultPoint& point : points) {
    for (FaultKind kind : KindsAt(point.op)) {
      for (Persistence persistence : {Persistence::kOnce, Persistence::kPersistent}) {
        const std::string context = ModeName(GetParam()) + ": " + Describe(point, kind) +
                                    (persistence == Persistence::kOnce ? ", once" : ", persistent");
        SCOPED_TRACE(context);
        MemFileSystem mem;
        Model model;
        ASSERT_NO_FATAL_FAILURE(Scenario::Prepare(&mem, GetParam(), &model));
        FaultInjectionFileSystem faulty(&mem);
        faulty.AddRule(FaultAt(point, kind, persistence));
        std::vector<Status> errors;
        Scenario(&faulty, GetParam()).Run(&model, &errors);
        EXPECT_GE(faulty.injected(), 1) << context << ": the fault point was not reached";
        ExpectInjectedErrors(errors, context);
        ASSERT_NO_FATAL_FAILURE(
            ExpectReplayMatches(&mem, GetParam(), model, /*power_loss=*/false, context));
        mem.DropUnsyncedData();
        ASSERT_NO_FATAL_FAILURE(ExpectReplayMatches(&mem, GetParam(), model,
                                                    /*power_loss=*/true, context + ", power loss"));
        std::string outcome = errors.empty() ? "absorbed, no error" : "clear error";
        if (!model.in_doubt.empty()) outcome += ", records in doubt";
        if (model.acknowledged.size() == 3u + 10u) {
          outcome += ", every record acknowledged";
        } else {
          outcome += ", some records unacknowledged";
        }
        tally.Add(std::string(FaultOpName(point.op)) + ": " + outcome);
      }
    }
  }
  std::cout << tally.Summary("Wal fault matrix (" + ModeName(GetParam()) + ")");
  EXPECT_GT(tally.total(), 100);
}

TEST_P(WalFaultMatrixTest, CrashAtEachCall) {
  const std::vector<FaultPoint> points = CleanRunPoints();
  OutcomeTally tally;
  for (const FaultPoint& point : points) {
    for (FaultKind kind : {FaultKind::kIOError, FaultKind::kShortWrite}) {
      const std::string context = ModeName(GetParam()) + ": crash (" +
                                  std::string(FaultKindName(kind)) + ") at call " +
                                  std::to_string(point.index) + " (" +
                                  std::string(FaultOpName(point.op)) + " " + point.path + ")";
      SCOPED_TRACE(context);
      MemFileSystem mem;
      Model model;
      ASSERT_NO_FATAL_FAILURE(Scenario::Prepare(&mem, GetParam(), &model));
      FaultInjectionFileSystem faulty(&mem);
      faulty.CrashAtCall(point.index, kind);
      std::vector<Status> errors;
      Scenario(&faulty, GetParam()).Run(&model, &errors);
      EXPECT_TRUE(faulty.crashed()) << context;
      ExpectInjectedErrors(errors, context);
      mem.DropUnsyncedData();
      ASSERT_NO_FATAL_FAILURE(
          ExpectReplayMatches(&mem, GetParam(), model, /*power_loss=*/true, context));
      tally.Add(std::to_string(model.acknowledged.size() - 3) + " of 10 records acknowledged");
    }
  }
  std::cout << tally.Summary("Wal crash matrix (" + ModeName(GetParam()) + ")");
}

INSTANTIATE_TEST_SUITE_P(SyncModes, WalFaultMatrixTest,
                         ::testing::Values(WalSyncMode::kGroupCommit, WalSyncMode::kInterval,
                                           WalSyncMode::kNone),
                         [](const ::testing::TestParamInfo<WalSyncMode>& info) {
                           return ModeName(info.param);
                         });

}  // namespace
}  // namespace lakelog::wal
