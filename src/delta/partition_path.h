// Where data files live inside a Delta table, and how their paths are written in the log.
//
// Three layers of encoding, each undone by a different reader:
//   1. A partition value becomes a Hive-style directory component `name=<escaped value>` with
//      Spark's escapePathName character set (ExternalCatalogUtils): control characters, 0x7F and
//      "#%'*/:=?\{[]^ become %XX; every other byte, including non-ASCII UTF-8, is kept.
//   2. The relative path `dir/dir/file` is URI-encoded into `add.path`, the way Hadoop's
//      Path.toUri() quotes a path: `%` in a directory name (`%25`) is written `%2525`.
//   3. The partition value itself is stored raw in `add.partitionValues`: the log is the truth,
//      the directory name is only a hint that readers never need to parse.
//
// Invariant: a directory built here is always relative and can never leave the table root: each
// component starts with `<column>=` (so it is never `.` or `..`) and '/' inside a value is
// escaped, so a value cannot add components.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lakelog/parquet_options.h"
#include "lakelog/status.h"

namespace lakelog::delta {

// The directory name Hive and Spark use for a null (or empty) partition value.
inline constexpr std::string_view kHiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

// Spark's escapePathName: `a/b` -> `a%2Fb`, `x=1` -> `x%3D1`, `é` -> `é`. Uppercase hex.
// Deviation: NUL is escaped too (Spark's set starts at 0x01); no file system accepts a NUL.
std::string EscapePartitionValue(std::string_view value);
// The inverse of EscapePartitionValue: decodes every valid %XX, keeps anything else.
std::string UnescapePartitionValue(std::string_view escaped);

// One `name=value` directory component; a null or empty value is kHiveDefaultPartition.
std::string PartitionComponent(std::string_view column, const std::optional<std::string>& value);

// The directory of the pipeline_logs partition (pipeline, log_date), relative to the table root:
// `pipeline=<escaped>/log_date=YYYY-MM-DD`. An empty pipeline is the null partition.
std::string LogPartitionDirectory(std::string_view pipeline, int32_t log_date_days);

// A fresh data file name in Spark's style, with the codec in the name:
// `part-00000-<random v4 uuid>-c000.zstd.parquet` (`.parquet` alone when uncompressed).
std::string NewDataFileName(Compression compression);

// Directory names are limited to 255 bytes on every common file system. A pipeline whose
// escaped `pipeline=...` component is longer cannot be stored; callers reject it up front.
inline constexpr size_t kMaxPartitionComponentBytes = 255;
// InvalidArgument naming the limit when `pipeline` cannot be a partition directory.
Status CheckPipelineName(std::string_view pipeline);

// URI-encodes a relative path for `add.path`/`remove.path`, quoting what java.net.URI's
// multi-argument constructors quote in a path: everything except ASCII letters and digits,
// `-_.!~*'()`, `;:@&=+$,`, `/`, and non-ASCII characters that are neither controls nor spaces.
// Invalid UTF-8 bytes are percent-encoded.
std::string EncodeLogPath(std::string_view relative_path);
// Percent-decodes `add.path`. Corruption when a `%` is not followed by two hex digits.
Result<std::string> DecodeLogPath(std::string_view encoded);

// True when `relative_path` is non-empty, not absolute, and has no empty, `.` or `..` component:
// joined to a root, it names something under the root.
bool IsSafeRelativePath(std::string_view relative_path);

}  // namespace lakelog::delta
