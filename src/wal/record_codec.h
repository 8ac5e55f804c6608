// RecordCodec: a LogEvent as the payload of a WAL record (and of an ingest journal record).
// See docs/wal.md.
//
//   version (1 byte, = 1)
//   pipeline          varint length | bytes
//   ts_micros         zigzag varint
//   level             1 byte (0..5)
//   presence          1 byte: bit 0 stage, 1 status, 2 message, 3 run_id, 4 host; others 0
//   each present optional string, in that order: varint length | bytes
//   attribute count   varint, then per attribute: key (varint length | bytes),
//                     value (varint length | bytes)
//
// Strings are stored as given (UTF-8 is not validated here). Decoding checks every bound and
// rejects trailing bytes, so any malformed input is a Corruption status, never a crash or an
// allocation larger than the input.
#pragma once

#include <string>
#include <string_view>

#include "lakelog/event.h"
#include "lakelog/status.h"

namespace lakelog::wal {

inline constexpr uint8_t kRecordCodecVersion = 1;

// Appends the encoding of `event` to *out (which callers clear and reuse to avoid allocating).
void EncodeLogEvent(const LogEvent& event, std::string* out);

// Decodes `data` into *event, replacing all of its fields. On error *event is unspecified.
// Errors: Corruption (truncated, bad length, bad level, unknown presence bits, trailing bytes),
// NotSupported (an unknown version).
Status DecodeLogEvent(std::string_view data, LogEvent* event);

}  // namespace lakelog::wal
