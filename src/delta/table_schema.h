// The pipeline_logs table as Delta sees it, and what lakelog requires of an existing table.
#pragma once

#include <string>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/status.h"

namespace lakelog::delta {

// ["pipeline", "log_date"].
const std::vector<std::string>& LogPartitionColumns();

// The exact Spark StructType JSON of DESIGN.md's columns, byte for byte what Spark writes for the
// same DataFrame schema: every field nullable with "metadata":{}, attributes a map<string,string>
// with valueContainsNull true.
const std::string& LogSchemaString();

// OK when lakelog can append to a table with this metaData: partitionColumns are exactly
// ["pipeline","log_date"]; every lakelog column is present with the same type and nullable;
// any extra column is nullable (files we write read it as null). InvalidArgument naming the first
// difference otherwise; Corruption when schemaString is not a Spark StructType JSON;
// NotSupported for column mapping (name/id), whose physical names lakelog does not write.
Status CheckLogTableMetadata(const DeltaMetadata& metadata);

// OK when lakelog may append to a table with this protocol and metaData: writer version <= 7,
// for 7 only writer features a plain append honours, and no CHECK constraints, generated or
// identity columns, or column mapping in use. NotSupported naming what is in the way otherwise.
Status CheckWritableProtocol(const DeltaProtocol& protocol, const DeltaMetadata& metadata);

// OK when the snapshot reader can list the table's files correctly: reader version <= 3, no
// column mapping, and (for 3) only reader features that do not change which files or rows are
// live, or that the reader refuses where they occur (deletionVectors per file, v2Checkpoint per
// checkpoint). NotSupported naming the feature otherwise.
Status CheckReadableProtocol(const DeltaProtocol& protocol, const DeltaMetadata& metadata);

}  // namespace lakelog::delta
