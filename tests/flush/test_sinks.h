// Sinks for tests: MemorySink records every Write(); FailingSink fails a scripted number of
// times before delegating to a MemorySink. Both are thread-safe for inspection while the
// engine writes.
#pragma once

#include <algorithm>
#include <atomic>
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

class MemorySink : public Sink {
 public:
  explicit MemorySink(std::shared_ptr<SinkLog> log) : log_(std::move(log)) {}
  std::string_view name() const override { return "memory"; }
  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    if (in_write_.exchange(true)) return Status::Internal("concurrent Write() calls");
    RecordedWrite w;
    w.round = ctx.round;
    w.attempt = ctx.attempt;
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

}  // namespace lakelog::testing
