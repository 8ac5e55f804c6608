// Which WAL directories an engine may own (wal/wal_owner.h).
#include "wal/wal_owner.h"

#include <gtest/gtest.h>

#include "storage/mem_file_system.h"

namespace lakelog::wal {
namespace {

Status Check(MemFileSystem* fs, const std::vector<std::string>& entries) {
  return CheckEngineMayOwn(fs, "/wal", entries);
}

TEST(WalOwnerTest, AnEmptyDirectoryOrTheEnginesOwnIsAccepted) {
  MemFileSystem fs;
  EXPECT_TRUE(Check(&fs, {}).ok());
  EXPECT_TRUE(Check(&fs, {"LOCK", "damaged", ".engine.json.tmp-1-2-3"}).ok());
  EXPECT_TRUE(Check(&fs, {"LOCK", "engine.json", "000001.wal", "000002.wal", "notes"}).ok());
}

TEST(WalOwnerTest, SegmentsOrFilesWithoutEngineJsonAreRefusedByName) {
  MemFileSystem fs;
  for (const std::vector<std::string>& entries :
       std::vector<std::vector<std::string>>{{"LOCK", "000001.wal"}, {"notes.txt"}}) {
    Status st = Check(&fs, entries);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find(entries.back()), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("no engine.json"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("empty or new WAL directory"), std::string::npos);
  }
}

TEST(WalOwnerTest, AnUnfinishedIngestNamesTheRecoverCommandWithItsTable) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs("/wal").ok());
  ASSERT_TRUE(fs.WriteFileAtomic("/wal/ingest.json",
                                 R"({"app_id":"a","table":"/data/logs","input":"in.ndjson"})")
                  .ok());
  Status st = Check(&fs, {"LOCK", "ingest.json", "000001.wal"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("`lakelog recover --table /data/logs --wal /wal`"), std::string::npos)
      << st.message();

  // Both markers: an ingest was pointed at an engine's WAL. Neither may go on blindly.
  st = Check(&fs, {"engine.json", "ingest.json", "000001.wal"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("both"), std::string::npos) << st.message();
}

TEST(WalOwnerTest, ClassifiesEntries) {
  WalDirContents c = ClassifyWalDir(
      {"LOCK", "damaged", "engine.json", "000003.wal", "000003.wal.damaged", "x", "42.wal"});
  EXPECT_TRUE(c.engine_meta);
  EXPECT_FALSE(c.ingest_meta);
  EXPECT_EQ(c.segments, std::vector<std::string>{"000003.wal"});
  EXPECT_EQ(c.other, (std::vector<std::string>{"000003.wal.damaged", "x", "42.wal"}));
}

}  // namespace
}  // namespace lakelog::wal
