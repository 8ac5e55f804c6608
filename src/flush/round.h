// A flush round: the events drained from every pipeline that joined it, in one batch that each
// sink receives in ONE Write() call, and the WAL records that protect it.
//
// A round is built by one thread at a time (so WAL order is round order), then shared, read
// only, by the per-sink deliveries until every sink has settled it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "buffer/event_batch.h"
#include "flush/scheduler.h"
#include "lakelog/status.h"
#include "wal/wal.h"

namespace lakelog::flush {

struct Round {
  int64_t seq = 0;  // 1, 2, ...: the engine's round number
  bool forced = false;
  buffer::EventBatch events;          // storage recycled across rounds
  std::vector<const LogEvent*> rows;  // the events, as Sink::Write takes them
  std::vector<PipelinePart> parts;
  std::vector<buffer::LanePositions> heads;  // lane heads of every pipeline after the drain
  uint64_t bytes = 0;                        // payload bytes of the events
  // With a WAL: the sequence of every event and of the last one (0 without a WAL), and why
  // the round is not durable in the WAL (then its events reach the sinks unprotected and no
  // sink can catch up on them from the WAL).
  std::vector<uint64_t> wal_sequences;
  uint64_t wal_last_seq = 0;
  Status wal_status;

  bool empty() const { return rows.empty(); }
  // Memory the round's events take while it waits for a sink: each LogEvent (its strings'
  // inline buffers included) and row pointer, plus the payload. Decoded events take ~10x the
  // payload of short log lines, so a backlog counted in payload alone hid most of its memory.
  uint64_t footprint() const {
    return bytes + rows.size() * (sizeof(LogEvent) + sizeof(const LogEvent*));
  }
  bool in_wal() const { return wal_last_seq != 0 && wal_status.ok(); }
};

// Payload bytes of an event (its strings, plus 8 per attribute): what batch_bytes and the sink
// backlog budget count.
uint64_t PayloadBytes(const LogEvent& e);

// Drains every planned pipeline into `round` (up to its batch_events/batch_bytes, plus
// aggregated repeats that are due), records each pipeline's lane heads, and fills round->rows.
// Needs no lock: a pipeline buffer is safe to drain from one thread while producers log.
void DrainRound(const std::vector<size_t>& plan, const std::vector<PipelineEntry*>& entries,
                int64_t now, Round* round);

// Appends events to the WAL, one record each, in writes of about 1 MiB. Only the round
// builder (or Stop() after the flush threads ended) calls it, so WAL order is round order.
// Returns the first error; the batches after a failed one are still tried (the WAL rolls to a
// fresh segment), and every event consumes its sequence (written to *sequences when given).
class WalAppender {
 public:
  Status Append(wal::Wal* wal, std::span<const LogEvent> events, std::vector<uint64_t>* sequences);

 private:
  wal::WalRecordBatch batch_;  // encoding scratch, kept across rounds
};

}  // namespace lakelog::flush
