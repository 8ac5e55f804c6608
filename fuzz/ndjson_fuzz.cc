// libFuzzer target: arbitrary bytes as one NDJSON line into the ingest event parser.
//
// Properties checked on every accepted line (a failure aborts, so libFuzzer reports it): the
// event holds only values every Delta reader accepts —
//   - ts within 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z, so log_date is a
//     four-digit-year date that reads back as itself;
//   - valid UTF-8 in every string (pipeline, the string columns, attribute keys and values);
//   - partition values (pipeline, log_date) that escape to a directory name and unescape back to
//     themselves, and a pipeline that fits a directory;
//   - a valid level, and no attribute key twice (a map column with a repeated key is refused
//     by Spark).
// And ParseEventLine (simdjson) answers exactly as ParseEventLineReference (nlohmann-json, the
// definition of the rules): the same status and reason, the same event. The parsers never crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/utf8.h"
#include "delta/partition_path.h"
#include "ingest/event_parser.h"

namespace {

[[noreturn]] void Fail(std::string_view property, std::string_view value) {
  std::fprintf(stderr, "ndjson_fuzz: accepted line breaks a property: %.*s (value: %.*s)\n",
               static_cast<int>(property.size()), property.data(),
               static_cast<int>(std::min<size_t>(value.size(), 200)), value.data());
  std::abort();
}

void CheckUtf8(std::string_view what, std::string_view text) {
  if (!lakelog::IsValidUtf8(text)) Fail(what, text);
}

void CheckOptional(std::string_view what, const std::optional<std::string>& text) {
  if (text) CheckUtf8(what, *text);
}

void CheckPartitionValueRoundTrips(std::string_view what, std::string_view value) {
  const std::string escaped = lakelog::delta::EscapePartitionValue(value);
  if (escaped.find('/') != std::string::npos) Fail("escaped partition value holds '/'", escaped);
  if (lakelog::delta::UnescapePartitionValue(escaped) != value) Fail(what, value);
}

bool IsFourDigitYearDate(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (date[i] < '0' || date[i] > '9') return false;
  }
  return date.substr(0, 4) != "0000";
}

void CheckEvent(const lakelog::LogEvent& event) {
  if (static_cast<int>(event.level) > static_cast<int>(lakelog::Level::kFatal)) {
    Fail("level out of range", "");
  }
  const std::string ts = std::to_string(event.ts_micros);
  if (!lakelog::IsTsInRange(event.ts_micros)) Fail("ts outside the years 0001..9999", ts);
  const std::string date = lakelog::FormatDate(lakelog::DaysFromMicros(event.ts_micros));
  if (!IsFourDigitYearDate(date)) Fail("log_date is not YYYY-MM-DD with year 0001..9999", date);
  CheckPartitionValueRoundTrips("log_date does not unescape to itself", date);

  CheckUtf8("pipeline is not UTF-8", event.pipeline);
  CheckPartitionValueRoundTrips("pipeline does not unescape to itself", event.pipeline);
  if (!lakelog::delta::CheckPipelineName(event.pipeline).ok()) {
    Fail("pipeline cannot be a directory", event.pipeline);
  }
  CheckOptional("stage is not UTF-8", event.stage);
  CheckOptional("status is not UTF-8", event.status);
  CheckOptional("message is not UTF-8", event.message);
  CheckOptional("run_id is not UTF-8", event.run_id);
  CheckOptional("host is not UTF-8", event.host);
  std::set<std::string_view> keys;
  for (const auto& [key, value] : event.attributes) {
    CheckUtf8("attribute key is not UTF-8", key);
    CheckUtf8("attribute value is not UTF-8", value);
    if (!keys.insert(key).second) Fail("attribute key repeated", key);
  }
}

bool SameEvent(const lakelog::LogEvent& a, const lakelog::LogEvent& b) {
  return a.pipeline == b.pipeline && a.ts_micros == b.ts_micros && a.level == b.level &&
         a.stage == b.stage && a.status == b.status && a.message == b.message &&
         a.run_id == b.run_id && a.host == b.host && a.attributes == b.attributes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  lakelog::LogEvent event;
  lakelog::ingest::EventParserOptions options;
  options.max_line_bytes = 1 << 16;
  lakelog::Status st = lakelog::ingest::ParseEventLine(line, options, &event);
  lakelog::LogEvent reference;
  lakelog::Status reference_st =
      lakelog::ingest::ParseEventLineReference(line, options, &reference);
  if (st.ToString() != reference_st.ToString()) {
    Fail("the parsers disagree", st.ToString() + " | reference: " + reference_st.ToString());
  }
  if (st.ok()) {
    if (!SameEvent(event, reference)) Fail("the parsers built different events", line);
    CheckEvent(event);
  }
  // Parsing into an event that holds an earlier input's fields (kafka-ingest reuses its
  // events) must build the same event as parsing into a new one.
  static lakelog::LogEvent reused;
  lakelog::Status reused_st = lakelog::ingest::ParseEventLine(line, options, &reused);
  if (reused_st.ToString() != st.ToString()) Fail("a reused event changed the answer", line);
  if (st.ok() && !SameEvent(reused, event)) Fail("a reused event kept an earlier field", line);
  return 0;
}
