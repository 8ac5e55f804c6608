#include "maintenance/optimize.h"

#include <gtest/gtest.h>

#include <set>

#include "delta/delta_test_util.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "lakelog/delta_table.h"
#include "maintenance/partition_filter.h"
#include "parquet/plain_file_builder.h"
#include "storage/mem_file_system.h"
#include "support/parquet_json_rows.h"

namespace lakelog::maintenance {
namespace {

using delta::testing::kMicrosPerDay;
using delta::testing::kTs;
using delta::testing::MakeEvent;
using delta::testing::Pointers;

constexpr char kRoot[] = "/t";
constexpr int64_t kNowMs = kTs / 1000;

TEST(PartitionFilterTest, ParsesConjunctionsOfPartitionComparisons) {
  const std::vector<std::string> columns = {"pipeline", "log_date"};
  auto filter = PartitionFilter::Parse(
      "pipeline = 'it''s' AND log_date >= '2026-11-01' and log_date < '2026-12-01'", columns);
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_TRUE(filter->Matches({{"pipeline", "it's"}, {"log_date", "2026-11-24"}}));
  EXPECT_FALSE(filter->Matches({{"pipeline", "it's"}, {"log_date", "2026-12-01"}}));
  EXPECT_FALSE(filter->Matches({{"pipeline", "other"}, {"log_date", "2026-11-24"}}));
  EXPECT_FALSE(filter->Matches({{"pipeline", std::nullopt}, {"log_date", "2026-11-24"}}));
  auto everything = PartitionFilter::Parse("  ", columns);
  ASSERT_TRUE(everything.ok());
  EXPECT_TRUE(everything->Matches({{"pipeline", std::nullopt}}));
}

TEST(PartitionFilterTest, RefusesAnythingButPartitionComparisons) {
  const std::vector<std::string> columns = {"pipeline", "log_date"};
  for (const char* bad : {"stage = 'x'", "pipeline = x", "pipeline = 'x' OR pipeline = 'y'",
                          "pipeline", "pipeline = 'x", "lower(pipeline) = 'x'", "log_date > 5"}) {
    auto filter = PartitionFilter::Parse(bad, columns);
    ASSERT_FALSE(filter.ok()) << bad;
    EXPECT_EQ(filter.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(filter.status().message().find("partition columns only"), std::string::npos);
  }
}

class OptimizeTest : public ::testing::Test {
 protected:
  // `commits` appends of `per_commit` events each to pipelines a and b on one day, so each
  // partition gets one small file per commit.
  void Fill(int commits, int per_commit) {
    auto table = DeltaTable::Open(&fs_, kRoot, DeltaTableOptions{});
    ASSERT_TRUE(table.ok());
    for (int c = 0; c < commits; ++c) {
      std::vector<LogEvent> events;
      for (int i = 0; i < per_commit; ++i) {
        events.push_back(MakeEvent(i % 2 ? "a" : "b", kTs + c * 1000 + i,
                                   "m-" + std::to_string(c) + "-" + std::to_string(i)));
      }
      ASSERT_TRUE((*table)->Append(Pointers(events)).ok());
      total_ += per_commit;
    }
  }

  DeltaSnapshot Snapshot() {
    delta::LogStore store(&fs_, kRoot);
    auto snapshot = delta::ReplayLatest(&fs_, store, true);
    EXPECT_TRUE(snapshot.ok());
    return snapshot.ok() ? *snapshot : DeltaSnapshot{};
  }

  std::multiset<std::string> Messages() {
    std::multiset<std::string> out;
    for (const DeltaAddFile& f : Snapshot().files) {
      auto rows = parquet::ReadParquetRowsAsJson(&fs_, JoinPath(kRoot, f.path));
      EXPECT_TRUE(rows.ok());
      for (const auto& row : *rows) out.insert(row["message"].get<std::string>());
    }
    return out;
  }

  // Replaces the data file `path` with one of `rows` rows in another writer's shape: ts, level
  // "INFO", message "<tag>-<i>", and, when `extra` is given, a nullable column of that name and
  // type holding only nulls. The table's other columns are absent from it.
  void ReplaceFile(const std::string& path, int64_t rows, const std::string& tag,
                   std::optional<std::pair<std::string, format::Type::type>> extra) {
    using Rep = format::FieldRepetitionType;
    auto leaf = [](std::string name, Rep::type repetition, format::Type::type type) {
      format::SchemaElement e;
      e.name = std::move(name);
      e.__set_repetition_type(repetition);
      e.__set_type(type);
      if (type == format::Type::BYTE_ARRAY) e.__set_converted_type(format::ConvertedType::UTF8);
      return e;
    };
    format::SchemaElement root;
    root.name = "spark_schema";
    root.__set_num_children(extra ? 4 : 3);
    std::vector<format::SchemaElement> schema = {
        root, leaf("ts", Rep::REQUIRED, format::Type::INT64),
        leaf("level", Rep::OPTIONAL, format::Type::BYTE_ARRAY),
        leaf("message", Rep::OPTIONAL, format::Type::BYTE_ARRAY)};
    if (extra) schema.push_back(leaf(extra->first, Rep::OPTIONAL, extra->second));
    auto builder = parquet::PlainFileBuilder::Make(schema, ParquetWriteOptions{});
    ASSERT_TRUE(builder.ok()) << builder.status().ToString();
    for (int64_t i = 0; i < rows; ++i) {
      (*builder)->Int64(0, kTs + i);
      (*builder)->Bytes(1, "INFO");
      (*builder)->Bytes(2, tag + "-" + std::to_string(i));
      if (extra) (*builder)->Null(3, 0);
      (*builder)->EndRecord();
    }
    auto bytes = (*builder)->Finish();
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    ASSERT_TRUE(fs_.WriteFileAtomic(JoinPath(kRoot, path), *bytes).ok());
  }

  // The first file of pipeline `pipeline` in the snapshot.
  DeltaAddFile FirstFileOf(const std::string& pipeline) {
    for (const DeltaAddFile& f : Snapshot().files) {
      if (f.partition_values.at("pipeline") == pipeline) return f;
    }
    ADD_FAILURE() << "no file of " << pipeline;
    return DeltaAddFile{};
  }

  OptimizeOptions Options() {
    OptimizeOptions options;
    options.now_ms = kNowMs;
    return options;
  }

  MemFileSystem fs_;
  int total_ = 0;
};

TEST_F(OptimizeTest, CompactsEachPartitionIntoOneFileInOneCommit) {
  Fill(6, 10);
  const std::multiset<std::string> before = Messages();
  ASSERT_EQ(Snapshot().files.size(), 12u);
  auto result = Optimize(&fs_, kRoot, Options());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_removed, 12);
  EXPECT_EQ(result->files_added, 2);
  EXPECT_EQ(result->partitions, 2);
  EXPECT_EQ(result->rows, total_);
  ASSERT_EQ(result->version, 7);
  DeltaSnapshot after = Snapshot();
  EXPECT_EQ(after.files.size(), 2u);
  EXPECT_EQ(after.TotalRows(), total_);
  EXPECT_EQ(Messages(), before);  // every row once, none lost or doubled

  delta::LogStore store(&fs_, kRoot);
  auto actions = store.ReadCommit(7);
  ASSERT_TRUE(actions.ok());
  int adds = 0, removes = 0;
  for (const delta::Action& a : *actions) {
    if (const auto* add = std::get_if<delta::AddAction>(&a)) {
      ++adds;
      EXPECT_FALSE(add->file.data_change);
      ASSERT_TRUE(add->file.stats.has_value());
      EXPECT_NE(add->file.stats->find("\"minValues\""), std::string::npos);
    } else if (const auto* remove = std::get_if<delta::RemoveAction>(&a)) {
      ++removes;
      EXPECT_FALSE(remove->data_change);
      EXPECT_EQ(remove->deletion_timestamp_ms, kNowMs);
    } else if (const auto* info = std::get_if<delta::CommitInfoAction>(&a)) {
      EXPECT_EQ(info->info.operation, "OPTIMIZE");
      EXPECT_EQ(info->info.metrics.at("numRemovedFiles"), "12");
      EXPECT_EQ(info->info.metrics.at("numAddedFiles"), "2");
      EXPECT_EQ(info->info.parameters.at("auto"), "false");
      EXPECT_EQ(info->read_version, 6);
    }
  }
  EXPECT_EQ(adds, 2);
  EXPECT_EQ(removes, 12);

  // A second run finds nothing to do: a bin of one file is not rewritten.
  auto again = Optimize(&fs_, kRoot, Options());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->version.has_value());
}

TEST_F(OptimizeTest, WhereLimitsThePartitions) {
  Fill(3, 10);
  OptimizeOptions options = Options();
  options.where = "pipeline = 'a'";
  auto result = Optimize(&fs_, kRoot, options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->files_removed, 3);
  EXPECT_EQ(result->files_added, 1);
  EXPECT_EQ(Snapshot().files.size(), 4u);  // b's three files stay
}

TEST_F(OptimizeTest, FilesAtHalfTheTargetAreLeftAlone) {
  Fill(4, 10);
  OptimizeOptions options = Options();
  options.target_file_size = 1024;  // every file (over 512 bytes) counts as large
  auto result = Optimize(&fs_, kRoot, options);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->version.has_value());
  EXPECT_EQ(Snapshot().files.size(), 8u);
}

TEST_F(OptimizeTest, AConcurrentAppendDoesNotConflict) {
  Fill(4, 10);
  OptimizeOptions options = Options();
  bool appended = false;
  options.progress = [&](const OptimizeProgress&) {
    if (appended) return;
    appended = true;
    auto table = DeltaTable::Open(&fs_, kRoot, DeltaTableOptions{});
    std::vector<LogEvent> more = {MakeEvent("a", kTs + kMicrosPerDay, "late")};
    ASSERT_TRUE((*table)->Append(Pointers(more)).ok());
  };
  auto result = Optimize(&fs_, kRoot, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->version, 6);  // above the append (5)
  EXPECT_EQ(Snapshot().TotalRows(), total_ + 1);
  EXPECT_EQ(Messages().count("late"), 1u);
}

TEST_F(OptimizeTest, ACompactionWhoseInputsWereRemovedNeverCommits) {
  Fill(4, 10);
  const std::multiset<std::string> before = Messages();
  OptimizeOptions first = Options();
  bool raced = false;
  first.progress = [&](const OptimizeProgress&) {
    if (raced) return;
    raced = true;
    // Another compaction of the same files wins meanwhile.
    auto other = Optimize(&fs_, kRoot, Options());
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(other->version.has_value());
  };
  auto result = Optimize(&fs_, kRoot, first);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsConflict()) << result.status().ToString();
  EXPECT_EQ(Snapshot().files.size(), 2u);
  EXPECT_EQ(Messages(), before);
  // The loser's files were deleted: only the winner's two remain beside the eight inputs.
  size_t parquet = 0;
  for (const std::string& f : fs_.AllFiles()) parquet += f.ends_with(".parquet") ? 1 : 0;
  EXPECT_EQ(parquet, 8u + 2u);
}

TEST_F(OptimizeTest, AFileWithAColumnOfAnotherTypeIsLeftAlone) {
  Fill(3, 10);
  // `stage` stored as INT64, every value null: read as strings it would come out as nulls, and
  // the rewrite would lose whatever the other writer meant by it.
  const DeltaAddFile odd = FirstFileOf("a");
  ReplaceFile(odd.path, *odd.num_records, "odd", std::make_pair("stage", format::Type::INT64));
  auto result = Optimize(&fs_, kRoot, Options());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_skipped, 1);
  EXPECT_EQ(result->files_removed, 5);  // a's two others and b's three
  EXPECT_EQ(result->files_added, 2);
  EXPECT_EQ(result->rows, total_ - *odd.num_records);
  const DeltaSnapshot after = Snapshot();
  EXPECT_EQ(after.files.size(), 3u);
  EXPECT_EQ(after.TotalRows(), total_);
  bool kept = false;
  for (const DeltaAddFile& f : after.files) kept |= f.path == odd.path;
  EXPECT_TRUE(kept) << "the refused file must stay live, untouched";
  auto rows = parquet::ReadParquetRowsAsJson(&fs_, JoinPath(kRoot, odd.path));
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), static_cast<size_t>(*odd.num_records));
  EXPECT_TRUE((*rows)[0].contains("stage"));
}

TEST_F(OptimizeTest, ColumnsAFileLacksReadAsNull) {
  Fill(3, 10);
  // An older or foreign schema: no stage, status, run_id, host or attributes.
  const DeltaAddFile old = FirstFileOf("a");
  ReplaceFile(old.path, *old.num_records, "old", std::nullopt);
  auto result = Optimize(&fs_, kRoot, Options());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_skipped, 0);
  EXPECT_EQ(result->files_removed, 6);
  EXPECT_EQ(result->rows, total_);
  int seen = 0;
  for (const DeltaAddFile& f : Snapshot().files) {
    auto rows = parquet::ReadParquetRowsAsJson(&fs_, JoinPath(kRoot, f.path));
    ASSERT_TRUE(rows.ok());
    for (const auto& row : *rows) {
      const std::string message = row["message"].get<std::string>();
      if (!message.starts_with("old-")) {
        EXPECT_EQ(row["stage"], "stage");
        EXPECT_EQ(row["attributes"], nlohmann::json({{"k", "v"}}));
        continue;
      }
      ++seen;
      EXPECT_EQ(row["level"], "INFO");
      for (const char* absent : {"stage", "status", "run_id", "host"}) {
        EXPECT_TRUE(row[absent].is_null()) << absent;
      }
      EXPECT_TRUE(row["attributes"].empty());
    }
  }
  EXPECT_EQ(seen, *old.num_records);
}

}  // namespace
}  // namespace lakelog::maintenance
