// Logger handle and the names of the option enums.
#include "lakelog/logger.h"

#include "buffer/pipeline_buffer.h"

namespace lakelog {

uint64_t LoggerStats::dropped_total() const {
  uint64_t total = 0;
  for (uint64_t n : dropped) total += n;
  return total;
}

LogResult Logger::Log(const EventFields& fields) noexcept {
  if (buffer_ == nullptr) return LogResult::kDropped;
  // Only a caller-given ts can be out of range; the engine's clock never is.
  if (fields.ts_micros && !IsTsInRange(*fields.ts_micros)) {
    buffer_->CountDropped(DropReason::kBadTimestamp, 1);
    return LogResult::kDropped;
  }
  return buffer_->Log(fields);
}

std::string_view Logger::pipeline() const {
  return buffer_ ? std::string_view(buffer_->pipeline()) : std::string_view();
}

LoggerStats Logger::stats() const { return buffer_ ? buffer_->Stats() : LoggerStats{}; }

std::string_view OverflowPolicyName(OverflowPolicy policy) {
  switch (policy) {
    case OverflowPolicy::kBlock: return "block";
    case OverflowPolicy::kDropNewest: return "drop_newest";
    case OverflowPolicy::kDropOldest: return "drop_oldest";
    case OverflowPolicy::kShedByLevel: return "shed_by_level";
    case OverflowPolicy::kAggregateRepeats: return "aggregate_repeats";
  }
  return "drop_newest";
}

bool ParseOverflowPolicy(std::string_view text, OverflowPolicy* policy) {
  for (OverflowPolicy p :
       {OverflowPolicy::kBlock, OverflowPolicy::kDropNewest, OverflowPolicy::kDropOldest,
        OverflowPolicy::kShedByLevel, OverflowPolicy::kAggregateRepeats}) {
    if (text == OverflowPolicyName(p)) {
      *policy = p;
      return true;
    }
  }
  return false;
}

std::string_view DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kDropNewest: return "drop_newest";
    case DropReason::kDropOldest: return "drop_oldest";
    case DropReason::kShed: return "shed";
    case DropReason::kBlockTimeout: return "block_timeout";
    case DropReason::kAggregated: return "aggregated";
    case DropReason::kTooLarge: return "too_large";
    case DropReason::kSinkError: return "sink_error";
    case DropReason::kClosed: return "closed";
    case DropReason::kBadTimestamp: return "bad_timestamp";
    case DropReason::kSinkBacklog: return "sink_backlog";
  }
  return "unknown";
}

}  // namespace lakelog
