// libFuzzer target: arbitrary bytes as one NDJSON line into the ingest event parser.
// Invariant checked: the parser never crashes, and an accepted event has a valid level.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/event_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  lakelog::LogEvent event;
  lakelog::ingest::EventParserOptions options;
  options.max_line_bytes = 1 << 16;
  lakelog::Status st = lakelog::ingest::ParseEventLine(line, options, &event);
  if (st.ok() && static_cast<int>(event.level) > static_cast<int>(lakelog::Level::kFatal)) {
    __builtin_trap();
  }
  return 0;
}
