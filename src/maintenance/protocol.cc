#include "maintenance/protocol.h"

#include <set>
#include <string>

namespace lakelog::maintenance {

Status CheckMaintainable(const DeltaProtocol& protocol) {
  if (protocol.min_reader_version > 3 || protocol.min_writer_version > 7) {
    return Status::NotSupported("table needs reader version " +
                                std::to_string(protocol.min_reader_version) + " / writer version " +
                                std::to_string(protocol.min_writer_version));
  }
  // Features that add no files outside the add/remove actions and no per-row state that a
  // rewrite or a deletion would have to carry.
  static const std::set<std::string, std::less<>> kUnderstood = {
      "appendOnly",          "invariants",      "checkConstraints",     "changeDataFeed",
      "generatedColumns",    "identityColumns", "columnMapping",        "timestampNtz",
      "vacuumProtocolCheck", "typeWidening",    "typeWidening-preview", "domainMetadata",
  };
  for (const auto* features : {&protocol.reader_features, &protocol.writer_features}) {
    for (const std::string& feature : *features) {
      if (!kUnderstood.count(feature)) {
        return Status::NotSupported("table uses the feature '" + feature +
                                    "', which lakelog's maintenance does not handle");
      }
    }
  }
  return Status::OK();
}

}  // namespace lakelog::maintenance
