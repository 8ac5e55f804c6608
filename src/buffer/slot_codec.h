// SlotCodec: the compact form an event takes inside a buffer slot (EventHeader + payload).
//
// Layout of the payload (all lengths little-endian host order, never leaves the process):
//   [u32 key_len, u32 value_len] * num_attrs, then the bytes of stage, status, message,
//   run_id, host, and each attribute's key and value, back to back.
// The fixed-size EventHeader holds everything else. Encoding is allocation-free and inline (it
// is most of the logging hot path); decoding (on the flush thread) fills a LogEvent in place,
// reusing the capacity of its strings when the event is recycled (EventBatch).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "buffer/tsc_clock.h"
#include "lakelog/event.h"
#include "lakelog/logger.h"

namespace lakelog::buffer {

enum class EventString : uint8_t { kStage = 0, kStatus, kMessage, kRunId, kHost };
inline constexpr int kNumEventStrings = 5;

struct EventHeader {
  // The event time: microseconds since the epoch (ts_epoch TscClock::kMicrosEpoch), or raw TSC
  // ticks of calibration ts_epoch, converted by Decode (TscClock::StampMicros).
  int64_t ts = 0;
  uint32_t ts_epoch = TscClock::kMicrosEpoch;
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

namespace codec_detail {
// The first and the last kWidth of n (kWidth <= n <= 2 * kWidth) bytes.
template <size_t kWidth>
[[gnu::always_inline]] inline void CopyEnds(char* out, const char* src, size_t n) {
  char head[kWidth], tail[kWidth];
  std::memcpy(head, src, kWidth);
  std::memcpy(tail, src + n - kWidth, kWidth);
  std::memcpy(out, head, kWidth);
  std::memcpy(out + n - kWidth, tail, kWidth);
}

// Copies n bytes with fixed-size moves: the first and the last 8, 16 or 32 bytes, overlapping
// (never reading outside the source); larger strings go to memcpy. An event's strings are
// mostly this short, and each memcpy call (through the PLT to glibc's dispatcher) costs more
// than the copy. With Log() inlined down to the slot's stores (PipelineBuffer::PushOrDrop),
// hot_path_bench's p50 went from 30.8 to 26.2 ns in bursts and from 23.8 to 21.5 sustained.
[[gnu::always_inline]] inline void CopyShort(char* out, const char* src, size_t n) {
  if (n >= 16) {
    if (n <= 32) return CopyEnds<16>(out, src, n);
    if (n <= 64) return CopyEnds<32>(out, src, n);
    std::memcpy(out, src, n);
  } else if (n >= 8) {
    CopyEnds<8>(out, src, n);
  } else if (n >= 4) {
    CopyEnds<4>(out, src, n);
  } else if (n > 0) {
    out[0] = src[0];
    out[n / 2] = src[n / 2];
    out[n - 1] = src[n - 1];
  }
}

[[gnu::always_inline]] inline char* Put(char* out, std::string_view s) {
  CopyShort(out, s.data(), s.size());
  return out + s.size();
}
}  // namespace codec_detail

// Writes EncodedSize(f) bytes to `out` and fills `*h`. `ts` is the event time to use.
[[gnu::always_inline]] inline void Encode(const EventFields& f, TscClock::Stamp ts, EventHeader* h,
                                          char* out) {
  using codec_detail::Put;
  h->ts = ts.value;
  h->ts_epoch = ts.epoch;
  h->level = f.level;
  h->repeat_count = 1;
  h->lens[0] = static_cast<uint32_t>(f.stage.size());
  h->lens[1] = static_cast<uint32_t>(f.status.size());
  h->lens[2] = static_cast<uint32_t>(f.message.size());
  h->lens[3] = f.run_id ? static_cast<uint32_t>(f.run_id->size()) : 0;
  h->lens[4] = f.host ? static_cast<uint32_t>(f.host->size()) : 0;
  h->present = static_cast<uint8_t>(0b111 | (f.run_id ? 0b1000 : 0) | (f.host ? 0b10000 : 0));
  h->num_attrs = static_cast<uint32_t>(f.attributes.size());
  for (const Attribute& a : f.attributes) {
    const uint32_t lens[2] = {static_cast<uint32_t>(a.key.size()),
                              static_cast<uint32_t>(a.value.size())};
    std::memcpy(out, lens, sizeof(lens));
    out += sizeof(lens);
  }
  out = Put(out, f.stage);
  out = Put(out, f.status);
  out = Put(out, f.message);
  if (f.run_id) out = Put(out, *f.run_id);
  if (f.host) out = Put(out, *f.host);
  for (const Attribute& a : f.attributes) {
    out = Put(out, a.key);
    out = Put(out, a.value);
  }
}

// The decoder's fill-ins for fields an event was logged without.
struct DecodeDefaults {
  std::string_view pipeline;
  std::string_view host;
  std::string_view run_id;        // empty = null
  const TscClock* tsc = nullptr;  // converts ticks; set whenever events may carry them
};

// The event time of a header in microseconds since the epoch.
inline int64_t HeaderMicros(const EventHeader& h, const TscClock* tsc) {
  if (h.ts_epoch == TscClock::kMicrosEpoch) return h.ts;
  return tsc->StampMicros(TscClock::Stamp{h.ts, h.ts_epoch});
}

// Overwrites every field of *out with the encoded event. Strings are assigned in place, so a
// recycled LogEvent keeps its heap buffers and decoding into it does not allocate.
void Decode(const EventHeader& h, const char* payload, const DecodeDefaults& defaults,
            LogEvent* out);

// True when the encoded event has the same stage, status and message as `f`.
bool SameRepeatKey(const EventHeader& h, const char* payload, const EventFields& f);

// A 64-bit hash of (stage, status, message).
uint64_t RepeatKeyHash(const EventFields& f);

}  // namespace lakelog::buffer
