// The fan-out: several sinks per engine, each with its own progress, retries, backlog bound
// and metrics; with a WAL, a sink that was down catches up from it, and recovery gives each
// sink only what it lacks. Also: a sink or a callback that throws is a failed write, not a
// crashed process.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "flush/test_sinks.h"
#include "lakelog/clock.h"
#include "lakelog/engine.h"

namespace lakelog {
namespace {

using testing::GatedSink;
using testing::MemorySink;
using testing::SinkLog;
using testing::SinkSwitch;
using testing::SwitchedSink;

EngineOptions FastRetries() {
  EngineOptions options;
  options.retry_initial_backoff = std::chrono::milliseconds(1);
  options.retry_max_backoff = std::chrono::milliseconds(5);
  options.stop_timeout = std::chrono::seconds(5);
  return options;
}

LoggerOptions SmallBatches() {
  LoggerOptions o;
  o.batch_events = 10;
  o.flush_interval = std::chrono::milliseconds(5);
  return o;
}

// How many times each message reached the sink.
std::map<std::string, int> Counts(SinkLog* log) {
  std::map<std::string, int> out;
  for (const LogEvent& e : log->events()) ++out[e.message.value_or("")];
  return out;
}

void ExpectEachOnce(SinkLog* log, int n, const std::string& what) {
  const auto counts = Counts(log);
  EXPECT_EQ(counts.size(), static_cast<size_t>(n)) << what;
  for (const auto& [message, count] : counts) EXPECT_EQ(count, 1) << what << ": " << message;
}

template <typename Pred>
bool WaitUntil(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::unique_ptr<Engine> Must(Result<std::unique_ptr<Engine>> engine) {
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) throw std::runtime_error(engine.status().ToString());
  return std::move(engine).value();
}

// Collects what the engine hands EngineOptions::error_handler, from any thread.
class ErrorLog {
 public:
  std::function<void(const Status&)> Handler() {
    return [this](const Status& st) {
      std::lock_guard<std::mutex> l(mu_);
      errors_.push_back(st.ToString());
    };
  }
  std::vector<std::string> errors() const {
    std::lock_guard<std::mutex> l(mu_);
    return errors_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> errors_;
};

std::vector<std::unique_ptr<Sink>> Sinks(std::unique_ptr<Sink> a, std::unique_ptr<Sink> b) {
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::move(a));
  sinks.push_back(std::move(b));
  return sinks;
}

// Events dropped for `reason`, over every pipeline of `engine`.
uint64_t DroppedBy(Engine* engine, DropReason reason) {
  uint64_t n = 0;
  for (const std::string& p : engine->Pipelines()) n += engine->Stats(p)->dropped_by(reason);
  return n;
}

void LogRange(Engine* engine, int from, int to) {
  Logger a = engine->GetLogger("alpha", SmallBatches()).value();
  Logger b = engine->GetLogger("beta", SmallBatches()).value();
  for (int i = from; i < to; ++i) {
    ASSERT_EQ((i % 2 ? a : b).Info("stage", "SUCCESS", std::to_string(i)), LogResult::kAccepted);
  }
}

TEST(FanOutTest, OpenRefusesNoSinkANullSinkAndTwoSinksWithOneName) {
  std::vector<std::unique_ptr<Sink>> none;
  EXPECT_EQ(Engine::Open(FastRetries(), std::move(none)).status().code(),
            StatusCode::kInvalidArgument);
  auto log = std::make_shared<SinkLog>();
  auto twins =
      Sinks(std::make_unique<MemorySink>(log, "same"), std::make_unique<MemorySink>(log, "same"));
  auto opened = Engine::Open(FastRetries(), std::move(twins));
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("two sinks are named 'same'"), std::string::npos);
  auto with_null = Sinks(std::make_unique<MemorySink>(log), nullptr);
  EXPECT_EQ(Engine::Open(FastRetries(), std::move(with_null)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(FanOutTest, EveryRoundGoesToEverySinkOnce) {
  auto a = std::make_shared<SinkLog>();
  auto b = std::make_shared<SinkLog>();
  auto engine = Must(Engine::Open(FastRetries(), Sinks(std::make_unique<MemorySink>(a, "a"),
                                                       std::make_unique<MemorySink>(b, "b"))));
  LogRange(engine.get(), 0, 500);
  ASSERT_TRUE(engine->Flush().ok());
  ExpectEachOnce(a.get(), 500, "sink a");
  ExpectEachOnce(b.get(), 500, "sink b");
  // The same rounds, with the same keys, in the same order.
  std::vector<int64_t> keys_a, keys_b;
  for (const auto& w : a->snapshot()) keys_a.push_back(w.round);
  for (const auto& w : b->snapshot()) keys_b.push_back(w.round);
  EXPECT_EQ(keys_a, keys_b);
  EXPECT_TRUE(std::is_sorted(keys_a.begin(), keys_a.end()));
  const std::string text = engine->MetricsText();
  EXPECT_NE(
      text.find("lakelog_flushes_total{result=\"ok\",sink=\"a\"} " + std::to_string(keys_a.size())),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("lakelog_flushes_total{result=\"ok\",sink=\"b\"} " + std::to_string(keys_b.size())),
      std::string::npos);
  ASSERT_TRUE(engine->Stop().ok());
  LoggerStats s = engine->Stats("alpha").value();
  EXPECT_EQ(s.flushed, 250u);
  EXPECT_EQ(s.dropped_total(), 0u);
}

TEST(FanOutTest, ASlowSinkDoesNotDelayTheOthersRounds) {
  auto slow_log = std::make_shared<SinkLog>();
  auto fast_log = std::make_shared<SinkLog>();
  auto closed = std::make_shared<SinkSwitch>();
  closed->Set(true);
  auto engine =
      Must(Engine::Open(FastRetries(), Sinks(std::make_unique<GatedSink>(slow_log, "slow", closed),
                                             std::make_unique<MemorySink>(fast_log, "fast"))));
  // Round after round reaches the fast sink while the slow one is stuck in its first Write().
  for (int batch = 0; batch < 5; ++batch) {
    LogRange(engine.get(), batch * 20, batch * 20 + 20);
    const size_t want = static_cast<size_t>(batch * 20 + 20);
    ASSERT_TRUE(WaitUntil([&] { return fast_log->num_events() == want; }))
        << "the fast sink waited for the slow one: " << fast_log->num_events() << " of " << want;
  }
  EXPECT_EQ(slow_log->num_events(), 0u);
  EXPECT_GE(fast_log->num_writes(), 5u);
  // Flush() means every sink: it waits for the slow one.
  EXPECT_EQ(engine->Flush(std::chrono::milliseconds(100)).code(), StatusCode::kTimedOut);
  closed->Set(false);
  ASSERT_TRUE(engine->Flush().ok());
  ExpectEachOnce(slow_log.get(), 100, "slow sink");
  ExpectEachOnce(fast_log.get(), 100, "fast sink");
  ASSERT_TRUE(engine->Stop().ok());
}

// Without a WAL, when every sink is slow the engine stops building rounds once each sink has
// one waiting: the buffer fills and its overflow policy drops (counted as drop_newest), rather
// than drained rounds piling up in memory behind the sinks (memory_bench showed 1.3-2.5 GB).
TEST(FanOutTest, WithoutAWalSlowSinksLeaveTheOverflowToTheBuffer) {
  auto log = std::make_shared<SinkLog>();
  auto closed = std::make_shared<SinkSwitch>();
  closed->Set(true);
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<GatedSink>(log, "slow", closed));
  auto engine = Must(Engine::Open(FastRetries(), std::move(sinks)));
  LoggerOptions lo = SmallBatches();  // rounds of 10 events
  lo.capacity_events = 100;
  Logger logger = engine->GetLogger("alpha", lo).value();
  int logged = 0;
  for (int chunk = 0; chunk < 100; ++chunk) {
    for (int i = 0; i < 10; ++i) (void)logger.Info("stage", "SUCCESS", std::to_string(logged++));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // rounds are due meanwhile
  }
  LoggerStats s = engine->Stats("alpha").value();
  // In rounds: one in the stuck Write() and one waiting; the rest is in the buffer or dropped.
  EXPECT_LE(s.accepted - s.buffered_events, 20u);
  EXPECT_GT(s.dropped_by(DropReason::kDropNewest), 0u);
  EXPECT_EQ(s.accepted + s.dropped_total(), static_cast<uint64_t>(logged));
  closed->Set(false);
  ASSERT_TRUE(engine->Flush().ok());
  s = engine->Stats("alpha").value();
  EXPECT_EQ(s.dropped_by(DropReason::kSinkBacklog), 0u);
  ExpectEachOnce(log.get(), static_cast<int>(s.accepted), "the slow sink");
  EXPECT_EQ(s.flushed, s.accepted);
  ASSERT_TRUE(engine->Stop().ok());
}

TEST(FanOutTest, WithoutAWalADownSinksBacklogIsBoundedAndItsLossCountedForItAlone) {
  auto down_log = std::make_shared<SinkLog>();
  auto up_log = std::make_shared<SinkLog>();
  auto down = std::make_shared<SinkSwitch>();
  down->Set(true);
  EngineOptions options = FastRetries();
  options.sink_backlog_bytes = 600;  // a few rounds of ~10 events
  auto engine =
      Must(Engine::Open(options, Sinks(std::make_unique<SwitchedSink>(down_log, "down", down),
                                       std::make_unique<MemorySink>(up_log, "up"))));
  for (int batch = 0; batch < 20; ++batch) {
    LogRange(engine.get(), batch * 10, batch * 10 + 10);
    const size_t want = static_cast<size_t>(batch * 10 + 10);
    ASSERT_TRUE(WaitUntil([&] { return up_log->num_events() == want; }));
  }
  ExpectEachOnce(up_log.get(), 200, "the sink that is up");
  const std::string text = engine->MetricsText();
  EXPECT_NE(text.find("lakelog_sink_events_dropped_total{reason=\"sink_backlog\",sink=\"down\"}"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("lakelog_sink_events_dropped_total{reason=\"sink_backlog\",sink=\"up\"} 1"),
            std::string::npos);
  // What the down sink holds in memory stays near the budget (one round may pass it).
  const Status stopped = engine->Stop(StopOptions{.timeout = std::chrono::milliseconds(200)});
  EXPECT_FALSE(stopped.ok());
  EXPECT_EQ(down_log->num_events(), 0u);
  uint64_t backlog = 0, sink_error = 0, flushed = 0, accepted = 0;
  for (const std::string& p : engine->Pipelines()) {
    LoggerStats s = engine->Stats(p).value();
    backlog += s.dropped_by(DropReason::kSinkBacklog);
    sink_error += s.dropped_by(DropReason::kSinkError);
    flushed += s.flushed;
    accepted += s.accepted;
  }
  EXPECT_GT(backlog, 100u) << "most rounds did not fit the down sink's budget";
  EXPECT_EQ(backlog + sink_error + flushed, accepted);
  EXPECT_EQ(flushed, 0u) << "no event reached both sinks";
}

class FanOutWalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("lakelog-fanout-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  EngineOptions Options() {
    EngineOptions options = FastRetries();
    options.wal_dir = (dir_ / "wal").string();
    options.wal.segment_bytes = 32 << 10;  // the smallest: several segments
    return options;
  }

  std::filesystem::path dir_;
};

// Every event reached the sink once: by its WAL sequence, and by its message.
void ExpectEachSequenceOnce(SinkLog* log, int n, const std::string& what) {
  ExpectEachOnce(log, n, what);
  std::map<uint64_t, int> seqs;
  for (const auto& w : log->snapshot()) {
    EXPECT_EQ(w.sequences.size(), w.events.size()) << what;
    for (uint64_t s : w.sequences) ++seqs[s];
  }
  EXPECT_EQ(seqs.size(), static_cast<size_t>(n)) << what;
}

TEST_F(FanOutWalTest, ADownSinkCatchesUpFromTheWalAndKeepsItsSegments) {
  auto a_log = std::make_shared<SinkLog>();
  auto b_log = std::make_shared<SinkLog>();
  auto down = std::make_shared<SinkSwitch>();
  EngineOptions options = Options();
  options.sink_backlog_bytes = 600;
  auto engine =
      Must(Engine::Open(options, Sinks(std::make_unique<MemorySink>(a_log, "a", /*keyed=*/true),
                                       std::make_unique<SwitchedSink>(b_log, "b", down))));
  LogRange(engine.get(), 0, 50);
  ASSERT_TRUE(engine->Flush().ok());
  const uint64_t committed_before = engine->wal_info().committed_sequence;
  EXPECT_GE(committed_before, 50u);
  down->Set(true);
  for (int batch = 5; batch < 40; ++batch) {
    LogRange(engine.get(), batch * 10, batch * 10 + 10);
    const size_t want = static_cast<size_t>(batch * 10 + 10);
    ASSERT_TRUE(WaitUntil([&] { return a_log->num_events() == want; }));
  }
  // The WAL keeps what b has not taken, however far a got.
  EXPECT_LE(engine->wal_info().committed_sequence, committed_before + 10);
  down->Set(false);
  ASSERT_TRUE(engine->Flush().ok());
  ExpectEachSequenceOnce(a_log.get(), 400, "sink a");
  ExpectEachSequenceOnce(b_log.get(), 400, "sink b, caught up from the WAL");
  EXPECT_GE(engine->wal_info().committed_sequence, 400u);
  ASSERT_TRUE(engine->Stop().ok());
  for (const std::string& p : engine->Pipelines()) {
    EXPECT_EQ(engine->Stats(p)->dropped_total(), 0u) << p;
  }
}

TEST_F(FanOutWalTest, RecoveryGivesEachSinkOnlyWhatItLacks) {
  auto a_log = std::make_shared<SinkLog>();
  auto b_log = std::make_shared<SinkLog>();
  auto down = std::make_shared<SinkSwitch>();
  {
    EngineOptions options = Options();
    auto engine =
        Must(Engine::Open(options, Sinks(std::make_unique<MemorySink>(a_log, "a", /*keyed=*/true),
                                         std::make_unique<SwitchedSink>(b_log, "b", down))));
    LogRange(engine.get(), 0, 100);
    ASSERT_TRUE(engine->Flush().ok());
    down->Set(true);  // b goes down; a keeps taking rounds
    LogRange(engine.get(), 100, 300);
    ASSERT_TRUE(WaitUntil([&] { return a_log->num_events() == 300; }));
    const Status stopped = engine->Stop(StopOptions{.timeout = std::chrono::milliseconds(300)});
    EXPECT_EQ(stopped.code(), StatusCode::kUnavailable) << stopped.ToString();
    EXPECT_NE(stopped.message().find("sink b"), std::string::npos) << stopped.ToString();
    EXPECT_EQ(b_log->num_events(), 100u);
  }
  down->Set(false);
  auto engine =
      Must(Engine::Open(Options(), Sinks(std::make_unique<MemorySink>(a_log, "a", /*keyed=*/true),
                                         std::make_unique<SwitchedSink>(b_log, "b", down))));
  LogRange(engine.get(), 300, 320);
  ASSERT_TRUE(engine->Flush().ok());
  ExpectEachSequenceOnce(a_log.get(), 320, "sink a: nothing replayed twice");
  ExpectEachSequenceOnce(b_log.get(), 320, "sink b: the 200 it lacked, once");
  EXPECT_EQ(engine->wal_info().replayed_events, 200);
  ASSERT_TRUE(engine->Stop().ok());
}

TEST_F(FanOutWalTest, ASinkDownAtRestartHoldsTheOthersBackNotAndCatchesUpLater) {
  auto a_log = std::make_shared<SinkLog>();
  auto b_log = std::make_shared<SinkLog>();
  auto down = std::make_shared<SinkSwitch>();
  {
    auto engine =
        Must(Engine::Open(Options(), Sinks(std::make_unique<MemorySink>(a_log, "a", true),
                                           std::make_unique<SwitchedSink>(b_log, "b", down))));
    LogRange(engine.get(), 0, 100);
    ASSERT_TRUE(engine->Flush().ok());
    down->Set(true);
    LogRange(engine.get(), 100, 200);
    ASSERT_TRUE(WaitUntil([&] { return a_log->num_events() == 200; }));
    (void)engine->Stop(StopOptions{.timeout = std::chrono::milliseconds(300)});
  }
  // The engine starts again with b still down (it cannot even say what it holds): a gets its
  // new rounds at once, from a WAL that is not empty.
  std::vector<Status> reports;
  std::mutex reports_mu;
  EngineOptions options = Options();
  options.error_handler = [&](const Status& st) {
    std::lock_guard<std::mutex> l(reports_mu);
    reports.push_back(st);
  };
  auto engine =
      Must(Engine::Open(options, Sinks(std::make_unique<MemorySink>(a_log, "a", true),
                                       std::make_unique<SwitchedSink>(b_log, "b", down))));
  LogRange(engine.get(), 200, 260);
  ASSERT_TRUE(WaitUntil([&] { return a_log->num_events() == 260; }))
      << "sink a waited for sink b at start: " << a_log->num_events();
  EXPECT_EQ(b_log->num_events(), 100u);
  {
    std::lock_guard<std::mutex> l(reports_mu);
    ASSERT_FALSE(reports.empty());
    EXPECT_NE(reports[0].ToString().find("sink 'b'"), std::string::npos) << reports[0].ToString();
  }
  // b comes back: it reads its key, catches up from the WAL, and takes the new rounds.
  down->Set(false);
  ASSERT_TRUE(engine->Flush().ok());
  ExpectEachSequenceOnce(a_log.get(), 260, "sink a");
  ExpectEachSequenceOnce(b_log.get(), 260, "sink b, once it answered");
  ASSERT_TRUE(engine->Stop().ok());
}

class ThrowingSink : public MemorySink {
 public:
  using MemorySink::MemorySink;
  Status Write(std::span<const LogEvent* const>, const SinkWriteContext&) override {
    throw std::runtime_error("sink bug");
  }
};

TEST(FanOutTest, ASinkThatThrowsFailsItsRoundsNotTheProcess) {
  auto bad_log = std::make_shared<SinkLog>();
  auto good_log = std::make_shared<SinkLog>();
  ErrorLog error_log;
  EngineOptions options = FastRetries();
  options.error_handler = error_log.Handler();
  auto engine = Must(Engine::Open(options, Sinks(std::make_unique<ThrowingSink>(bad_log, "bad"),
                                                 std::make_unique<MemorySink>(good_log, "good"))));
  LogRange(engine.get(), 0, 40);
  const Status flushed = engine->Flush();
  EXPECT_FALSE(flushed.ok());
  EXPECT_FALSE(flushed.retryable());
  ExpectEachOnce(good_log.get(), 40, "the good sink");
  ASSERT_TRUE(engine->Stop().ok());
  EXPECT_EQ(DroppedBy(engine.get(), DropReason::kSinkError), 40u);
  const std::vector<std::string> errors = error_log.errors();
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors.front().find("sink 'bad' Write() threw: sink bug"), std::string::npos)
      << errors.front();
}

// A round given up on a flush thread before anyone calls Flush() is reported by the next
// Flush(), once: the caller learns of the loss even when it happened between two calls.
TEST(FanOutTest, ARoundGivenUpBetweenFlushesIsReportedByTheNextFlushOnce) {
  auto bad_log = std::make_shared<SinkLog>();
  auto good_log = std::make_shared<SinkLog>();
  EngineOptions options = FastRetries();
  options.error_handler = [](const Status&) {};
  auto engine = Must(Engine::Open(options, Sinks(std::make_unique<ThrowingSink>(bad_log, "bad"),
                                                 std::make_unique<MemorySink>(good_log, "good"))));
  LogRange(engine.get(), 0, 40);
  // Small batches on a 5 ms interval: the flush threads write (and give up) every round alone.
  ASSERT_TRUE(WaitUntil([&] { return DroppedBy(engine.get(), DropReason::kSinkError) == 40; }));
  const Status first = engine->Flush();
  EXPECT_FALSE(first.ok());
  EXPECT_NE(first.ToString().find("sink 'bad'"), std::string::npos) << first.ToString();
  EXPECT_TRUE(engine->Flush().ok()) << "a loss already reported is not reported again";
  ExpectEachOnce(good_log.get(), 40, "the good sink");
  ASSERT_TRUE(engine->Stop().ok());
}

// Remembers the clock the engine attached it to; throws instead when told to.
class AttachingSink : public MemorySink {
 public:
  AttachingSink(std::shared_ptr<SinkLog> log, std::string name, Clock** attached, bool bad)
      : MemorySink(std::move(log), std::move(name)), attached_(attached), bad_(bad) {}
  void Attach(const SinkAttachContext& ctx) override {
    if (bad_) throw std::runtime_error("attach bug");
    *attached_ = ctx.clock;
  }

 private:
  Clock** attached_;
  bool bad_;
};

TEST(FanOutTest, EverySinkIsAttachedToTheEnginesClock) {
  ManualClock clock;
  Clock* a = nullptr;
  Clock* b = nullptr;
  EngineOptions options = FastRetries();
  options.clock = &clock;
  auto engine = Must(Engine::Open(
      options,
      Sinks(std::make_unique<AttachingSink>(std::make_shared<SinkLog>(), "a", &a, false),
            std::make_unique<AttachingSink>(std::make_shared<SinkLog>(), "b", &b, false))));
  EXPECT_EQ(a, &clock);
  EXPECT_EQ(b, &clock);
  ASSERT_TRUE(engine->Stop().ok());
}

TEST(FanOutTest, ASinkWhoseAttachThrowsFailsOpen) {
  Clock* attached = nullptr;
  auto engine = Engine::Open(
      FastRetries(),
      std::make_unique<AttachingSink>(std::make_shared<SinkLog>(), "bad", &attached, true));
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().ToString().find("sink 'bad' Attach() threw: attach bug"),
            std::string::npos)
      << engine.status().ToString();
}

TEST(FanOutTest, AnErrorHandlerThatThrowsIsReportedOnStderr) {
  auto log = std::make_shared<SinkLog>();
  EngineOptions options = FastRetries();
  options.error_handler = [](const Status&) { throw std::runtime_error("handler bug"); };
  ::testing::internal::CaptureStderr();
  {
    auto engine = Must(Engine::Open(
        options, std::make_unique<testing::FailingSink>(log, 2, Status::Unavailable("flaky"))));
    LogRange(engine.get(), 0, 10);
    EXPECT_TRUE(engine->Flush().ok());
    ASSERT_TRUE(engine->Stop().ok());
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("error_handler threw (handler bug)"), std::string::npos) << err;
  EXPECT_NE(err.find("flaky"), std::string::npos) << err;
  ExpectEachOnce(log.get(), 10, "the retried rounds");
}

// A sink whose every method but Write throws, each when asked to.
class ThrowingMethodsSink : public MemorySink {
 public:
  ThrowingMethodsSink(std::shared_ptr<SinkLog> log, std::string name, bool check, bool flush,
                      bool committed)
      : MemorySink(std::move(log), std::move(name), /*keyed=*/true),
        check_(check),
        flush_(flush),
        committed_(committed) {}
  Status CheckPipeline(std::string_view) const override {
    if (check_) throw std::runtime_error("check bug");
    return Status::OK();
  }
  Status Flush(std::chrono::milliseconds timeout) override {
    if (flush_) throw std::logic_error("flush bug");
    return MemorySink::Flush(timeout);
  }
  Result<int64_t> CommittedRound(std::string_view writer_id) override {
    if (committed_) throw std::runtime_error("committed bug");
    return MemorySink::CommittedRound(writer_id);
  }

 private:
  const bool check_, flush_, committed_;
};

// CheckPipeline, Flush and CommittedRound throwing reach the caller (or the error handler) as
// errors naming the sink and what it threw; the process and the other sink go on.
TEST(FanOutTest, EverySinkMethodThatThrowsIsAnErrorNotACrash) {
  {
    auto log = std::make_shared<SinkLog>();
    auto engine = Must(Engine::Open(
        FastRetries(), std::make_unique<ThrowingMethodsSink>(log, "checks", true, false, false)));
    Result<Logger> logger = engine->GetLogger("alpha");
    ASSERT_FALSE(logger.ok());
    EXPECT_NE(logger.status().ToString().find("CheckPipeline() threw: check bug"),
              std::string::npos)
        << logger.status().ToString();
    ASSERT_TRUE(engine->Stop().ok());
  }
  {
    auto bad_log = std::make_shared<SinkLog>();
    auto good_log = std::make_shared<SinkLog>();
    auto engine = Must(Engine::Open(
        FastRetries(),
        Sinks(std::make_unique<ThrowingMethodsSink>(bad_log, "flushes", false, true, false),
              std::make_unique<MemorySink>(good_log, "good"))));
    LogRange(engine.get(), 0, 20);
    const Status flushed = engine->Flush();
    EXPECT_FALSE(flushed.ok());
    EXPECT_NE(flushed.ToString().find("Flush() threw: flush bug"), std::string::npos)
        << flushed.ToString();
    ExpectEachOnce(good_log.get(), 20, "the good sink");
    ExpectEachOnce(bad_log.get(), 20, "the sink whose Flush throws still got every round");
    (void)engine->Stop();
  }
}

TEST_F(FanOutWalTest, ACommittedRoundThatThrowsParksItsSinkAndTheOtherGoesOn) {
  auto bad_log = std::make_shared<SinkLog>();
  auto good_log = std::make_shared<SinkLog>();
  ErrorLog error_log;
  EngineOptions options = Options();
  options.error_handler = error_log.Handler();
  auto engine = Must(Engine::Open(
      options, Sinks(std::make_unique<ThrowingMethodsSink>(bad_log, "rounds", false, false, true),
                     std::make_unique<MemorySink>(good_log, "good", /*keyed=*/true))));
  LogRange(engine.get(), 0, 30);
  (void)engine->Flush();
  ASSERT_TRUE(WaitUntil([&] { return good_log->num_events() == 30u; }));
  ExpectEachOnce(good_log.get(), 30, "the good sink");
  EXPECT_EQ(bad_log->num_events(), 0u);
  (void)engine->Stop();
  const std::vector<std::string> errors = error_log.errors();
  bool named = false;
  for (const std::string& e : errors) {
    named = named || e.find("CommittedRound() threw") != std::string::npos ||
            e.find("committed bug") != std::string::npos;
  }
  EXPECT_TRUE(named) << (errors.empty() ? std::string("no error reported") : errors.front());
}

class RefusingSink : public MemorySink {
 public:
  using MemorySink::MemorySink;
  Status CheckPipeline(std::string_view pipeline) const override {
    if (pipeline.find(' ') != std::string_view::npos) {
      return Status::InvalidArgument("refusing sink: no spaces in '" + std::string(pipeline) + "'");
    }
    return Status::OK();
  }
};

TEST(FanOutTest, EverySinkMayRefuseAPipelineNameAndOnlyItsRuleApplies) {
  auto log = std::make_shared<SinkLog>();
  auto engine =
      Must(Engine::Open(FastRetries(), Sinks(std::make_unique<MemorySink>(log, "memory"),
                                             std::make_unique<RefusingSink>(log, "refusing"))));
  auto refused = engine->GetLogger("has space");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("refusing sink: no spaces"), std::string::npos);
  // Delta's partition rule is the Delta sink's alone: these sinks take a name it refuses.
  EXPECT_TRUE(engine->GetLogger("a/b").ok());
  ASSERT_TRUE(engine->Stop().ok());
}

}  // namespace
}  // namespace lakelog
