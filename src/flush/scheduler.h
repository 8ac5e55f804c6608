// The flush scheduler's decisions: when a pipeline is due, which pipelines join a round, and
// how a pipeline's interval adapts to the size of what it flushed. Plain functions over the
// engine's pipeline entries; the engine calls them with its mutex held (the scheduler fields
// of PipelineEntry are guarded by it).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "buffer/pipeline_buffer.h"

namespace lakelog::flush {

struct PipelineEntry {
  std::shared_ptr<buffer::PipelineBuffer> buffer;
  // Scheduler state, guarded by the engine's mutex.
  int64_t interval_micros = 0;  // adaptive; flush_interval .. max_latency
  uint64_t errors_at_last_drain = 0;
  // Lane positions below which every event is settled with every sink (written, kept in the
  // WAL for a sink that catches up from it, or counted as dropped) / durable in the WAL.
  buffer::LanePositions committed_head;
  buffer::LanePositions durable_head;  // covers committed_head
  std::atomic<int64_t> last_flush_micros{0};
};

// How many events and bytes of one pipeline a round took.
struct PipelinePart {
  size_t index;  // into the engine's pipeline list
  uint64_t events = 0;
  uint64_t bytes = 0;
};

// The interval in force: the adaptive one, shortened to error_flush_interval during an error
// burst.
int64_t EffectiveInterval(const PipelineEntry& p);

// When the pipeline must flush by its interval; INT64_MAX when it holds nothing.
int64_t DueAt(const PipelineEntry& p);

// Due now: by interval, or because a batch's worth of events or bytes is waiting.
bool IsDue(const PipelineEntry& p, int64_t now);

// The pipelines that join a round built at `now`, visited round-robin from `start`: every one
// with data that is due, or at least half-way to due (so it joins this commit instead of
// needing its own soon after), or all with data when the round is `forced` (a Flush()).
std::vector<size_t> PlanRound(const std::vector<PipelineEntry*>& entries, size_t start, int64_t now,
                              bool forced);

// Batches far below the target file size double the pipeline's interval (up to max_latency);
// batches above it halve it again (down to flush_interval).
void AdaptIntervals(const std::vector<PipelinePart>& parts,
                    const std::vector<PipelineEntry*>& entries);

}  // namespace lakelog::flush
