// ParseEventLine's fast path on simdjson's DOM parser.
//
// The rules and every message belong to ParseEventLineReference (event_parser.cc, on
// nlohmann-json). This file only recognises the lines that reference accepts, and builds the
// same LogEvent for them; for anything else — malformed JSON, a repeated or unknown key, a
// mistyped field, an out-of-range ts, a number that is not a plain integer, a line simdjson
// itself refuses (a UTF-8 BOM, nesting past 1024) — it hands the line to the reference, which
// then decides and names the problem. So the two can differ only in speed, and ndjson_fuzz
// checks that they never differ in their answer.
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "delta/partition_path.h"
#include "ingest/event_parser.h"

namespace lakelog::ingest {
namespace {

namespace dom = simdjson::dom;

// Lines up to this size are parsed by a parser kept per thread (its buffers sized to the
// largest such line); a longer one gets a parser of its own, freed right after, so one huge
// line does not pin its buffers for the life of the thread.
constexpr size_t kKeptParserBytes = 1 << 20;

// One bit per field, to see repeats and the two required fields.
constexpr uint32_t kPipeline = 1u << 0;
constexpr uint32_t kTs = 1u << 1;
constexpr uint32_t kLevel = 1u << 2;
constexpr uint32_t kStage = 1u << 3;
constexpr uint32_t kStatus = 1u << 4;
constexpr uint32_t kMessage = 1u << 5;
constexpr uint32_t kRunId = 1u << 6;
constexpr uint32_t kHost = 1u << 7;
constexpr uint32_t kAttributes = 1u << 8;

// 0 for a key that is not a field.
uint32_t FieldOf(std::string_view key) {
  switch (key.size()) {
    case 2: return key == "ts" ? kTs : 0;
    case 4: return key == "host" ? kHost : 0;
    case 5: return key == "level" ? kLevel : key == "stage" ? kStage : 0;
    case 6: return key == "status" ? kStatus : key == "run_id" ? kRunId : 0;
    case 7: return key == "message" ? kMessage : 0;
    case 8: return key == "pipeline" ? kPipeline : 0;
    case 10: return key == "attributes" ? kAttributes : 0;
    default: return 0;
  }
}

// A string or null into *out, into the string *out holds when it holds one (its capacity is
// reused); false for anything else.
bool OptionalString(dom::element value, std::optional<std::string>* out) {
  if (value.is_null()) {
    out->reset();
    return true;
  }
  std::string_view text;
  if (value.get_string().get(text)) return false;
  if (out->has_value()) {
    (*out)->assign(text);
  } else {
    out->emplace(text);
  }
  return true;
}

bool Ts(dom::element value, int64_t* micros) {
  switch (value.type()) {
    case dom::element_type::STRING: {
      std::string_view text;
      if (value.get_string().get(text)) return false;
      return ParseRfc3339(text, micros).ok();
    }
    case dom::element_type::INT64: {
      int64_t ms;
      if (value.get_int64().get(ms) || ms < kMinTsMillis || ms > kMaxTsMillis) return false;
      *micros = ms * 1000;
      return true;
    }
    default:
      // UINT64 is past int64, so out of range; a DOUBLE ("1.0", "1e3", "-0" in some
      // versions) is for the reference to classify.
      return false;
  }
}

// An object of strings, or null, into *out in the reference's order: nlohmann keeps an object
// in a std::map, so attributes come out sorted by key (bytewise). False on a non-string value
// or a repeated key.
// The pairs *out holds already are written over (their strings' capacity reused).
bool Attributes(dom::element value, std::vector<std::pair<std::string, std::string>>* out) {
  if (value.is_null()) {
    out->clear();
    return true;
  }
  dom::object object;
  if (value.get_object().get(object)) return false;
  size_t n = 0;
  for (dom::key_value_pair attr : object) {
    std::string_view text;
    if (attr.value.get_string().get(text)) return false;
    if (n < out->size()) {
      (*out)[n].first.assign(attr.key);
      (*out)[n].second.assign(text);
    } else {
      out->emplace_back(attr.key, text);
    }
    ++n;
  }
  out->resize(n);
  std::sort(out->begin(), out->end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return std::adjacent_find(out->begin(), out->end(), [](const auto& a, const auto& b) {
           return a.first == b.first;
         }) == out->end();
}

// True when the line is one the reference accepts; *event is then what it would build.
// False says nothing about the line (the reference decides); *event is then unspecified.
// The strings *event holds are written over rather than freed, so a caller that parses into
// the same events again (kafka-ingest refills a committed batch) allocates only as values grow.
bool TryParse(dom::parser& parser, std::string_view line, LogEvent* event) {
  dom::element root;
  if (parser.parse(line.data(), line.size()).get(root)) return false;
  dom::object object;
  if (root.get_object().get(object)) return false;
  event->level = Level::kInfo;
  uint32_t seen = 0;
  for (dom::key_value_pair field : object) {
    const uint32_t bit = FieldOf(field.key);
    if (bit == 0 || (seen & bit) != 0) return false;
    seen |= bit;
    const dom::element value = field.value;
    bool ok = false;
    switch (bit) {
      case kPipeline: {
        std::string_view text;
        ok = !value.get_string().get(text);
        if (ok) event->pipeline.assign(text);
        break;
      }
      case kTs: ok = Ts(value, &event->ts_micros); break;
      case kLevel: {
        std::string_view text;
        ok = value.is_null() || (!value.get_string().get(text) && ParseLevel(text, &event->level));
        break;
      }
      case kStage: ok = OptionalString(value, &event->stage); break;
      case kStatus: ok = OptionalString(value, &event->status); break;
      case kMessage: ok = OptionalString(value, &event->message); break;
      case kRunId: ok = OptionalString(value, &event->run_id); break;
      case kHost: ok = OptionalString(value, &event->host); break;
      case kAttributes: ok = Attributes(value, &event->attributes); break;
    }
    if (!ok) return false;
  }
  // The fields the line does not name are unset, as in a new LogEvent.
  if ((seen & kStage) == 0) event->stage.reset();
  if ((seen & kStatus) == 0) event->status.reset();
  if ((seen & kMessage) == 0) event->message.reset();
  if ((seen & kRunId) == 0) event->run_id.reset();
  if ((seen & kHost) == 0) event->host.reset();
  if ((seen & kAttributes) == 0) event->attributes.clear();
  return (seen & kPipeline) != 0 && (seen & kTs) != 0 &&
         delta::CheckPipelineName(event->pipeline).ok();
}

}  // namespace

Status ParseEventLine(std::string_view line, const EventParserOptions& options, LogEvent* event) {
  if (line.size() <= options.max_line_bytes) {
    bool accepted;
    if (line.size() <= kKeptParserBytes) {
      thread_local dom::parser parser;
      accepted = TryParse(parser, line, event);
    } else {
      auto parser = std::make_unique<dom::parser>();
      accepted = TryParse(*parser, line, event);
    }
    if (accepted) return Status::OK();
  }
  return ParseEventLineReference(line, options, event);
}

}  // namespace lakelog::ingest
