// One event as one JSON object (the Kafka sink's message value, the OpenSearch sink's document)
// in the NDJSON event format that `lakelog ingest` reads (src/ingest/event_parser.h), so
// ingest::ParseEventLine(value) gives the event back. Unset optional fields are left out; ts is RFC
// 3339 UTC with microseconds.
#pragma once

#include <string>

#include "lakelog/event.h"

namespace lakelog {

// Appends the JSON object (no trailing newline) to *out. Strings are written as they are,
// with JSON escapes for '"', '\\' and control characters; text that is not valid UTF-8 stays
// invalid, so the consumer rejects (dead-letters) it rather than storing altered text.
void AppendEventJson(const LogEvent& event, std::string* out);

}  // namespace lakelog
