#include "parquet/log_file_writer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "lakelog/file_system.h"
#include "support/parquet_json_rows.h"

namespace lakelog::parquet {
namespace {

using nlohmann::json;

std::vector<LogEvent> MakeEvents(int n, int distinct_messages) {
  std::vector<LogEvent> events;
  for (int i = 0; i < n; ++i) {
    LogEvent e;
    e.pipeline = "p";
    e.ts_micros = 1732406400000000 + i * 17 - 5000;
    e.level = static_cast<Level>(i % 6);
    if (i % 5 != 0) e.stage = "stage-" + std::to_string(i % 3);
    e.status = i % 11 == 0 ? "FAILED" : "SUCCESS";
    e.message = "message " + std::to_string(i % distinct_messages);
    if (i % 7 != 0) e.run_id = "run-" + std::to_string(i / 100);
    e.host = i % 2 ? "h\xc3\xb4st" : "";
    if (i % 3 == 0) e.attributes = {{"k" + std::to_string(i % 4), "v" + std::to_string(i)}};
    if (i % 10 == 1) {
      e.attributes = {{"a", "1"}, {"b", "2"}, {"c", std::string(i % 50, 'z')}};
    }
    events.push_back(std::move(e));
  }
  return events;
}

json Expected(const LogEvent& e) {
  auto opt = [](const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); };
  json attributes = json::object();
  for (const auto& [k, v] : e.attributes) attributes[k] = v;
  return {{"ts", e.ts_micros},         {"level", std::string(LevelName(e.level))},
          {"stage", opt(e.stage)},     {"status", opt(e.status)},
          {"message", opt(e.message)}, {"run_id", opt(e.run_id)},
          {"host", opt(e.host)},       {"attributes", attributes}};
}

std::vector<const LogEvent*> Pointers(const std::vector<LogEvent>& events) {
  std::vector<const LogEvent*> rows;
  for (const auto& e : events) rows.push_back(&e);
  return rows;
}

struct Case {
  Compression compression;
  size_t page_size;
  size_t row_group_size;
  size_t dictionary_limit;
};

class ParquetLogFileWriterTest : public ::testing::TestWithParam<Case> {};

TEST_P(ParquetLogFileWriterTest, WrittenFileReadsBackEqual) {
  auto fs = NewMemFileSystem();
  const std::vector<LogEvent> events = MakeEvents(3000, 40);
  ParquetWriteOptions options;
  options.compression = GetParam().compression;
  options.page_size_bytes = GetParam().page_size;
  options.row_group_size_bytes = GetParam().row_group_size;
  options.dictionary_limit_bytes = GetParam().dictionary_limit;
  auto stats = WriteLogEventsFile(fs.get(), "t.parquet", Pointers(events), options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();

  auto rows = ReadParquetRowsAsJson(fs.get(), "t.parquet");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ((*rows)[i], Expected(events[i])) << "row " << i;
  }

  auto summary = ReadParquetSummary(fs.get(), "t.parquet");
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->num_rows, 3000);
  EXPECT_EQ(summary->created_by, CreatedBy());
  EXPECT_EQ(summary->leaf_paths,
            (std::vector<std::string>{"ts", "level", "stage", "status", "message", "run_id", "host",
                                      "attributes.key_value.key", "attributes.key_value.value"}));
  if (GetParam().row_group_size < 10000) {
    EXPECT_GT(summary->num_row_groups, 1);
  }
  auto info = fs->Stat("t.parquet");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(stats->file_size_bytes, info->size);
}

INSTANTIATE_TEST_SUITE_P(ParquetLayouts, ParquetLogFileWriterTest,
                         ::testing::Values(Case{Compression::kZstd, 1 << 20, 128u << 20, 1 << 20},
                                           Case{Compression::kSnappy, 512, 128u << 20, 1 << 20},
                                           Case{Compression::kLz4Raw, 300, 20000, 1 << 20},
                                           Case{Compression::kNone, 4096, 50000,
                                                64},  // dictionary fallback
                                           Case{Compression::kZstd, 100, 5000, 200}));

TEST(ParquetLogFileWriterStatsTest, StatsMatchTheInput) {
  auto fs = NewMemFileSystem();
  std::vector<LogEvent> events = MakeEvents(500, 500);
  events[0].stage.reset();
  auto stats = WriteLogEventsFile(fs.get(), "s.parquet", Pointers(events), ParquetWriteOptions());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->num_rows, 500);
  int64_t min_ts = events[0].ts_micros, max_ts = events[0].ts_micros;
  for (const auto& e : events) {
    min_ts = std::min(min_ts, e.ts_micros);
    max_ts = std::max(max_ts, e.ts_micros);
  }
  EXPECT_EQ(stats->min_ts_micros, min_ts);
  EXPECT_EQ(stats->max_ts_micros, max_ts);
  ASSERT_EQ(stats->string_columns.size(), 6u);
  const StringColumnStats& stage = stats->string_columns[1];
  EXPECT_EQ(stage.name, "stage");
  EXPECT_EQ(stage.null_count, 100);
  EXPECT_EQ(stage.min, "stage-0");
  EXPECT_EQ(stage.max, "stage-2");
  const StringColumnStats& host = stats->string_columns[5];
  EXPECT_EQ(host.min, "");
  EXPECT_EQ(host.max, "h\xc3\xb4st");  // unsigned byte order: 0xc3 sorts after ASCII
  const StringColumnStats& level = stats->string_columns[0];
  EXPECT_EQ(level.min, "DEBUG");
  EXPECT_EQ(level.max, "WARN");
  EXPECT_EQ(level.null_count, 0);
  EXPECT_EQ(stats->attributes_null_count, 0);
}

TEST(ParquetLogFileWriterStatsTest, AllNullColumnHasNoMinMax) {
  auto fs = NewMemFileSystem();
  std::vector<LogEvent> events(3);
  auto stats = WriteLogEventsFile(fs.get(), "n.parquet", Pointers(events), ParquetWriteOptions());
  ASSERT_TRUE(stats.ok());
  for (const auto& column : stats->string_columns) {
    if (column.name == "level") continue;
    EXPECT_FALSE(column.min.has_value()) << column.name;
    EXPECT_EQ(column.null_count, 3) << column.name;
  }
  auto rows = ReadParquetRowsAsJson(fs.get(), "n.parquet");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[2]["message"], nullptr);
  EXPECT_EQ((*rows)[2]["attributes"], json::object());
}

TEST(ParquetLogFileWriterTest, EmptyBatchIsInvalidArgument) {
  auto fs = NewMemFileSystem();
  auto stats = WriteLogEventsFile(fs.get(), "e.parquet", {}, ParquetWriteOptions());
  EXPECT_EQ(stats.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakelog::parquet
