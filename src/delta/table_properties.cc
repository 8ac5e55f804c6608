#include "delta/table_properties.h"

#include <cctype>
#include <charconv>
#include <map>
#include <string>

namespace lakelog::delta {
namespace {

std::string Lower(std::string_view text) {
  std::string lower;
  lower.reserve(text.size());
  for (char c : text)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return lower;
}

int64_t DurationProperty(const DeltaMetadata& metadata, const char* key, int64_t fallback) {
  auto it = metadata.configuration.find(key);
  if (it == metadata.configuration.end()) return fallback;
  return ParseIntervalMs(it->second).value_or(fallback);
}

}  // namespace

std::optional<int64_t> ParseIntervalMs(std::string_view text) {
  const std::string lower = Lower(text);
  std::string_view s = lower;
  auto skip_spaces = [&s] {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  };
  skip_spaces();
  if (s.substr(0, 8) == "interval") s.remove_prefix(8);
  skip_spaces();
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || n < 0) return std::nullopt;
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  skip_spaces();
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (!s.empty() && s.back() == 's') s.remove_suffix(1);
  static const std::map<std::string_view, int64_t> kUnitMs = {
      {"millisecond", 1},      {"second", 1000},       {"minute", 60 * 1000},
      {"hour", 3600 * 1000LL}, {"day", kMillisPerDay}, {"week", 7 * kMillisPerDay}};
  auto unit = kUnitMs.find(s);
  if (unit == kUnitMs.end() || n > INT64_MAX / unit->second) return std::nullopt;
  return n * unit->second;
}

int64_t TombstoneRetentionMs(const DeltaMetadata& metadata) {
  return DurationProperty(metadata, "delta.deletedFileRetentionDuration",
                          kDefaultTombstoneRetentionMs);
}

int64_t LogRetentionMs(const DeltaMetadata& metadata) {
  return DurationProperty(metadata, "delta.logRetentionDuration", kDefaultLogRetentionMs);
}

bool ExpiredLogCleanupEnabled(const DeltaMetadata& metadata) {
  auto it = metadata.configuration.find("delta.enableExpiredLogCleanup");
  return it == metadata.configuration.end() || Lower(it->second) != "false";
}

}  // namespace lakelog::delta
