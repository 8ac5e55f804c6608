#include "flush/engine_wal.h"

#include <nlohmann/json.hpp>
#include <random>

#include "wal/wal_owner.h"

namespace lakelog::flush {
namespace {

// Reads the writer id from engine.json, or makes one and writes it (*fresh) before the WAL
// writes its first segment.
Status ClaimWalDir(FileSystem* fs, const std::string& dir, const std::string& id_prefix,
                   std::string* writer_id, bool* fresh) {
  const std::string meta_path = JoinPath(dir, wal::kEngineMetaFile);
  std::string text;
  Status read = fs->ReadFile(meta_path, &text);
  if (read.ok()) {
    nlohmann::json meta = nlohmann::json::parse(text, nullptr, false);
    if (meta.is_discarded() || !meta.is_object() || !meta["writer_id"].is_string() ||
        meta["writer_id"].get<std::string>().empty()) {
      return Status::Corruption(meta_path +
                                " is damaged; it names the writer id the WAL's events commit "
                                "under, so the engine cannot continue without it");
    }
    *writer_id = meta["writer_id"].get<std::string>();
    return Status::OK();
  }
  if (!read.IsNotFound()) return read.WithContext("lakelog: reading " + meta_path);
  *writer_id = id_prefix + "-wal-" + RandomHex(16);
  nlohmann::json meta = {{"writer_id", *writer_id}};
  LAKELOG_RETURN_IF_ERROR(fs->WriteFileAtomic(meta_path, meta.dump(2) + "\n"));
  *fresh = true;
  return Status::OK();
}

}  // namespace

std::string RandomHex(int digits) {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < digits; ++i) out.push_back(kHex[rng() % 16]);
  return out;
}

Result<EngineWal> OpenEngineWal(FileSystem* fs, const std::string& dir, const WalOptions& options,
                                const std::string& id_prefix) {
  // Read-only first, so a directory the engine may not own gets nothing written into it (not
  // even a LOCK); the check is repeated under the WAL's lock against a writer racing in.
  auto entries = fs->ListDir(dir);
  if (entries.ok()) {
    LAKELOG_RETURN_IF_ERROR(wal::CheckEngineMayOwn(fs, dir, *entries));
  } else if (!entries.status().IsNotFound()) {
    return entries.status().WithContext("lakelog: listing the WAL directory " + dir);
  }
  EngineWal out;
  LAKELOG_ASSIGN_OR_RETURN(
      out.wal, wal::Wal::Open(fs, dir, options, [&](const std::vector<std::string>& names) {
        LAKELOG_RETURN_IF_ERROR(wal::CheckEngineMayOwn(fs, dir, names));
        return ClaimWalDir(fs, dir, id_prefix, &out.writer_id, &out.fresh);
      }));
  return out;
}

}  // namespace lakelog::flush
