// The engine's write-ahead log directory: opening it, and the writer id it belongs to.
//
// The writer id every sink write is keyed under is made once per WAL directory and kept in
// engine.json inside it, written before the first segment, so no segment ever exists without
// the id it commits under; a restarted engine on the same directory continues under it.
#pragma once

#include <memory>
#include <string>

#include "lakelog/file_system.h"
#include "lakelog/status.h"
#include "lakelog/wal_options.h"
#include "wal/wal.h"

namespace lakelog::flush {

struct EngineWal {
  std::unique_ptr<wal::Wal> wal;
  std::string writer_id;
  // The id was made now: nothing is committed under it anywhere, so nothing needs replaying.
  bool fresh = false;
};

// Opens the WAL in `dir` for an engine. A directory that holds anything but the engine's own
// files is refused before anything is written into it (see wal::CheckEngineMayOwn). A new id is
// "<id_prefix>-wal-<random>".
Result<EngineWal> OpenEngineWal(FileSystem* fs, const std::string& dir, const WalOptions& options,
                                const std::string& id_prefix);

// "lakelog-<host>-<12 hex digits>" style ids: `digits` random hex digits.
std::string RandomHex(int digits);

}  // namespace lakelog::flush
