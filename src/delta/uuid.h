// Random (version 4) UUIDs, for table ids, data file names and commit txnIds.
#pragma once

#include <string>

namespace lakelog::delta {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" in lowercase hex, from a per-thread generator seeded by
// std::random_device. Thread-safe.
std::string NewUuidV4();

}  // namespace lakelog::delta
