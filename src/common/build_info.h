// The build's identity: the project version and the git commit it was built from.
// Kept in one generated translation unit (build_info.cc.in) so a new commit recompiles one
// file, not everything that mentions the version.
#pragma once

#include <string_view>

namespace lakelog {

// "0.1.0"
std::string_view LakelogVersion();
// The short git hash of the source tree at configure time, or "unknown".
std::string_view LakelogBuildHash();

}  // namespace lakelog
