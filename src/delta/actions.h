// Delta log actions: the lines of a commit file `_delta_log/NNNNNNNNNNNNNNNNNNNN.json` and the
// rows of a checkpoint. PROTOCOL.md of delta-io/delta is the reference; docs/delta-log.md says
// exactly which fields lakelog writes.
//
// Writing emits the field order Spark does. Reading is tolerant the way the protocol asks:
// unknown action types (domainMetadata, cdc, checkpointMetadata, sidecar, ...) and unknown fields
// are ignored, and a JSON null for a whole action (as in checkpoint rows) means "absent". A line
// that is not JSON, or a known field of the wrong type, is Corruption naming the file and line.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/status.h"

namespace lakelog::delta {

// `add` (the public DeltaAddFile: path URI-decoded) plus what the reader must notice.
struct AddAction {
  DeltaAddFile file;
  // The file carries a deletion vector; lakelog cannot apply it (the snapshot reader refuses).
  bool has_deletion_vector = false;
  // Its unique id ("" for none): a logical file is (path, deletion vector id), so that Spark's
  // DELETE, which adds (p, dv) and removes (p) in one commit, leaves (p, dv) live.
  std::string deletion_vector_id;
};

struct RemoveAction {
  std::string path;  // URI-decoded
  std::optional<int64_t> deletion_timestamp_ms;
  bool data_change = true;
  bool extended_file_metadata = false;
  std::map<std::string, std::optional<std::string>> partition_values;
  std::optional<int64_t> size;
  std::string deletion_vector_id;  // as AddAction's: removes (path, this id) only
};

struct TxnAction {
  std::string app_id;
  int64_t version = 0;
  std::optional<int64_t> last_updated_ms;
};

// commitInfo. The `info.version` field is not in the JSON: the reader fills it from the file name.
struct CommitInfoAction {
  DeltaCommitInfo info;
  std::optional<int64_t> read_version;
  std::optional<std::string> isolation_level;
  std::optional<bool> is_blind_append;
  std::optional<std::string> txn_id;
};

using Action = std::variant<DeltaProtocol, DeltaMetadata, AddAction, RemoveAction, TxnAction,
                            CommitInfoAction>;

// One action as one JSON line, without the trailing newline, e.g. `{"txn":{...}}`. Strings that
// are not valid UTF-8 are written with U+FFFD in place of the bad bytes (never a crash); callers
// that care validate first.
std::string SerializeAction(const Action& action);
// A whole commit file: each action on its own line, each line ending in '\n' (as Spark writes).
std::string SerializeCommit(const std::vector<Action>& actions);

// Parses a commit file. `file_name` only labels errors ("00000000000000000003.json:2: ...").
// Blank lines (and a missing final newline) are fine.
Result<std::vector<Action>> ParseCommit(std::string_view contents, std::string_view file_name);

// The top-level "numRecords" of an add's stats JSON; nullopt when it has none (or is not an
// object, or is malformed before the key). Reads only as far as the key, which writers put first.
std::optional<int64_t> NumRecordsFromStats(std::string_view stats);

// Appends the actions held by one JSON object (a commit line or a checkpoint row) to *out.
// `where` labels errors. An object may hold several actions; null members are skipped.
Status ParseActionObject(const nlohmann::json& object, std::string_view where,
                         std::vector<Action>* out);

}  // namespace lakelog::delta
