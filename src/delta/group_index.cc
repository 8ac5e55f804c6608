#include "delta/group_index.h"

#include <algorithm>
#include <utility>

#include "parquet/physical_types.h"

namespace lakelog::delta {
namespace {

// Where each (pipeline, day) group of a batch is: open addressing over indices into the group
// list, at most half full. A batch holds few groups (tens to thousands) and every event looks
// one up, so the lookup is one hash and usually one probe, with no division and no node chasing.
class GroupIndex {
 public:
  // The index of the group of (pipeline, day) in `groups`; appends a new group when absent.
  size_t FindOrAdd(std::string_view pipeline, int32_t day, std::vector<Group>* groups) {
    const uint64_t hash = GroupHash(pipeline, day);
    size_t slot = hash & mask_;
    while (true) {
      const uint32_t entry = slots_[slot];
      if (entry == kEmpty) break;
      const Group& group = (*groups)[entry];
      if (group.day == day && group.pipeline == pipeline) return entry;
      slot = (slot + 1) & mask_;
    }
    const size_t index = groups->size();
    groups->push_back(Group{pipeline, day});
    slots_[slot] = static_cast<uint32_t>(index);
    if (groups->size() * 2 > slots_.size()) Grow(*groups);
    return index;
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;

  void Grow(const std::vector<Group>& groups) {
    slots_.assign(slots_.size() * 2, kEmpty);
    mask_ = slots_.size() - 1;
    for (size_t i = 0; i < groups.size(); ++i) {
      size_t slot = GroupHash(groups[i].pipeline, groups[i].day) & mask_;
      while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
      slots_[slot] = static_cast<uint32_t>(i);
    }
  }

  std::vector<uint32_t> slots_ = std::vector<uint32_t>(64, kEmpty);
  size_t mask_ = 63;
};

}  // namespace

uint64_t GroupHash(std::string_view pipeline, int32_t day) {
  return parquet::HashBytes(pipeline.data(), pipeline.size()) ^
         (static_cast<uint64_t>(static_cast<uint32_t>(day)) * 0x9E3779B97F4A7C15ULL);
}

Grouping GroupEvents(std::span<const LogEvent* const> events) {
  Grouping grouping;
  std::vector<Group>& groups = grouping.groups;
  grouping.group_of.resize(events.size());
  GroupIndex index;
  size_t last = SIZE_MAX;
  // Every event is read here for the first time and they may be scattered over the heap:
  // fetch the event kPrefetchEvents ahead, and the pipeline bytes of the one half as far ahead.
  constexpr size_t kPrefetchEvents = 8;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i + kPrefetchEvents < events.size()) {
      __builtin_prefetch(events[i + kPrefetchEvents]);
      __builtin_prefetch(&events[i + kPrefetchEvents]->ts_micros);
    }
    if (i + kPrefetchEvents / 2 < events.size()) {
      __builtin_prefetch(events[i + kPrefetchEvents / 2]->pipeline.data());
    }
    const LogEvent* event = events[i];
    const std::string_view pipeline = event->pipeline;
    const int32_t day = DaysFromMicros(event->ts_micros);
    if (last == SIZE_MAX || groups[last].day != day || groups[last].pipeline != pipeline) {
      last = index.FindOrAdd(pipeline, day, &groups);
      if (groups[last].rows == 0) groups[last].first = i;
    }
    Group& group = groups[last];
    ++group.rows;
    group.last = i;
    grouping.group_of[i] = static_cast<uint32_t>(last);
  }
  std::vector<uint32_t> order(groups.size());
  for (uint32_t g = 0; g < order.size(); ++g) order[g] = g;
  std::sort(order.begin(), order.end(), [&groups](uint32_t a, uint32_t b) {
    const Group& x = groups[a];
    const Group& y = groups[b];
    return x.pipeline != y.pipeline ? x.pipeline < y.pipeline : x.day < y.day;
  });
  std::vector<uint32_t> rank(groups.size());
  std::vector<Group> sorted;
  sorted.reserve(groups.size());
  for (uint32_t r = 0; r < order.size(); ++r) {
    rank[order[r]] = r;
    sorted.push_back(groups[order[r]]);
  }
  groups = std::move(sorted);
  for (uint32_t& g : grouping.group_of) g = rank[g];
  return grouping;
}

}  // namespace lakelog::delta
