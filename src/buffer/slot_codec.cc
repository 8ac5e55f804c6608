#include "buffer/slot_codec.h"

#include <charconv>

namespace lakelog::buffer {
namespace {

inline uint64_t Fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h * 31 + s.size();
}

void AssignOptional(std::optional<std::string>* field, const char* data, size_t size) {
  if (field->has_value()) {
    (*field)->assign(data, size);
  } else {
    field->emplace(data, size);
  }
}

}  // namespace

void Decode(const EventHeader& h, const char* payload, const DecodeDefaults& defaults,
            LogEvent* out) {
  const char* lens_at = payload;
  const char* p = payload + 8 * static_cast<size_t>(h.num_attrs);
  out->pipeline.assign(defaults.pipeline);
  out->ts_micros = HeaderMicros(h, defaults.tsc);
  out->level = h.level;
  std::optional<std::string>* fields[kNumEventStrings] = {&out->stage, &out->status, &out->message,
                                                          &out->run_id, &out->host};
  // Fill-ins for run_id and host; the other strings are always present.
  const std::string_view fallback[kNumEventStrings] = {{}, {}, {}, defaults.run_id, defaults.host};
  for (int i = 0; i < kNumEventStrings; ++i) {
    if (h.present & (1u << i)) {
      AssignOptional(fields[i], p, h.lens[i]);
      p += h.lens[i];
    } else if (!fallback[i].empty()) {
      AssignOptional(fields[i], fallback[i].data(), fallback[i].size());
    } else {
      fields[i]->reset();
    }
  }
  const size_t num_attrs = h.num_attrs + (h.repeat_count > 1 ? 1 : 0);
  // resize() keeps the first num_attrs pairs (and their capacity) of a recycled event.
  out->attributes.resize(num_attrs);
  for (uint32_t i = 0; i < h.num_attrs; ++i) {
    uint32_t lens[2];
    std::memcpy(lens, lens_at + 8 * static_cast<size_t>(i), sizeof(lens));
    out->attributes[i].first.assign(p, lens[0]);
    p += lens[0];
    out->attributes[i].second.assign(p, lens[1]);
    p += lens[1];
  }
  if (h.repeat_count > 1) {
    char buf[16];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), h.repeat_count);
    out->attributes.back().first.assign("repeat_count");
    out->attributes.back().second.assign(buf, end);
  }
}

bool SameRepeatKey(const EventHeader& h, const char* payload, const EventFields& f) {
  if (h.lens[0] != f.stage.size() || h.lens[1] != f.status.size() ||
      h.lens[2] != f.message.size()) {
    return false;
  }
  const char* p = payload + 8 * static_cast<size_t>(h.num_attrs);
  return std::string_view(p, h.lens[0]) == f.stage &&
         std::string_view(p + h.lens[0], h.lens[1]) == f.status &&
         std::string_view(p + h.lens[0] + h.lens[1], h.lens[2]) == f.message;
}

uint64_t RepeatKeyHash(const EventFields& f) {
  uint64_t h = 14695981039346656037ull;
  h = Fnv1a(h, f.stage);
  h = Fnv1a(h, f.status);
  h = Fnv1a(h, f.message);
  return h;
}

}  // namespace lakelog::buffer
