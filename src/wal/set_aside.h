// Keeping damaged WAL files for a person to look at, instead of deleting them.
#pragma once

#include <string>

#include "lakelog/file_system.h"
#include "lakelog/status.h"

namespace lakelog::wal {

// Moves `dir/name` to `dir/damaged/name` and returns the new path. The FileSystem seam has no
// rename, so the bytes are copied (in bounded chunks), synced, and only then is the original
// deleted: a crash midway leaves the original in place, and the next call copies it again
// over the same destination. A destination of another size (an earlier, different file of
// the same name) is kept, and the copy gets a ".2", ".3"... suffix instead.
// Errors: the file system's; the original is kept whenever the copy is not complete.
Result<std::string> MoveToDamaged(FileSystem* fs, const std::string& dir, const std::string& name);

}  // namespace lakelog::wal
