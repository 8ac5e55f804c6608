// EventCodec: the compact form an event takes inside a buffer slot.
//
// Layout of the payload (all lengths little-endian host order, never leaves the process):
//   [u32 key_len, u32 value_len] * num_attrs, then the bytes of stage, status, message,
//   run_id, host, and each attribute's key and value, back to back.
// The fixed-size EventHeader holds everything else. Encoding is allocation-free; decoding
// (on the flush thread) builds a LogEvent.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "lakelog/event.h"
#include "lakelog/logger.h"

namespace lakelog::internal {

enum class EventString : uint8_t { kStage = 0, kStatus, kMessage, kRunId, kHost };
inline constexpr int kNumEventStrings = 5;

struct EventHeader {
  int64_t ts_micros = 0;
  uint32_t lens[kNumEventStrings] = {};
  uint32_t num_attrs = 0;
  uint32_t repeat_count = 1;  // > 1 after kAggregateRepeats merged identical events
  uint8_t present = 0;        // bit i: string i was given (run_id and host are optional)
  Level level = Level::kInfo;
};

// Payload bytes Encode() will write for `f`.
inline uint32_t EncodedSize(const EventFields& f) {
  size_t n = f.stage.size() + f.status.size() + f.message.size();
  if (f.run_id) n += f.run_id->size();
  if (f.host) n += f.host->size();
  for (const Attribute& a : f.attributes) n += 8 + a.key.size() + a.value.size();
  return n > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(n);
}

// Writes EncodedSize(f) bytes to `out` and fills `*h`. `ts_micros` is the event time to use.
void Encode(const EventFields& f, int64_t ts_micros, EventHeader* h, char* out);

// The decoder's fill-ins for fields an event was logged without.
struct DecodeDefaults {
  std::string_view pipeline;
  std::string_view host;
  std::string_view run_id;  // empty = null
};

// Builds the LogEvent of an encoded event.
void Decode(const EventHeader& h, const char* payload, const DecodeDefaults& defaults,
            LogEvent* out);

// True when the encoded event has the same stage, status and message as `f`.
bool SameRepeatKey(const EventHeader& h, const char* payload, const EventFields& f);

// A 64-bit hash of (stage, status, message).
uint64_t RepeatKeyHash(const EventFields& f);

}  // namespace lakelog::internal
