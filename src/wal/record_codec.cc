#include "wal/record_codec.h"

#include <array>

#include "wal/coding.h"

namespace lakelog::wal {
namespace {

constexpr uint8_t kMaxLevel = static_cast<uint8_t>(Level::kFatal);

// The optional string columns, in encoding order; bit i of the presence byte is field i.
constexpr size_t kOptionalFields = 5;
using OptionalMember = std::optional<std::string> LogEvent::*;
constexpr std::array<OptionalMember, kOptionalFields> kOptionalMembers = {
    &LogEvent::stage, &LogEvent::status, &LogEvent::message, &LogEvent::run_id, &LogEvent::host};
constexpr uint8_t kPresenceMask = (1u << kOptionalFields) - 1;

bool GetString(std::string_view* in, std::string* out) {
  std::string_view s;
  if (!wal::GetLengthPrefixed(in, &s)) return false;
  out->assign(s);
  return true;
}

Status Malformed(std::string_view what) {
  return Status::Corruption("wal event record: " + std::string(what));
}

}  // namespace

void EncodeLogEvent(const LogEvent& event, std::string* out) {
  out->push_back(static_cast<char>(kRecordCodecVersion));
  wal::PutLengthPrefixed(out, event.pipeline);
  wal::PutVarint64(out, wal::ZigZagEncode(event.ts_micros));
  out->push_back(static_cast<char>(event.level));
  uint8_t presence = 0;
  for (size_t i = 0; i < kOptionalFields; ++i) {
    if ((event.*kOptionalMembers[i]).has_value()) presence |= static_cast<uint8_t>(1u << i);
  }
  out->push_back(static_cast<char>(presence));
  for (OptionalMember member : kOptionalMembers) {
    if ((event.*member).has_value()) wal::PutLengthPrefixed(out, *(event.*member));
  }
  wal::PutVarint64(out, event.attributes.size());
  for (const auto& [key, value] : event.attributes) {
    wal::PutLengthPrefixed(out, key);
    wal::PutLengthPrefixed(out, value);
  }
}

Status DecodeLogEvent(std::string_view data, LogEvent* event) {
  std::string_view in = data;
  if (in.empty()) return Malformed("empty");
  const auto version = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if (version != kRecordCodecVersion) {
    return Status::NotSupported("wal event record: unknown version " + std::to_string(version));
  }
  if (!GetString(&in, &event->pipeline)) return Malformed("bad pipeline");
  uint64_t ts;
  if (!wal::GetVarint64(&in, &ts)) return Malformed("bad timestamp");
  event->ts_micros = wal::ZigZagDecode(ts);
  if (in.size() < 2) return Malformed("truncated level");
  const auto level = static_cast<uint8_t>(in[0]);
  const auto presence = static_cast<uint8_t>(in[1]);
  in.remove_prefix(2);
  if (level > kMaxLevel) return Malformed("bad level " + std::to_string(level));
  event->level = static_cast<Level>(level);
  if ((presence & ~kPresenceMask) != 0) return Malformed("unknown presence bits");
  for (size_t i = 0; i < kOptionalFields; ++i) {
    std::optional<std::string>& field = event->*kOptionalMembers[i];
    if ((presence & (1u << i)) == 0) {
      field.reset();
      continue;
    }
    if (!field.has_value()) field.emplace();
    if (!GetString(&in, &*field)) return Malformed("bad optional string");
  }
  uint64_t count;
  if (!wal::GetVarint64(&in, &count)) return Malformed("bad attribute count");
  // Each attribute takes at least two bytes, so a count beyond that cannot be honest; checking
  // first keeps a hostile count from driving a huge allocation.
  if (count > in.size() / 2) return Malformed("attribute count exceeds the record");
  event->attributes.resize(static_cast<size_t>(count));
  for (auto& [key, value] : event->attributes) {
    if (!GetString(&in, &key) || !GetString(&in, &value)) return Malformed("bad attribute");
  }
  if (!in.empty()) return Malformed("trailing bytes");
  return Status::OK();
}

}  // namespace lakelog::wal
