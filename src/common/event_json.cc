#include "common/event_json.h"

#include <cstdio>
#include <string_view>

#include "common/timestamp.h"

namespace lakelog {
namespace {

void AppendString(std::string_view text, std::string* out) {
  out->push_back('"');
  for (char c : text) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendField(std::string_view name, std::string_view value, std::string* out) {
  out->push_back(',');
  AppendString(name, out);
  out->push_back(':');
  AppendString(value, out);
}

void AppendOptional(std::string_view name, const std::optional<std::string>& value,
                    std::string* out) {
  if (value.has_value()) AppendField(name, *value, out);
}

}  // namespace

void AppendEventJson(const LogEvent& event, std::string* out) {
  out->append("{\"pipeline\":");
  AppendString(event.pipeline, out);
  AppendField("ts", FormatRfc3339Micros(event.ts_micros), out);
  AppendField("level", LevelName(event.level), out);
  AppendOptional("stage", event.stage, out);
  AppendOptional("status", event.status, out);
  AppendOptional("message", event.message, out);
  AppendOptional("run_id", event.run_id, out);
  AppendOptional("host", event.host, out);
  if (!event.attributes.empty()) {
    out->append(",\"attributes\":{");
    bool first = true;
    for (const auto& [key, value] : event.attributes) {
      if (!first) out->push_back(',');
      first = false;
      AppendString(key, out);
      out->push_back(':');
      AppendString(value, out);
    }
    out->push_back('}');
  }
  out->push_back('}');
}

}  // namespace lakelog
