#include "cli/table_location.h"

namespace lakelog::cli {

bool IsObjectStoreUri(const std::string& table) {
  return table.rfind("s3://", 0) == 0 || table.rfind("s3a://", 0) == 0;
}

Result<TableLocation> OpenTableLocation(const std::string& table,
                                        const std::function<void(S3Options*)>& adjust) {
  TableLocation location;
  if (!IsObjectStoreUri(table)) {
    location.fs = PosixFileSystem();
    location.root = table;
    return location;
  }
  std::string bucket, prefix;
  LAKELOG_RETURN_IF_ERROR(ParseS3Uri(table, &bucket, &prefix));
  LAKELOG_ASSIGN_OR_RETURN(S3Options options, S3OptionsFromEnvironment(bucket));
  if (adjust) adjust(&options);
  LAKELOG_ASSIGN_OR_RETURN(location.owned, NewS3FileSystem(options));
  location.fs = location.owned.get();
  location.root = prefix;
  return location;
}

}  // namespace lakelog::cli
