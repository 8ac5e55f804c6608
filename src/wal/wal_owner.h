// Who owns a WAL directory. A WAL directory belongs to exactly one writer kind, named by its
// marker file: `engine.json` (the logging engine: Engine with EngineOptions::wal_dir,
// `lakelog demo --wal`) or `ingest.json` (an unfinished `lakelog ingest --wal`). Each kind
// encodes different records and commits them under a different Delta txn, so a writer that
// adopted another's directory would strand its events (never replayed, then deleted as
// "committed"). The checks here let a writer refuse a directory before writing into it.
#pragma once

#include <string>
#include <vector>

#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::wal {

inline constexpr char kEngineMetaFile[] = "engine.json";
inline constexpr char kIngestMetaFile[] = "ingest.json";

// A directory's entries, by what they are to a WAL.
struct WalDirContents {
  bool engine_meta = false;           // engine.json
  bool ingest_meta = false;           // ingest.json
  std::vector<std::string> segments;  // segment files (000001.wal, ...)
  // Anything else, except LOCK, damaged/ and the temp files of an interrupted marker write.
  std::vector<std::string> other;
};

WalDirContents ClassifyWalDir(const std::vector<std::string>& entries);

// OK when an engine may own `dir`, whose entries are `entries`: it holds engine.json (the
// engine's own WAL; other files beside it are ignored), or nothing but what an empty WAL
// leaves (LOCK, damaged/). Otherwise InvalidArgument naming what is there and what to do
// instead: an unfinished ingest (ingest.json; the table it names is read from it) is finished
// by `lakelog recover`; segments or files without engine.json are not the engine's to adopt.
Status CheckEngineMayOwn(FileSystem* fs, const std::string& dir,
                         const std::vector<std::string>& entries);

}  // namespace lakelog::wal
