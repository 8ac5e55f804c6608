// Where a table given on the command line lives: a local directory, or s3://bucket/prefix (the
// S3 file system, with the endpoint and credentials from the AWS environment: see
// docs/object-storage.md).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "lakelog/file_system.h"
#include "lakelog/s3_file_system.h"
#include "lakelog/status.h"

namespace lakelog::cli {

struct TableLocation {
  std::unique_ptr<FileSystem> owned;  // the S3 file system; null for a local table
  FileSystem* fs = nullptr;
  std::string root;  // the table's path on fs (a key prefix on S3)
  bool remote() const { return owned != nullptr; }
};

// True for "s3://..." and "s3a://...".
bool IsObjectStoreUri(const std::string& table);

// Opens the file system of `table`. A local path is returned as given. An s3:// URI needs
// credentials (InvalidArgument naming where they were looked for) and a store that honours
// conditional writes (checked with a probe, see NewS3FileSystem).
// `adjust`, when given, changes the S3 options read from the environment (the TOML [s3]).
Result<TableLocation> OpenTableLocation(const std::string& table,
                                        const std::function<void(S3Options*)>& adjust = nullptr);

}  // namespace lakelog::cli
