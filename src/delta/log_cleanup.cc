#include "delta/log_cleanup.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "delta/table_properties.h"

namespace lakelog::delta {
namespace {

// The version a `NNNNNNNNNNNNNNNNNNNN.crc` file belongs to.
std::optional<int64_t> ParseCrcFileName(std::string_view name) {
  constexpr size_t kDigits = 20;
  if (name.size() != kDigits + 4 || name.substr(kDigits) != ".crc") return std::nullopt;
  int64_t version = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + kDigits, version);
  if (ec != std::errc() || end != name.data() + kDigits) return std::nullopt;
  return version;
}

}  // namespace

Result<LogCleanupResult> CleanUpExpiredLog(FileSystem* fs, const LogStore& store,
                                           const DeltaMetadata& metadata, int64_t now_ms) {
  LogCleanupResult result;
  if (!ExpiredLogCleanupEnabled(metadata)) return result;
  const int64_t cutoff_ms = now_ms - LogRetentionMs(metadata);
  LAKELOG_ASSIGN_OR_RETURN(LogListing listing, store.List());

  // Complete classic checkpoints, ascending; the newest old enough is the new start of the log.
  std::vector<const CheckpointFile*> checkpoints;
  for (const CheckpointFile& cp : listing.checkpoints) {
    if (cp.kind == CheckpointKind::kClassic) checkpoints.push_back(&cp);
  }
  auto age_ms = [&](const CheckpointFile& cp) -> Result<int64_t> {
    Result<FileInfo> info =
        fs->Stat(JoinPath(store.log_dir(), LogStore::CommitFileName(cp.version)));
    if (info.status().IsNotFound()) info = fs->Stat(JoinPath(store.log_dir(), cp.name));
    if (!info.ok()) return info.status();
    return info->modification_time_ms;
  };
  // Versions grow with time, so the old-enough checkpoints are a prefix: binary search for its
  // end with O(log n) stats (a clock stepping back can only make the cut earlier, never unsafe:
  // everything below the chosen checkpoint is rebuilt from it).
  size_t lo = 0, hi = checkpoints.size();  // invariant: [0, lo) old enough, [hi, n) not
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    LAKELOG_ASSIGN_OR_RETURN(int64_t mtime, age_ms(*checkpoints[mid]));
    if (mtime <= cutoff_ms) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return result;
  const int64_t keep_from = checkpoints[lo - 1]->version;

  // Everything of a version below keep_from, oldest first.
  LAKELOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(store.log_dir()));
  std::multimap<int64_t, std::string> doomed;
  for (std::string& name : names) {
    std::optional<int64_t> version = LogStore::ParseCommitFileName(name);
    if (!version) {
      if (auto cp = LogStore::ParseCheckpointFileName(name)) version = cp->version;
    }
    if (!version) version = ParseCrcFileName(name);
    if (version && *version < keep_from) doomed.emplace(*version, std::move(name));
  }
  Status first_error;
  for (const auto& [version, name] : doomed) {
    Status st = fs->DeleteFile(JoinPath(store.log_dir(), name));
    if (st.ok()) {
      ++result.files_deleted;
    } else if (!st.IsNotFound() && first_error.ok()) {
      first_error = st.WithContext("log cleanup");
    }
  }
  result.cleaned_below = keep_from;
  if (!first_error.ok()) return first_error;
  return result;
}

}  // namespace lakelog::delta
