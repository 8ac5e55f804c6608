#include "buffer/event_codec.h"

#include <charconv>

namespace lakelog::internal {
namespace {

inline char* Put(char* out, std::string_view s) {
  if (!s.empty()) std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

inline uint64_t Fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h * 31 + s.size();
}

}  // namespace

void Encode(const EventFields& f, int64_t ts_micros, EventHeader* h, char* out) {
  h->ts_micros = ts_micros;
  h->level = f.level;
  h->repeat_count = 1;
  h->lens[0] = static_cast<uint32_t>(f.stage.size());
  h->lens[1] = static_cast<uint32_t>(f.status.size());
  h->lens[2] = static_cast<uint32_t>(f.message.size());
  h->lens[3] = f.run_id ? static_cast<uint32_t>(f.run_id->size()) : 0;
  h->lens[4] = f.host ? static_cast<uint32_t>(f.host->size()) : 0;
  h->present = static_cast<uint8_t>(0b111 | (f.run_id ? 0b1000 : 0) | (f.host ? 0b10000 : 0));
  h->num_attrs = static_cast<uint32_t>(f.attributes.size());
  for (const Attribute& a : f.attributes) {
    uint32_t lens[2] = {static_cast<uint32_t>(a.key.size()), static_cast<uint32_t>(a.value.size())};
    std::memcpy(out, lens, sizeof(lens));
    out += sizeof(lens);
  }
  out = Put(out, f.stage);
  out = Put(out, f.status);
  out = Put(out, f.message);
  if (f.run_id) out = Put(out, *f.run_id);
  if (f.host) out = Put(out, *f.host);
  for (const Attribute& a : f.attributes) {
    out = Put(out, a.key);
    out = Put(out, a.value);
  }
}

void Decode(const EventHeader& h, const char* payload, const DecodeDefaults& defaults,
            LogEvent* out) {
  const char* lens_at = payload;
  const char* p = payload + 8 * static_cast<size_t>(h.num_attrs);
  out->pipeline.assign(defaults.pipeline);
  out->ts_micros = h.ts_micros;
  out->level = h.level;
  std::optional<std::string>* fields[kNumEventStrings] = {&out->stage, &out->status, &out->message,
                                                          &out->run_id, &out->host};
  for (int i = 0; i < kNumEventStrings; ++i) {
    if (h.present & (1u << i)) {
      fields[i]->emplace(p, h.lens[i]);
      p += h.lens[i];
    } else {
      fields[i]->reset();
    }
  }
  if (!out->run_id && !defaults.run_id.empty()) out->run_id.emplace(defaults.run_id);
  if (!out->host && !defaults.host.empty()) out->host.emplace(defaults.host);
  out->attributes.clear();
  out->attributes.reserve(h.num_attrs + (h.repeat_count > 1 ? 1 : 0));
  for (uint32_t i = 0; i < h.num_attrs; ++i) {
    uint32_t lens[2];
    std::memcpy(lens, lens_at + 8 * static_cast<size_t>(i), sizeof(lens));
    std::string key(p, lens[0]);
    p += lens[0];
    std::string value(p, lens[1]);
    p += lens[1];
    out->attributes.emplace_back(std::move(key), std::move(value));
  }
  if (h.repeat_count > 1) {
    char buf[16];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), h.repeat_count);
    out->attributes.emplace_back("repeat_count", std::string(buf, end));
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

}  // namespace lakelog::internal
