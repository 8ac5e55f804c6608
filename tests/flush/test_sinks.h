// Sinks for tests: MemorySink records every Write(); FailingSink fails a scripted number of
// times before delegating to a MemorySink. Both are thread-safe for inspection while the
// engine writes.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "lakelog/sink.h"

namespace lakelog::testing {

struct RecordedWrite {
  int64_t round = 0;
  int attempt = 0;
  std::vector<LogEvent> events;
  std::vector<uint64_t> sequences;  // SinkWriteContext::event_sequences
  std::set<std::string> pipelines() const {
    std::set<std::string> out;
    for (const auto& e : events) out.insert(e.pipeline);
    return out;
  }
};

// Shared state, so a test keeps access after the engine took ownership of the sink.
struct SinkLog {
  std::mutex mu;
  std::vector<RecordedWrite> writes;  // successful writes
  std::vector<Status> failures;       // failed attempts
  int flush_calls = 0;

  size_t num_writes() {
    std::lock_guard<std::mutex> l(mu);
    return writes.size();
  }
  size_t num_events() {
    std::lock_guard<std::mutex> l(mu);
    size_t n = 0;
    for (const auto& w : writes) n += w.events.size();
    return n;
  }
  std::vector<LogEvent> events() {
    std::lock_guard<std::mutex> l(mu);
    std::vector<LogEvent> out;
    for (const auto& w : writes) out.insert(out.end(), w.events.begin(), w.events.end());
    return out;
  }
  std::vector<RecordedWrite> snapshot() {
    std::lock_guard<std::mutex> l(mu);
    return writes;
  }
};

// Records every Write(). With `keyed`, it behaves like a sink with idempotent keys (Delta, Kafka):
// CommittedRound() is the highest round key it holds, and a round at or below it is skipped.
class MemorySink : public Sink {
 public:
  explicit MemorySink(std::shared_ptr<SinkLog> log, std::string name = "memory", bool keyed = false)
      : log_(std::move(log)), name_(std::move(name)), keyed_(keyed) {}
  std::string_view name() const override { return name_; }
  Result<int64_t> CommittedRound(std::string_view) override {
    if (!keyed_) return int64_t{0};
    std::lock_guard<std::mutex> l(log_->mu);
    int64_t key = 0;
    for (const auto& w : log_->writes) key = std::max(key, w.round);
    return key;
  }
  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    if (in_write_.exchange(true)) return Status::Internal("concurrent Write() calls");
    if (keyed_ && ctx.round <= CommittedRound(ctx.writer_id).value()) {
      in_write_ = false;
      return Status::OK();
    }
    RecordedWrite w;
    w.round = ctx.round;
    w.attempt = ctx.attempt;
    w.sequences.assign(ctx.event_sequences.begin(), ctx.event_sequences.end());
    for (const LogEvent* e : events) w.events.push_back(*e);
    {
      std::lock_guard<std::mutex> l(log_->mu);
      log_->writes.push_back(std::move(w));
    }
    in_write_ = false;
    return Status::OK();
  }
  Status Flush(std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> l(log_->mu);
    ++log_->flush_calls;
    return Status::OK();
  }

 protected:
  std::shared_ptr<SinkLog> log_;
  const std::string name_;
  const bool keyed_;
  std::atomic<bool> in_write_{false};
};

// Fails the first `failures` writes with `error` (-1 = always), then behaves as MemorySink.
class FailingSink : public MemorySink {
 public:
  FailingSink(std::shared_ptr<SinkLog> log, int failures, Status error)
      : MemorySink(std::move(log)), remaining_(failures), error_(std::move(error)) {}
  std::string_view name() const override { return "failing"; }
  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    if (remaining_ != 0) {
      if (remaining_ > 0) --remaining_;
      std::lock_guard<std::mutex> l(log_->mu);
      log_->failures.push_back(error_);
      last_failed_round_ = ctx.round;
      return error_;
    }
    return MemorySink::Write(events, ctx);
  }
  int64_t last_failed_round() const { return last_failed_round_; }

 private:
  int remaining_;
  Status error_;
  std::atomic<int64_t> last_failed_round_{0};
};

// A switch a test flips while the engine owns the sink.
struct SinkSwitch {
  std::mutex mu;
  std::condition_variable cv;
  bool on = false;
  void Set(bool value) {
    {
      std::lock_guard<std::mutex> l(mu);
      on = value;
    }
    cv.notify_all();
  }
  bool Get() {
    std::lock_guard<std::mutex> l(mu);
    return on;
  }
};

// A keyed MemorySink that is down (every Write() and CommittedRound() fails with Unavailable)
// while `down` is on.
class SwitchedSink : public MemorySink {
 public:
  SwitchedSink(std::shared_ptr<SinkLog> log, std::string name, std::shared_ptr<SinkSwitch> down)
      : MemorySink(std::move(log), std::move(name), /*keyed=*/true), down_(std::move(down)) {}
  Result<int64_t> CommittedRound(std::string_view id) override {
    if (down_->Get()) return Status::Unavailable("sink '" + name_ + "' is down");
    return MemorySink::CommittedRound(id);
  }
  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    if (down_->Get()) {
      std::lock_guard<std::mutex> l(log_->mu);
      log_->failures.push_back(Status::Unavailable("down"));
      return Status::Unavailable("sink '" + name_ + "' is down");
    }
    return MemorySink::Write(events, ctx);
  }

 private:
  std::shared_ptr<SinkSwitch> down_;
};

// A MemorySink whose Write() waits while `closed` is on: a slow destination.
class GatedSink : public MemorySink {
 public:
  GatedSink(std::shared_ptr<SinkLog> log, std::string name, std::shared_ptr<SinkSwitch> closed)
      : MemorySink(std::move(log), std::move(name)), closed_(std::move(closed)) {}
  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    {
      std::unique_lock<std::mutex> l(closed_->mu);
      closed_->cv.wait(l, [&] { return !closed_->on; });
    }
    return MemorySink::Write(events, ctx);
  }

 private:
  std::shared_ptr<SinkSwitch> closed_;
};

}  // namespace lakelog::testing
