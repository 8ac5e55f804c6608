// ScanTable and SummarizePipelines over a table delta-rs wrote (arrow-rs Parquet files, snappy,
// its own page and dictionary choices), compared with what delta-rs itself reads back.
#include "query/table_scan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "lakelog/delta_table.h"
#include "lakelog/file_system.h"

#ifndef LAKELOG_SOURCE_DIR
#error "LAKELOG_SOURCE_DIR must point at the source tree (tests/query/CMakeLists.txt sets it)"
#endif

namespace lakelog::query {
namespace {

using nlohmann::json;

class TableScanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    table_ =
        new std::string(::testing::TempDir() + "lakelog_deltars_table_" + std::to_string(getpid()));
    const std::string source = LAKELOG_SOURCE_DIR;
    const std::string command = "rm -rf '" + *table_ + "' && '" + source + "/.venv/bin/python' '" +
                                source + "/tests/query/write_deltars_table.py' '" + *table_ + "'";
    written_ = std::system(command.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    std::system(("rm -rf '" + *table_ + "' '" + *table_ + ".json'").c_str());
    delete table_;
  }

  static json Expected() {
    std::ifstream in(*table_ + ".json");
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
  }

  static std::string* table_;
  static bool written_;
};
std::string* TableScanTest::table_ = nullptr;
bool TableScanTest::written_ = false;

json Optional(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

TEST_F(TableScanTest, DeltaRsTableReadsAsDeltaRsReadsIt) {
  ASSERT_TRUE(written_) << "write_deltars_table.py failed; is .venv set up?";
  auto snapshot = ReadDeltaSnapshot(PosixFileSystem(), *table_);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  ASSERT_GT(snapshot->files.size(), 3u);
  std::vector<std::string> scanned;
  Status s = ScanTable(PosixFileSystem(), *table_, *snapshot, [&](const ScannedRow& row) {
    // Null-valued entries are left out of ScannedRow::attributes; compare the rest.
    json attributes = json::object();
    for (const auto& [k, v] : row.attributes) attributes[k] = v;
    json j = {{"pipeline", Optional(row.pipeline)},
              {"log_date", Optional(row.log_date)},
              {"ts", row.ts_micros ? json(*row.ts_micros) : json(nullptr)},
              {"level", Optional(row.level)},
              {"stage", Optional(row.stage)},
              {"status", Optional(row.status)},
              {"message", Optional(row.message)},
              {"run_id", Optional(row.run_id)},
              {"host", Optional(row.host)},
              {"attributes", attributes}};
    scanned.push_back(j.dump());
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<std::string> expected;
  for (json row : Expected()) {
    json attributes = json::object();
    if (!row["attributes"].is_null()) {
      for (const json& kv : row["attributes"]) {
        if (!kv[1].is_null()) attributes[kv[0].get<std::string>()] = kv[1];
      }
    }
    row["attributes"] = attributes;
    expected.push_back(row.dump());
  }
  std::sort(scanned.begin(), scanned.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(scanned, expected);
}

TEST_F(TableScanTest, SummaryCountsMatchDeltaRsRows) {
  ASSERT_TRUE(written_) << "write_deltars_table.py failed; is .venv set up?";
  struct Counts {
    int64_t total = 0, failures = 0, successes = 0;
    std::map<std::string, int64_t> stages;
  };
  std::map<std::string, Counts> want;
  for (const json& row : Expected()) {
    int64_t weight = 1;
    if (!row["attributes"].is_null()) {
      for (const json& kv : row["attributes"]) {
        if (kv[0] == "repeat_count" && kv[1].is_string()) {
          weight = std::max<int64_t>(1, std::stoll(kv[1].get<std::string>()));
        }
      }
    }
    Counts& c = want[row["pipeline"].get<std::string>()];
    c.total += weight;
    if (row["status"] == "FAILED") {
      c.failures += weight;
      c.stages[row["stage"].is_null() ? "" : row["stage"].get<std::string>()] += weight;
    } else if (row["status"] == "SUCCESS") {
      c.successes += weight;
    }
  }
  auto summary = SummarizePipelines(PosixFileSystem(), *table_);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->size(), want.size());
  for (const PipelineSummary& p : *summary) {
    SCOPED_TRACE(p.pipeline);
    const Counts& c = want[p.pipeline];
    EXPECT_EQ(p.total, c.total);
    EXPECT_EQ(p.failures, c.failures);
    EXPECT_EQ(p.successes, c.successes);
    ASSERT_FALSE(p.top_failing_stages.empty());
    for (const StageFailures& stage : p.top_failing_stages) {
      EXPECT_EQ(stage.failures, c.stages.at(stage.stage)) << stage.stage;
    }
    int64_t most = 0;
    for (const auto& [stage, n] : c.stages) most = std::max(most, n);
    EXPECT_EQ(p.top_failing_stages[0].failures, most);
  }
}

}  // namespace
}  // namespace lakelog::query
