#include "flush/scheduler.h"

#include <algorithm>

namespace lakelog::flush {

int64_t EffectiveInterval(const PipelineEntry& p) {
  const LoggerOptions& o = p.buffer->options();
  int64_t interval = p.interval_micros;
  if (p.buffer->error_events() - p.errors_at_last_drain >= o.error_burst_events) {
    interval = std::min<int64_t>(interval, o.error_flush_interval.count() * 1000);
  }
  return interval;
}

int64_t DueAt(const PipelineEntry& p) {
  const LoggerOptions& o = p.buffer->options();
  const int64_t interval = EffectiveInterval(p);
  int64_t due = INT64_MAX;
  const int64_t ring = p.buffer->RingOldestTs();
  if (ring != INT64_MAX) due = ring + interval;
  const int64_t held = p.buffer->HeldOldestTs();
  if (held != INT64_MAX) {
    due = std::min(due, held + std::max<int64_t>(interval, o.aggregate_window.count() * 1000));
  }
  return due;
}

bool IsDue(const PipelineEntry& p, int64_t now) {
  const LoggerOptions& o = p.buffer->options();
  if (p.buffer->buffered_events() >= o.batch_events) return true;
  if (p.buffer->buffered_bytes() >= o.batch_bytes) return true;
  return now >= DueAt(p);
}

std::vector<size_t> PlanRound(const std::vector<PipelineEntry*>& entries, size_t start, int64_t now,
                              bool forced) {
  std::vector<size_t> plan;
  const size_t n = entries.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    const PipelineEntry& p = *entries[i];
    if (!p.buffer->HasData()) continue;
    const int64_t half = EffectiveInterval(p) / 2;
    const int64_t due_at = DueAt(p);
    if (forced || IsDue(p, now) || (due_at != INT64_MAX && now >= due_at - half)) {
      plan.push_back(i);
    }
  }
  return plan;
}

void AdaptIntervals(const std::vector<PipelinePart>& parts,
                    const std::vector<PipelineEntry*>& entries) {
  for (const PipelinePart& part : parts) {
    PipelineEntry& p = *entries[part.index];
    const LoggerOptions& o = p.buffer->options();
    if (o.target_file_bytes == 0) continue;
    const int64_t lo = o.flush_interval.count() * 1000;
    const int64_t hi = std::max(lo, static_cast<int64_t>(o.max_latency.count()) * 1000);
    if (part.bytes < o.target_file_bytes / 2) {
      p.interval_micros = std::min(hi, p.interval_micros * 2);
    } else if (part.bytes > o.target_file_bytes) {
      p.interval_micros = std::max(lo, p.interval_micros / 2);
    }
  }
}

}  // namespace lakelog::flush
