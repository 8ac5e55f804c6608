// Options of the logging engine and of each pipeline's logger.
//
// Every field has a default that works; an application usually sets only the pipeline name
// and perhaps the overflow policy. Durations are std::chrono; sizes are bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "lakelog/clock.h"
#include "lakelog/event.h"
#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "lakelog/wal_options.h"

namespace lakelog {

// What Log() does when the pipeline's buffer is full (in events or in bytes).
enum class OverflowPolicy : uint8_t {
  // Wait for room, at most LoggerOptions::block_timeout; then drop ("block_timeout").
  // The only policy under which Log() may wait.
  kBlock,
  // Reject the new event ("drop_newest").
  kDropNewest,
  // Evict the oldest buffered events until the new one fits ("drop_oldest").
  kDropOldest,
  // Past the high-water mark, events below `shed_below_level` are dropped ("shed"); past the
  // reserved headroom only ERROR and FATAL are still accepted; a full buffer drops the newest.
  kShedByLevel,
  // Identical (stage, status, message) events of one pipeline within `aggregate_window` become
  // one row whose attributes carry "repeat_count"; each merged event is counted as
  // "aggregated". A full buffer drops the newest.
  kAggregateRepeats,
};

std::string_view OverflowPolicyName(OverflowPolicy policy);
// Accepts "block", "drop_newest", "drop_oldest", "shed_by_level", "aggregate_repeats".
bool ParseOverflowPolicy(std::string_view text, OverflowPolicy* policy);

// Why an event that Log() was given did not become a row of its own. Every such event is
// counted under exactly one reason (LoggerStats::dropped, lakelog_events_dropped_total).
enum class DropReason : uint8_t {
  kDropNewest = 0,  // buffer full, policy kDropNewest (or a full buffer under other policies)
  kDropOldest,      // evicted to make room, policy kDropOldest
  kShed,            // below the level kept past the high-water mark, policy kShedByLevel
  kBlockTimeout,    // no room within block_timeout, policy kBlock
  kAggregated,      // merged into an identical event's row (its repeat_count includes it)
  kTooLarge,        // larger than max_event_bytes or than the whole buffer
  kSinkError,       // the sink failed for good (non-retryable error, or retries ran past Stop)
  kClosed,          // logged after Stop() or after the engine was destroyed
  // EventFields::ts_micros outside kMinTsMicros..kMaxTsMicros (years 0001..9999 UTC): such a
  // row would make the whole table unreadable to Delta readers.
  kBadTimestamp,
  // With several sinks and no WAL: a sink fell more than EngineOptions::sink_backlog_bytes
  // behind the others, and the round was given up for it (the other sinks have it).
  kSinkBacklog,
};
inline constexpr int kNumDropReasons = 10;
// "drop_newest", "drop_oldest", "shed", "block_timeout", "aggregated", "too_large",
// "sink_error", "closed", "bad_timestamp", "sink_backlog": the `reason` label of
// lakelog_events_dropped_total.
std::string_view DropReasonName(DropReason reason);

// Per pipeline. Compared with == by Engine::GetLogger.
struct LoggerOptions {
  // Buffer bounds; Log() applies `overflow` when either would be exceeded. An event's size is
  // the bytes of its strings (stage, status, message, run_id, host, attribute keys and values)
  // plus 8 per attribute. capacity_events is at least 2; each event slot takes 448 bytes, and
  // a buffer has capacity_events slots plus a reserve of a quarter of them (so that a full
  // buffer's producers write into slots the flush thread read long ago), so its memory is
  // about capacity_events * 560 + capacity_bytes (for spilled big events).
  // Each logging thread writes to a lane of its own (15 per pipeline; further threads share
  // one). A lane takes events, bytes and slots in chunks: events and slots in segments of
  // capacity_events / 32 (a power of two, 1 to 4096), bytes in credits of capacity_bytes / 64
  // (at most 64 KiB), and tops its credits up a chunk ahead. So with several threads a push may
  // fail up to two segments of events and two byte credits per lane before the bounds are
  // reached (never after them), and more once the lanes' part-filled segments (two per lane at
  // most) outnumber the reserve; one thread fills the buffer exactly.
  uint32_t capacity_events = 8192;
  uint64_t capacity_bytes = 8ull << 20;
  OverflowPolicy overflow = OverflowPolicy::kDropNewest;
  // Largest single event; bigger ones are dropped as "too_large".
  uint32_t max_event_bytes = 64 << 10;

  // Flush triggers. A pipeline is due when its oldest buffered event is older than the
  // current interval, or it holds batch_events events, or batch_bytes bytes.
  std::chrono::milliseconds flush_interval{5000};
  uint32_t batch_events = 4096;
  uint64_t batch_bytes = 4ull << 20;

  // Adaptive sizing. When target_file_bytes > 0, a pipeline whose flushed batches stay far
  // below target_file_bytes doubles its interval after each flush, up to max_latency (the
  // bound on the age of its oldest unflushed event); a batch above target halves it again,
  // down to flush_interval. 0 keeps the interval fixed.
  uint64_t target_file_bytes = 0;
  std::chrono::milliseconds max_latency{60000};
  // Bursts: once `error_burst_events` ERROR/FATAL or status "FAILED" events arrive between two
  // flushes, the pipeline flushes on error_flush_interval until the burst is written.
  uint32_t error_burst_events = 8;
  std::chrono::milliseconds error_flush_interval{500};

  // kBlock.
  std::chrono::milliseconds block_timeout{100};
  // kShedByLevel: fill ratio (of events or bytes, whichever is higher) past which events below
  // shed_below_level are shed; events below ERROR may fill at most 1 - error_reserve.
  double high_water_mark = 0.8;
  Level shed_below_level = Level::kWarn;
  double error_reserve = 0.1;
  // kAggregateRepeats.
  std::chrono::milliseconds aggregate_window{1000};

  // Filled into events logged without a run id.
  std::string run_id;

  bool operator==(const LoggerOptions&) const = default;
};

// Options for Engine::Stop().
struct StopOptions {
  // Append one final event per pipeline before the last flush: level INFO, stage "lakelog",
  // status `final_status`, message `final_message`, attributes with the pipeline's counts.
  bool append_final_event = false;
  std::string final_status = "COMPLETED";
  std::string final_message = "pipeline completed";
  // Everything still buffered is flushed (with retries) until this deadline; what cannot be
  // committed by then is counted as dropped ("sink_error").
  std::chrono::milliseconds timeout{30000};
};

struct EngineOptions {
  // Flush threads. Rounds are committed in order; with more than one thread the next round is
  // drained and converted while the previous one is being written. 0 = no background thread:
  // the application drives flushing with Engine::RunDueRounds() (simulations, event loops).
  int flush_threads = 1;
  // How often the flush threads look at the buffers for event/byte/interval triggers.
  std::chrono::milliseconds poll_interval{10};

  // Sink retries: exponential backoff with full jitter, sleep = uniform(0, min(max, initial *
  // 2^attempt)). A failing round is retried until it succeeds or Stop()'s deadline passes.
  std::chrono::milliseconds retry_initial_backoff{50};
  std::chrono::milliseconds retry_max_backoff{10000};

  // Identifies this writer to the sink (Delta txn appId). Empty = "lakelog-<host>-<random>".
  // Set it to a stable name to make rounds idempotent across restarts of the same writer.
  // With a WAL the id belongs to the WAL directory instead (see wal_dir).
  std::string writer_id;

  // Write-ahead log directory; empty = no WAL. With a WAL, every flush round's events are
  // appended to the WAL (and synced per wal.sync_mode) before the sink sees them, and each
  // sink write is keyed on the WAL sequence of its last event. On Open the engine replays what
  // the WAL holds beyond the sink's committed key for this writer and commits it once, before
  // any new round; WAL segments are deleted only once everything in them is committed. The
  // writer id is made once per WAL directory and kept in `engine.json` inside it
  // ("<writer_id or lakelog-<host>>-wal-<random>"), so two engines on two WAL directories never
  // share one, and a restarted engine on the same directory continues where it stopped.
  // Engine::Sync() acknowledges what the WAL holds durably; docs/durability.md says what each
  // sync mode can lose. A sink that is down at start (table unwritable, disk full) does not
  // stop Open(): events wait in the WAL and the buffers, and the error reaches error_handler.
  std::string wal_dir;
  WalOptions wal;
  // File system of the WAL; nullptr = PosixFileSystem(). Must outlive the engine.
  FileSystem* wal_fs = nullptr;
  // Host name filled into events logged without one. Empty = gethostname().
  std::string host;

  // Time source; nullptr = RealClock(). Must outlive the engine. The sinks get it too
  // (Sink::Attach): a Delta sink's table runs on it unless its DeltaTableOptions::clock is set.
  Clock* clock = nullptr;

  // Called from a flush thread for every failed sink write (and other background errors).
  // Must not call back into the engine's Flush/Stop.
  std::function<void(const Status&)> error_handler;

  // Prometheus endpoint GET /metrics: 0 = off, kEphemeralMetricsPort = any free port
  // (Engine::metrics_port() tells which).
  static constexpr int kEphemeralMetricsPort = -1;
  int metrics_port = 0;
  std::string metrics_bind_address = "127.0.0.1";

  // How far (in memory held by the rounds it has not taken: decoded events and their payload)
  // one sink may fall behind the others before its backlog stops growing. Without a WAL the
  // engine builds no new round while every sink still has one waiting, so when all sinks are
  // slow the buffers fill and their overflow policy applies, instead of rounds piling up. With a
  // WAL the rounds it has not taken are let go from memory and the sink catches up from the WAL
  // later (nothing is lost); without one, the rounds that do not fit are given up for that sink
  // only, counted as dropped with reason "sink_backlog".
  uint64_t sink_backlog_bytes = 64ull << 20;

  // Used by the destructor when Stop() was not called.
  std::chrono::milliseconds stop_timeout{30000};
};

}  // namespace lakelog
