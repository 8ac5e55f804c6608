// Logger: the handle a producer logs through, one per pipeline.
//
//   lakelog::Logger log = engine->GetLogger("index_loader").value();
//   log.Log(lakelog::Level::kInfo, "delta_merge", "SUCCESS", "Merge complete");
//   const lakelog::Attribute attributes[] = {{"table", "orders"}};
//   log.Log({.level = lakelog::Level::kError, .stage = "extract", .status = "FAILED",
//            .message = "timeout", .run_id = "run-42", .attributes = attributes});
//
// Log() copies the arguments into the pipeline's pre-allocated buffer and returns at once: it
// never throws, never allocates for events that fit a buffer slot (kInlineEventBytes), and
// never waits on I/O. Only OverflowPolicy::kBlock waits, for room, at most block_timeout.
//
// Thread-safety: a Logger may be copied freely and used from any number of threads. It stays
// safe to use after Engine::Stop() or the engine's destruction; events are then counted as
// dropped ("closed").
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "lakelog/engine_options.h"
#include "lakelog/event.h"

namespace lakelog {

namespace buffer {
class PipelineBuffer;
}

// Events whose strings total at most this many bytes are stored in a buffer slot without any
// allocation; bigger ones (up to LoggerOptions::max_event_bytes) take one heap allocation.
inline constexpr uint32_t kInlineEventBytes = 384;

enum class LogResult : uint8_t {
  kAccepted,    // buffered; it will be committed or counted as dropped
  kAggregated,  // merged into an identical buffered event (kAggregateRepeats)
  kDropped,     // not buffered; counted under a DropReason
};

struct Attribute {
  std::string_view key;
  std::string_view value;
};

// The fields of one event, all borrowed for the duration of Log(). Unset optionals are
// filled: ts from the engine's clock, host from EngineOptions::host, run_id from
// LoggerOptions::run_id (null when that is empty too). A ts_micros outside
// kMinTsMicros..kMaxTsMicros (lakelog/event.h) is dropped as DropReason::kBadTimestamp.
struct EventFields {
  Level level = Level::kInfo;
  // Default initializers, so a designated initializer may leave any field out
  // (-Wmissing-field-initializers stays quiet).
  std::string_view stage = {};
  std::string_view status = {};
  std::string_view message = {};
  std::optional<std::string_view> run_id = std::nullopt;
  std::optional<int64_t> ts_micros = std::nullopt;
  std::optional<std::string_view> host = std::nullopt;
  std::span<const Attribute> attributes = {};
};

// Counters of one pipeline; a consistent-enough snapshot (each counter is read atomically).
struct LoggerStats {
  uint64_t accepted = 0;         // Log() calls that returned kAccepted
  uint64_t flushed = 0;          // rows the sink accepted
  uint64_t buffered_events = 0;  // in the ring buffer now
  uint64_t buffered_bytes = 0;
  std::array<uint64_t, kNumDropReasons> dropped{};  // indexed by DropReason
  uint64_t dropped_by(DropReason r) const { return dropped[static_cast<size_t>(r)]; }
  uint64_t dropped_total() const;
};

class Logger {
 public:
  // An unusable handle: every Log() is dropped (uncounted; there is no pipeline).
  Logger() = default;

  LogResult Log(const EventFields& fields) noexcept;
  // The shorthands build their EventFields with designated initializers, not default
  // construction and assignments: from those, gcc zeroes the whole struct with `rep stos`,
  // which took a call from ~20 to ~32 ns (docs/BENCHMARKS.md); this way it stores only the
  // fields.
  LogResult Log(Level level, std::string_view stage, std::string_view status,
                std::string_view message) noexcept {
    return Log(EventFields{.level = level, .stage = stage, .status = status, .message = message});
  }
  LogResult Log(Level level, std::string_view stage, std::string_view status,
                std::string_view message, std::string_view run_id,
                std::initializer_list<Attribute> attributes = {}) noexcept {
    return Log(EventFields{
        .level = level,
        .stage = stage,
        .status = status,
        .message = message,
        .run_id = run_id,
        .attributes = std::span<const Attribute>(attributes.begin(), attributes.size())});
  }

  LogResult Info(std::string_view stage, std::string_view status, std::string_view message) {
    return Log(Level::kInfo, stage, status, message);
  }
  LogResult Warn(std::string_view stage, std::string_view status, std::string_view message) {
    return Log(Level::kWarn, stage, status, message);
  }
  LogResult Error(std::string_view stage, std::string_view status, std::string_view message) {
    return Log(Level::kError, stage, status, message);
  }

  bool valid() const { return buffer_ != nullptr; }
  // Empty for an invalid handle.
  std::string_view pipeline() const;
  LoggerStats stats() const;

 private:
  friend class Engine;
  explicit Logger(std::shared_ptr<buffer::PipelineBuffer> buffer) : buffer_(std::move(buffer)) {}
  std::shared_ptr<buffer::PipelineBuffer> buffer_;
};

}  // namespace lakelog
