// Helpers shared by the pipeline buffer tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "buffer/pipeline_buffer.h"

namespace lakelog::buffer::testing {

inline LoggerOptions Options(OverflowPolicy policy, uint32_t capacity_events) {
  LoggerOptions o;
  o.overflow = policy;
  o.capacity_events = capacity_events;
  o.block_timeout = std::chrono::milliseconds(1);
  return o;
}

// stage "load", status "RUNNING" (4 + 7 bytes) and `message`.
inline EventFields Fields(std::string_view message, Level level = Level::kInfo) {
  EventFields f;
  f.level = level;
  f.stage = "load";
  f.status = "RUNNING";
  f.message = message;
  return f;
}

// Everything buffered, held repeats included.
inline std::vector<LogEvent> DrainAll(PipelineBuffer* b) {
  std::vector<LogEvent> out;
  uint64_t bytes = 0;
  b->Drain(SIZE_MAX, UINT64_MAX, &out, &bytes);
  b->HarvestRepeats(0, true, &out);
  return out;
}

}  // namespace lakelog::buffer::testing
