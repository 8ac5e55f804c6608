// Service-level objectives per pipeline, from a TOML file (`lakelog report --sla FILE`):
//
//   [default]                      # for every pipeline without a section of its own
//   max_run_duration = "1h"        # a run's first to last event
//   max_staleness = "2h"           # now minus the pipeline's last event
//
//   [pipeline.index_loader]        # keys as in [default]; missing ones fall back to it
//   max_run_duration = "15m"
//
// Durations are "90s", "15m", "2h", "1d", "1w" or a number of seconds. A pipeline named in the
// file is reported even when it logged nothing in the window.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "lakelog/status.h"

namespace lakelog::analytics {

struct PipelineSla {
  std::optional<int64_t> max_run_duration_micros;
  std::optional<int64_t> max_staleness_micros;
  bool empty() const { return !max_run_duration_micros && !max_staleness_micros; }
};

struct SlaConfig {
  PipelineSla defaults;
  std::map<std::string, PipelineSla> pipelines;

  // The objectives of `pipeline` (its own keys, else the defaults); empty when none apply.
  PipelineSla For(const std::optional<std::string>& pipeline) const;
};

// Parses the TOML text of an SLA file. InvalidArgument naming `source`, the line and the key
// on a syntax error, an unknown section or key, or a bad duration.
Result<SlaConfig> ParseSlaConfig(const std::string& toml_text, const std::string& source);

}  // namespace lakelog::analytics
