#include "wal/wal_owner.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "wal/wal.h"

namespace lakelog::wal {
namespace {

constexpr size_t kNamesInMessage = 3;

// "a, b, c and 4 more"
std::string NameSome(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  std::string out;
  for (size_t i = 0; i < names.size() && i < kNamesInMessage; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > kNamesInMessage) {
    out += " and " + std::to_string(names.size() - kNamesInMessage) + " more";
  }
  return out;
}

bool IsMarkerTempFile(const std::string& name, const char* marker) {
  // The temp file of FileSystem::WriteFileAtomic: ".<name>.tmp-...".
  return name.starts_with("." + std::string(marker) + ".tmp-");
}

// The table an unfinished ingest commits to, from its ingest.json; "TABLE" when unreadable.
std::string IngestTable(FileSystem* fs, const std::string& dir) {
  std::string text;
  if (!fs->ReadFile(JoinPath(dir, kIngestMetaFile), &text).ok()) return "TABLE";
  nlohmann::json meta = nlohmann::json::parse(text, nullptr, false);
  if (!meta.is_object() || !meta.contains("table") || !meta["table"].is_string()) return "TABLE";
  std::string table = meta["table"].get<std::string>();
  return table.empty() ? "TABLE" : table;
}

}  // namespace

WalDirContents ClassifyWalDir(const std::vector<std::string>& entries) {
  WalDirContents out;
  for (const std::string& name : entries) {
    uint64_t number;
    if (name == kEngineMetaFile) {
      out.engine_meta = true;
    } else if (name == kIngestMetaFile) {
      out.ingest_meta = true;
    } else if (Wal::ParseSegmentFileName(name, &number)) {
      out.segments.push_back(name);
    } else if (name == Wal::kLockFileName || name == Wal::kDamagedDirName ||
               IsMarkerTempFile(name, kEngineMetaFile) || IsMarkerTempFile(name, kIngestMetaFile)) {
      continue;
    } else {
      out.other.push_back(name);
    }
  }
  return out;
}

Status CheckEngineMayOwn(FileSystem* fs, const std::string& dir,
                         const std::vector<std::string>& entries) {
  const WalDirContents contents = ClassifyWalDir(entries);
  if (contents.ingest_meta) {
    const std::string table = IngestTable(fs, dir);
    if (contents.engine_meta) {
      return Status::InvalidArgument(
          "WAL directory " + dir +
          " holds both an engine's WAL (engine.json) and an unfinished `lakelog ingest` "
          "(ingest.json) into " +
          table +
          ": an ingest was pointed at this engine's WAL, and their records cannot be told "
          "apart. The engine writes nothing into it; copy the directory aside before "
          "removing ingest.json to let the engine replay its events (the ingest's records then "
          "count as damaged)");
    }
    return Status::InvalidArgument("WAL directory " + dir +
                                   " holds an unfinished `lakelog ingest` (ingest.json) into " +
                                   table + "; finish it with `lakelog recover --table " + table +
                                   " --wal " + dir + "`, or give the engine another WAL directory");
  }
  if (contents.engine_meta) return Status::OK();
  if (contents.segments.empty() && contents.other.empty()) return Status::OK();
  std::vector<std::string> found = contents.segments;
  found.insert(found.end(), contents.other.begin(), contents.other.end());
  return Status::InvalidArgument(
      "WAL directory " + dir + " holds " + NameSome(found) +
      " but no engine.json: they are not this engine's WAL, and the engine neither adopts nor "
      "deletes files it cannot account for (they may hold another writer's events). Give the "
      "engine an empty or new WAL directory");
}

}  // namespace lakelog::wal
