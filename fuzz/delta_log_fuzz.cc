// libFuzzer target: arbitrary bytes as a Delta commit file (NNN.json) and as a whole table's
// log, through the action parser and the snapshot replay. Bad input must come back as a Status,
// never a crash, a hang or an unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "delta/actions.h"
#include "lakelog/delta_table.h"
#include "storage/mem_file_system.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view contents(reinterpret_cast<const char*>(data), size);
  auto actions = lakelog::delta::ParseCommit(contents, "00000000000000000000.json");
  if (actions.ok()) {
    // What parsed must serialize again without trouble.
    std::string again = lakelog::delta::SerializeCommit(*actions);
    (void)again;
  }

  // The same bytes as version 0 of a table, with a valid-looking version 1 after it.
  lakelog::MemFileSystem fs;
  if (!fs.CreateDirs("/t/_delta_log").ok()) return 0;
  if (!fs.WriteFile("/t/_delta_log/00000000000000000000.json", contents, false).ok()) return 0;
  if (!fs.WriteFile("/t/_delta_log/00000000000000000001.json",
                    R"({"commitInfo":{"timestamp":1,"operation":"WRITE"}})"
                    "\n",
                    false)
           .ok()) {
    return 0;
  }
  auto snapshot = lakelog::ReadDeltaSnapshot(&fs, "/t");
  (void)snapshot;
  return 0;
}
