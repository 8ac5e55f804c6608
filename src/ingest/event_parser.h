// Parses one NDJSON line into a LogEvent, for `lakelog ingest`.
//
// Accepted fields: pipeline (string, required), ts (required: RFC 3339 text or an integer of
// epoch milliseconds, within kMinTsMicros..kMaxTsMicros once in UTC), level (TRACE, DEBUG, INFO,
// WARN, ERROR, FATAL in any case, WARNING for WARN; default INFO), stage/status/message/run_id/
// host (string or null), attributes (object of strings). Anything else — malformed JSON,
// invalid UTF-8, a missing or mistyped field, an unknown field, a key repeated in any object, a
// ts outside the years 0001..9999, an oversized line — is rejected with a reason that names the
// field or key. The parser never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/timestamp.h"
#include "lakelog/event.h"
#include "lakelog/status.h"

namespace lakelog::ingest {

struct EventParserOptions {
  size_t max_line_bytes = 8u << 20;  // lines longer than this are rejected unparsed
};

// On success fills *event (overwriting it). On failure returns InvalidArgument with the reason.
// Thread-safe (each thread keeps its own simdjson parser, sized to the longest line up to 1 MiB
// it has parsed).
Status ParseEventLine(std::string_view line, const EventParserOptions& options, LogEvent* event);

// The same on nlohmann-json: the definition of the rules and of every reason. ParseEventLine
// (on simdjson, event_parser_simdjson.cc) recognises only the lines this one accepts, builds the
// same event for them, and hands every other line to this one; ndjson_fuzz checks that the two
// never answer differently.
Status ParseEventLineReference(std::string_view line, const EventParserOptions& options,
                               LogEvent* event);

// Parses RFC 3339 ("2026-11-24T10:15:30.123456Z", "...+01:00", 't' or ' ' as separator,
// fraction up to nanoseconds, truncated to microseconds) into microseconds since the epoch.
// InvalidArgument when malformed or when the instant, in UTC, is outside
// kMinTsMicros..kMaxTsMicros (lakelog/event.h).
Status ParseRfc3339(std::string_view text, int64_t* micros);

// (common/timestamp.h) "2026-11-24T10:15:30.123456Z", the form ParseRfc3339 reads back.
using lakelog::FormatRfc3339Micros;

}  // namespace lakelog::ingest
