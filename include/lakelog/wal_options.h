// Options of the write-ahead log (EngineOptions::wal, `--sync`). What each sync mode can lose
// is spelled out in docs/durability.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lakelog {

enum class WalSyncMode : uint8_t {
  // The WAL never fsyncs on its own and Sync() is a no-op; segments are synced only when they
  // are rolled or the WAL is closed. A power loss can take the active segment's unsynced tail.
  kNone,
  // fsync at most every sync_interval_ms: by Append() or Sync() once the interval has passed,
  // and by a background thread when the log sits dirty (sync_interval_ms > 0). A power loss can
  // take about the last interval's records.
  kInterval,
  // Callers call Sync() once per batch; it fsyncs everything appended so far. Nothing is lost
  // that a successful Sync() covered.
  kGroupCommit,
};

struct WalOptions {
  WalSyncMode sync_mode = WalSyncMode::kGroupCommit;
  uint32_t sync_interval_ms = 100;       // kInterval only; 0 syncs on every Append()
  uint64_t segment_bytes = 64ull << 20;  // roll when the next record would pass this
  size_t max_record_bytes = 16u << 20;   // larger Append()s are InvalidArgument
};

// "none", "interval", "group".
std::string_view WalSyncModeName(WalSyncMode mode);
// Accepts the names above; false otherwise.
bool ParseWalSyncMode(std::string_view text, WalSyncMode* mode);

}  // namespace lakelog
