#include "analytics/sla.h"

#include <toml++/toml.h>

#include <sstream>

#include "analytics/time_spec.h"

namespace lakelog::analytics {
namespace {

Status Problem(const std::string& source, const toml::source_region& where,
               const std::string& what) {
  std::ostringstream out;
  out << source;
  if (where.begin.line > 0) out << ":" << where.begin.line;
  out << ": " << what;
  return Status::InvalidArgument(out.str());
}

Result<int64_t> DurationValue(const std::string& source, const std::string& key,
                              const toml::node& node) {
  std::optional<int64_t> micros;
  if (auto text = node.value<std::string>()) {
    micros = ParseDuration(*text);
  } else if (node.is_integer() || node.is_floating_point()) {
    double seconds = *node.value<double>();
    if (seconds >= 0) micros = static_cast<int64_t>(seconds * kMicrosPerSecond);
  }
  if (!micros) {
    return Problem(source, node.source(),
                   "'" + key + "' is not a duration (\"90s\", \"15m\", \"2h\", \"1d\", seconds)");
  }
  return *micros;
}

Status ParseSection(const std::string& source, const std::string& name, const toml::table& table,
                    PipelineSla* out) {
  for (const auto& [key, node] : table) {
    const std::string k(key.str());
    if (k == "max_run_duration" || k == "max_staleness") {
      auto value = DurationValue(source, name + "." + k, node);
      if (!value.ok()) return value.status();
      (k == "max_run_duration" ? out->max_run_duration_micros : out->max_staleness_micros) = *value;
    } else {
      return Problem(source, node.source(),
                     "unknown key '" + name + "." + k + "' (max_run_duration, max_staleness)");
    }
  }
  return Status::OK();
}

}  // namespace

PipelineSla SlaConfig::For(const std::optional<std::string>& pipeline) const {
  PipelineSla out = defaults;
  if (!pipeline) return out;
  auto it = pipelines.find(*pipeline);
  if (it == pipelines.end()) return out;
  if (it->second.max_run_duration_micros) {
    out.max_run_duration_micros = it->second.max_run_duration_micros;
  }
  if (it->second.max_staleness_micros) out.max_staleness_micros = it->second.max_staleness_micros;
  return out;
}

Result<SlaConfig> ParseSlaConfig(const std::string& toml_text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return Problem(source, e.source(), std::string(e.description()));
  }
  SlaConfig config;
  for (const auto& [key, node] : root) {
    const std::string k(key.str());
    if (k == "default" && node.is_table()) {
      LAKELOG_RETURN_IF_ERROR(ParseSection(source, k, *node.as_table(), &config.defaults));
    } else if (k == "pipeline" && node.is_table()) {
      for (const auto& [name, section] : *node.as_table()) {
        const std::string pipeline(name.str());
        if (!section.is_table()) {
          return Problem(
              source, section.source(),
              "'pipeline." + pipeline + "' must be a section ([pipeline." + pipeline + "])");
        }
        LAKELOG_RETURN_IF_ERROR(ParseSection(source, "pipeline." + pipeline, *section.as_table(),
                                             &config.pipelines[pipeline]));
      }
    } else {
      return Problem(source, node.source(),
                     "unknown section '" + k + "' ([default], [pipeline.NAME])");
    }
  }
  return config;
}

}  // namespace lakelog::analytics
