// A listing that lags behind the writes (an object store under concurrent writers) may leave
// a commit out between two listed ones; the log store asks for it by name before a reader
// calls the log broken.
#include <gtest/gtest.h>

#include <set>

#include "delta/log_store.h"
#include "delta_test_util.h"
#include "lakelog/delta_table.h"
#include "storage/mem_file_system.h"

namespace lakelog::delta {
namespace {

// Forwards to a MemFileSystem, but its listings leave out the names in `hidden`.
class LaggingListingFileSystem final : public testing::ForwardingMemFileSystem {
 public:
  std::set<std::string> hidden;

  Result<std::vector<std::string>> ListDir(const std::string& p) override {
    LAKELOG_ASSIGN_OR_RETURN(std::vector<std::string> names, target_.ListDir(p));
    std::erase_if(names, [this](const std::string& n) { return hidden.count(n) > 0; });
    return names;
  }
};

TEST(LogListingGapTest, ACommitTheListingLeftOutIsFoundByName) {
  LaggingListingFileSystem fs;
  DeltaTableOptions options;
  options.write_checkpoints = false;
  auto table = DeltaTable::Open(&fs, "/t", options);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  for (int i = 0; i < 4; ++i) {
    LogEvent e;
    e.pipeline = "p";
    e.ts_micros = 1796000000000000 + i;
    e.message = "m" + std::to_string(i);
    const LogEvent* rows[] = {&e};
    ASSERT_TRUE((*table)->Append(rows).ok());
  }
  fs.hidden = {LogStore::CommitFileName(2)};
  LogStore store(&fs, "/t");
  auto listing = store.List();
  ASSERT_TRUE(listing.ok()) << listing.status().ToString();
  EXPECT_EQ(listing->commits, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  auto snapshot = ReadDeltaSnapshot(&fs, "/t");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_EQ(snapshot->version, 4);
  EXPECT_EQ(snapshot->TotalRows(), 4);
  // A commit that is really gone stays a gap: the reader still says so.
  ASSERT_TRUE(fs.target().DeleteFile("/t/_delta_log/" + LogStore::CommitFileName(2)).ok());
  auto broken = ReadDeltaSnapshot(&fs, "/t");
  EXPECT_TRUE(broken.status().IsCorruption()) << broken.status().ToString();
}

}  // namespace
}  // namespace lakelog::delta
