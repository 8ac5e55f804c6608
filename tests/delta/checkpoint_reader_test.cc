// The columnar checkpoint reader: it rebuilds the same actions as the generic route (rows
// assembled as JSON, then ParseActionObject) from our checkpoints and from hand-made ones with
// the columns our writer leaves out (deletion vectors, INT32 versions, unknown structs), and it
// names the file, row and field of what it cannot read.
#include "delta/checkpoint_reader.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "delta/actions.h"
#include "delta/checkpoint.h"
#include "delta/log_store.h"
#include "delta_test_util.h"
#include "lakelog/delta_table.h"
#include "parquet/plain_file_builder.h"
#include "storage/mem_file_system.h"
#include "support/parquet_json_rows.h"

namespace lakelog::delta {
namespace {

using namespace testing;
using format::FieldRepetitionType;
using format::SchemaElement;
using format::Type;

constexpr int64_t kNowMs = 1795515330000;  // 2026-11-24T10:15:30Z

// Each action as its JSON line: two routes agree when these lists are equal.
std::vector<std::string> Lines(const std::vector<Action>& actions) {
  std::vector<std::string> lines;
  for (const Action& a : actions) lines.push_back(SerializeAction(a));
  return lines;
}

// The generic route: every row assembled as a JSON object, then parsed as a commit line is.
Result<std::vector<Action>> ThroughJsonRows(FileSystem* fs, const std::string& path) {
  LAKELOG_ASSIGN_OR_RETURN(std::vector<nlohmann::json> rows,
                           parquet::ReadParquetRowsAsJson(fs, path));
  std::vector<Action> actions;
  for (size_t i = 0; i < rows.size(); ++i) {
    LAKELOG_RETURN_IF_ERROR(ParseActionObject(rows[i], "row " + std::to_string(i), &actions));
  }
  // commitInfo does not change a snapshot, and the columnar reader does not decode it.
  std::erase_if(actions,
                [](const Action& a) { return std::holds_alternative<CommitInfoAction>(a); });
  return actions;
}

TEST(CheckpointReaderTest, RebuildsTheActionsOfOurCheckpointsAsTheJsonRowsDo) {
  MemFileSystem fs;
  const std::string root = "/t";
  Result<std::unique_ptr<DeltaTable>> table = DeltaTable::Open(&fs, root, {});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const std::vector<std::string> pipelines = {"ingest", "a b/c=d%", "", "naïve"};
  for (int i = 1; i <= 6; ++i) {
    std::vector<LogEvent> events;
    for (size_t p = 0; p < pipelines.size(); ++p) {
      events.push_back(MakeEvent(pipelines[p], kTs + i * kMicrosPerDay, "m" + std::to_string(i)));
    }
    DeltaAppendOptions options;
    options.txn = DeltaTxn{"app-" + std::to_string(i % 3), i};
    ASSERT_TRUE((*table)->Append(Pointers(events), options).ok());
  }
  // A metaData with every optional field, and tombstones, written as another writer would.
  Result<DeltaSnapshot> snap = (*table)->Snapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  DeltaMetadata metadata = snap->metadata;
  metadata.name = "logs";
  metadata.description = "kept 90 days, 'quoted' — ünïcode";
  metadata.format_options = {{"compression", "zstd"}};
  metadata.configuration["delta.logRetentionDuration"] = "interval 30 days";
  std::vector<Action> commit = {std::move(metadata)};
  for (size_t f = 0; f < 3; ++f) {
    RemoveAction rm;
    rm.path = snap->files[f].path;
    rm.deletion_timestamp_ms = kNowMs - 1000;
    rm.data_change = true;
    rm.extended_file_metadata = true;
    rm.partition_values = snap->files[f].partition_values;
    rm.size = snap->files[f].size;
    commit.push_back(std::move(rm));
  }
  LogStore store(&fs, root);
  ASSERT_TRUE(store.WriteCommit(7, SerializeCommit(commit)).ok());
  Result<CheckpointInfo> written = WriteCheckpoint(&fs, &store, 7, {}, kNowMs);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->tombstones, 3);

  const std::string path = JoinPath(store.log_dir(), LogStore::CheckpointFileName(7));
  Result<std::vector<Action>> columnar = ReadCheckpointActions(&fs, path, "7.checkpoint.parquet");
  ASSERT_TRUE(columnar.ok()) << columnar.status().ToString();
  Result<std::vector<Action>> generic = ThroughJsonRows(&fs, path);
  ASSERT_TRUE(generic.ok()) << generic.status().ToString();
  EXPECT_EQ(Lines(*columnar), Lines(*generic));
  EXPECT_EQ(static_cast<int64_t>(columnar->size()), written->actions);

  // What the comparison covers: the null partition value, the metaData's optional fields,
  // the tombstones' fields and the txns' lastUpdated all made it through.
  size_t null_partitions = 0, removes = 0, txns = 0;
  for (const Action& a : *columnar) {
    if (const auto* add = std::get_if<AddAction>(&a)) {
      auto it = add->file.partition_values.find("pipeline");
      if (it != add->file.partition_values.end() && !it->second.has_value()) ++null_partitions;
      EXPECT_TRUE(add->file.num_records.has_value()) << add->file.path;
    } else if (const auto* m = std::get_if<DeltaMetadata>(&a)) {
      EXPECT_EQ(m->name, std::optional<std::string>("logs"));
      EXPECT_EQ(m->format_options.at("compression"), "zstd");
      EXPECT_EQ(m->partition_columns, (std::vector<std::string>{"pipeline", "log_date"}));
    } else if (const auto* rm = std::get_if<RemoveAction>(&a)) {
      ++removes;
      EXPECT_EQ(rm->deletion_timestamp_ms, std::optional<int64_t>(kNowMs - 1000));
      EXPECT_TRUE(rm->size.has_value());
    } else if (const auto* t = std::get_if<TxnAction>(&a)) {
      ++txns;
      EXPECT_TRUE(t->last_updated_ms.has_value());
    }
  }
  EXPECT_GT(null_partitions, 0u);
  EXPECT_EQ(removes, 3u);
  EXPECT_EQ(txns, 3u);
}

// A hand-made checkpoint with what our writer never puts in one: INT32 versions, a deletion
// vector, a struct the reader does not know (stats_parsed), a 2-level list.
class CraftedCheckpointTest : public ::testing::Test {
 protected:
  static SchemaElement Group(std::string name, int children,
                             FieldRepetitionType::type repetition = FieldRepetitionType::OPTIONAL) {
    SchemaElement e;
    e.__set_name(std::move(name));
    e.__set_repetition_type(repetition);
    e.__set_num_children(children);
    return e;
  }
  static SchemaElement Leaf(std::string name, Type::type type,
                            FieldRepetitionType::type repetition = FieldRepetitionType::OPTIONAL) {
    SchemaElement e;
    e.__set_name(std::move(name));
    e.__set_type(type);
    e.__set_repetition_type(repetition);
    return e;
  }

  // protocol{minReaderVersion INT32, minWriterVersion INT32, writerFeatures 2-level list},
  // add{path, size, stats_parsed{numRecords}, deletionVector{storageType, pathOrInlineDv,
  // offset INT32}}, txn{appId, version}; `size_type` is add.size's physical type.
  static std::vector<SchemaElement> Schema(Type::type size_type = Type::INT64) {
    SchemaElement root;
    root.__set_name("spark_schema");
    root.__set_num_children(3);
    SchemaElement features = Group("writerFeatures", 1);
    features.__set_converted_type(format::ConvertedType::LIST);
    return {root,
            Group("protocol", 3),
            Leaf("minReaderVersion", Type::INT32),
            Leaf("minWriterVersion", Type::INT32),
            features,
            Leaf("array", Type::BYTE_ARRAY, FieldRepetitionType::REPEATED),
            Group("add", 4),
            Leaf("path", Type::BYTE_ARRAY),
            Leaf("size", size_type),
            Group("stats_parsed", 1),
            Leaf("numRecords", Type::INT64),
            Group("deletionVector", 3),
            Leaf("storageType", Type::BYTE_ARRAY),
            Leaf("pathOrInlineDv", Type::BYTE_ARRAY),
            Leaf("offset", Type::INT32),
            Group("txn", 2),
            Leaf("appId", Type::BYTE_ARRAY),
            Leaf("version", Type::INT64)};
  }
  // Leaves, in order.
  enum {
    kReader,
    kWriter,
    kFeature,
    kPath,
    kSize,
    kNumRecords,
    kStorage,
    kDvPath,
    kOffset,
    kAppId,
    kVersion
  };

  // Writes one row per entry of `rows`: "protocol", "add", "add+dv", "txn" or "txn-no-version".
  std::string Write(const std::vector<std::string>& rows, Type::type size_type = Type::INT64) {
    auto builder = parquet::PlainFileBuilder::Make(Schema(size_type), {});
    EXPECT_TRUE(builder.ok()) << builder.status().ToString();
    parquet::PlainFileBuilder& b = **builder;
    for (const std::string& row : rows) {
      const bool protocol = row == "protocol";
      const bool add = row.rfind("add", 0) == 0;
      const bool dv = row == "add+dv";
      const bool txn = row.rfind("txn", 0) == 0;
      if (protocol) {
        b.Int32(kReader, 1);
        b.Int32(kWriter, 7);
        b.Bytes(kFeature, "appendOnly");
        b.Bytes(kFeature, "invariants", /*rep=*/1);
      } else {
        b.Null(kReader, 0);
        b.Null(kWriter, 0);
        b.Null(kFeature, 0);
      }
      if (add) {
        b.Bytes(kPath, dv ? "pipeline=a/part-1.parquet" : "pipeline=a%20b/part-2.parquet");
        if (size_type == Type::INT64) {
          b.Int64(kSize, 1234);
        } else {
          b.Bytes(kSize, "1234");
        }
        b.Int64(kNumRecords, 10);
        if (dv) {
          b.Bytes(kStorage, "u");
          b.Bytes(kDvPath, "ab^-aqEH.-t@S}K{vb[*k^");
          b.Int32(kOffset, 4);
        } else {
          b.Null(kStorage, 1);
          b.Null(kDvPath, 1);
          b.Null(kOffset, 1);
        }
      } else {
        for (int leaf : {kPath, kSize, kNumRecords, kStorage, kDvPath, kOffset}) b.Null(leaf, 0);
      }
      if (txn) {
        b.Bytes(kAppId, "writer-1");
        if (row == "txn") {
          b.Int64(kVersion, 42);
        } else {
          b.Null(kVersion, 1);
        }
      } else {
        b.Null(kAppId, 0);
        b.Null(kVersion, 0);
      }
      b.EndRecord();
    }
    Result<std::string> bytes = b.Finish();
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_TRUE(fs_.WriteFileAtomic("/c.parquet", bytes.ok() ? *bytes : "").ok());
    return "/c.parquet";
  }

  MemFileSystem fs_;
};

TEST_F(CraftedCheckpointTest, ReadsWhatOtherWritersPutInACheckpoint) {
  const std::string path = Write({"protocol", "add", "add+dv", "txn"});
  Result<std::vector<Action>> columnar = ReadCheckpointActions(&fs_, path, "c.parquet");
  ASSERT_TRUE(columnar.ok()) << columnar.status().ToString();
  Result<std::vector<Action>> generic = ThroughJsonRows(&fs_, path);
  ASSERT_TRUE(generic.ok()) << generic.status().ToString();
  EXPECT_EQ(Lines(*columnar), Lines(*generic));

  ASSERT_EQ(columnar->size(), 4u);
  const auto& protocol = std::get<DeltaProtocol>((*columnar)[0]);
  EXPECT_EQ(protocol.min_writer_version, 7);
  EXPECT_EQ(protocol.writer_features, (std::vector<std::string>{"appendOnly", "invariants"}));
  const auto& plain = std::get<AddAction>((*columnar)[1]);
  EXPECT_EQ(plain.file.path, "pipeline=a b/part-2.parquet");  // URI-decoded
  EXPECT_EQ(plain.file.size, 1234);
  EXPECT_FALSE(plain.has_deletion_vector);
  const auto& with_dv = std::get<AddAction>((*columnar)[2]);
  EXPECT_TRUE(with_dv.has_deletion_vector);
  EXPECT_EQ(with_dv.deletion_vector_id, "dv:uab^-aqEH.-t@S}K{vb[*k^@4");
  EXPECT_EQ(std::get<TxnAction>((*columnar)[3]).version, 42);
}

TEST_F(CraftedCheckpointTest, AMissingRequiredFieldNamesTheFileRowAndField) {
  const std::string path = Write({"protocol", "add", "txn-no-version"});
  Result<std::vector<Action>> actions = ReadCheckpointActions(&fs_, path, "c.parquet");
  ASSERT_TRUE(actions.status().IsCorruption()) << actions.status().ToString();
  EXPECT_EQ(actions.status().message(),
            "_delta_log/c.parquet: row 2: txn: missing field 'version'");
}

TEST_F(CraftedCheckpointTest, AColumnOfTheWrongTypeIsCorruption) {
  const std::string path = Write({"add"}, Type::BYTE_ARRAY);
  Result<std::vector<Action>> actions = ReadCheckpointActions(&fs_, path, "c.parquet");
  ASSERT_TRUE(actions.status().IsCorruption()) << actions.status().ToString();
  EXPECT_NE(actions.status().message().find("add.size is not an integer"), std::string::npos)
      << actions.status().ToString();
}

TEST_F(CraftedCheckpointTest, NotParquetIsCorruptionAndNoFileIsNotFound) {
  ASSERT_TRUE(fs_.WriteFileAtomic("/x.parquet", "not a parquet file at all").ok());
  EXPECT_TRUE(ReadCheckpointActions(&fs_, "/x.parquet", "x").status().IsCorruption());
  EXPECT_TRUE(ReadCheckpointActions(&fs_, "/none.parquet", "none").status().IsNotFound());
}

}  // namespace
}  // namespace lakelog::delta
