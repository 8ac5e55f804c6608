// GroupIndex: the batch of an Append grouped by (pipeline, UTC day of ts), the unit of one data
// file. The grouping is the first pass over every event of a round, so it is a hash index built
// for that pass (see GroupIndex) rather than a std::map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "lakelog/event.h"

namespace lakelog::delta {

// A (pipeline, log_date) group of the batch. `pipeline` views an event's string.
struct Group {
  std::string_view pipeline;
  int32_t day = 0;
  size_t rows = 0;
  size_t first = 0;  // index in the batch of the group's first event
  size_t last = 0;   // and of its last
};

// The batch's events by group: groups sorted by key, and for each event its group's index.
struct Grouping {
  std::vector<Group> groups;
  std::vector<uint32_t> group_of;
};

// The hash of a (pipeline, day) group: GroupEvents' index, and the part of an append stream a
// group's file belongs to.
uint64_t GroupHash(std::string_view pipeline, int32_t day);

// Groups by (pipeline, UTC day of ts); groups come back sorted by key. Consecutive events of
// one group (the common case) skip the hash lookup.
Grouping GroupEvents(std::span<const LogEvent* const> events);

}  // namespace lakelog::delta
