#include "delta/actions.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "delta/table_schema.h"

namespace lakelog::delta {
namespace {

template <typename T>
const T& As(const Action& action) {
  const T* value = std::get_if<T>(&action);
  EXPECT_NE(value, nullptr);
  static const T kEmpty{};
  return value != nullptr ? *value : kEmpty;
}

// num_records comes from the stats' top-level numRecords, wherever it sits, and from nothing
// else: not a nested key of that name, not a non-integer, not a stats string that is no object.
TEST(DeltaActionsTest, NumRecordsIsTheTopLevelIntegerOfTheStats) {
  const std::vector<std::pair<std::string, std::optional<int64_t>>> cases = {
      {R"({"numRecords":7,"minValues":{"a":1}})", 7},
      {R"({"minValues":{"numRecords":3,"x":[1,{"numRecords":4}]},"numRecords":12})", 12},
      {R"({"tightBounds":true,"numRecords":0})", 0},
      {R"({"numRecords":9223372036854775807})", INT64_MAX},
      {R"({"numRecords":18446744073709551615})", std::nullopt},
      {R"({"numRecords":"7"})", std::nullopt},
      {R"({"numRecords":7.5})", std::nullopt},
      {R"({"numRecords":null})", std::nullopt},
      {R"({"numRecords":{"n":7}})", std::nullopt},
      {R"({"numRecords":[7]})", std::nullopt},
      {R"({"minValues":{"numRecords":3}})", std::nullopt},
      {R"([{"numRecords":7}])", std::nullopt},
      {R"(7)", std::nullopt},
      {R"({"minValues":{,"numRecords":7})", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& [stats, expected] : cases) {
    nlohmann::json line;
    line["add"] = {{"path", "f.parquet"}, {"partitionValues", nlohmann::json::object()},
                   {"size", 1},           {"modificationTime", 1},
                   {"dataChange", true},  {"stats", stats}};
    Result<std::vector<Action>> parsed = ParseCommit(line.dump() + "\n", "0.json");
    ASSERT_TRUE(parsed.ok()) << stats << ": " << parsed.status().ToString();
    const auto& add = As<AddAction>((*parsed)[0]);
    EXPECT_EQ(add.file.num_records, expected) << stats;
    EXPECT_EQ(add.file.stats, std::optional<std::string>(stats));
  }
}

TEST(DeltaActionsTest, RoundTripsEveryActionWeWrite) {
  DeltaProtocol protocol;
  DeltaMetadata metadata;
  metadata.id = "fdc6eb09-0250-45b4-b874-a069d31815a3";
  metadata.schema_string = LogSchemaString();
  metadata.partition_columns = LogPartitionColumns();
  metadata.configuration = {{"delta.appendOnly", "true"}};
  metadata.created_time_ms = 1795531247675;
  AddAction add;
  add.file.path = "pipeline=a b%25c/log_date=2026-11-24/part-00000-x.c000.zstd.parquet";
  add.file.partition_values = {{"pipeline", "a b%c"}, {"log_date", "2026-11-24"}};
  add.file.size = 3565;
  add.file.modification_time_ms = 1795531253873;
  add.file.stats = R"({"numRecords":7,"minValues":{},"maxValues":{},"nullCount":{}})";
  RemoveAction remove;
  remove.path = "pipeline=__HIVE_DEFAULT_PARTITION__/log_date=2026-11-24/old.parquet";
  remove.deletion_timestamp_ms = 1795531368317;
  remove.extended_file_metadata = true;
  remove.partition_values = {{"pipeline", std::nullopt}, {"log_date", "2026-11-24"}};
  remove.size = 3565;
  TxnAction txn{"app1", 42, 1795531266969};
  CommitInfoAction info;
  info.info.timestamp_ms = 1795531254209;
  info.info.operation = "WRITE";
  info.info.parameters = {{"mode", "Append"}, {"partitionBy", R"(["pipeline","log_date"])"}};
  info.info.metrics = {{"numFiles", "2"}, {"numOutputRows", "3"}, {"numOutputBytes", "7092"}};
  info.info.engine_info = "lakelog/0.1.0";
  info.read_version = 4;
  info.is_blind_append = true;
  info.txn_id = "62ac27c2-773f-4f5b-ad08-4ac4596bb3e9";

  std::string text = SerializeCommit({info, protocol, metadata, txn, add, remove});
  ASSERT_EQ(text.back(), '\n');
  Result<std::vector<Action>> parsed = ParseCommit(text, "00000000000000000005.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 6u);
  const auto& info2 = As<CommitInfoAction>((*parsed)[0]);
  EXPECT_EQ(info2.info.operation, "WRITE");
  EXPECT_EQ(info2.info.parameters, info.info.parameters);
  EXPECT_EQ(info2.info.metrics, info.info.metrics);
  EXPECT_EQ(info2.info.timestamp_ms, info.info.timestamp_ms);
  EXPECT_EQ(info2.txn_id, info.txn_id);
  EXPECT_EQ(info2.read_version, 4);
  EXPECT_EQ(As<DeltaProtocol>((*parsed)[1]).min_writer_version, 2);
  const auto& metadata2 = As<DeltaMetadata>((*parsed)[2]);
  EXPECT_EQ(metadata2.id, metadata.id);
  EXPECT_EQ(metadata2.schema_string, metadata.schema_string);
  EXPECT_EQ(metadata2.partition_columns, metadata.partition_columns);
  EXPECT_EQ(metadata2.configuration, metadata.configuration);
  EXPECT_EQ(metadata2.created_time_ms, metadata.created_time_ms);
  EXPECT_EQ(As<TxnAction>((*parsed)[3]).version, 42);
  EXPECT_EQ(As<TxnAction>((*parsed)[3]).last_updated_ms, txn.last_updated_ms);
  const auto& add2 = As<AddAction>((*parsed)[4]);
  EXPECT_EQ(add2.file.path, add.file.path);
  EXPECT_EQ(add2.file.partition_values, add.file.partition_values);
  EXPECT_EQ(add2.file.size, 3565);
  EXPECT_EQ(add2.file.stats, add.file.stats);
  EXPECT_EQ(add2.file.num_records, 7);
  EXPECT_TRUE(add2.file.data_change);
  const auto& remove2 = As<RemoveAction>((*parsed)[5]);
  EXPECT_EQ(remove2.path, remove.path);
  EXPECT_EQ(remove2.partition_values, remove.partition_values);
  EXPECT_EQ(remove2.deletion_timestamp_ms, remove.deletion_timestamp_ms);

  // The log holds the URI-encoded path and the null partition value as JSON null.
  EXPECT_NE(text.find(R"("path":"pipeline=a%20b%2525c/log_date=2026-11-24/)"), std::string::npos);
  EXPECT_NE(text.find(R"("partitionValues":{"log_date":"2026-11-24","pipeline":null})"),
            std::string::npos);
}

TEST(DeltaActionsTest, WritesFieldsInSparkOrder) {
  AddAction add;
  add.file.path = "p/f.parquet";
  add.file.partition_values = {{"log_date", "2026-11-24"}};
  add.file.size = 1;
  add.file.modification_time_ms = 2;
  add.file.stats = "{}";
  EXPECT_EQ(SerializeAction(add),
            R"({"add":{"path":"p/f.parquet","partitionValues":{"log_date":"2026-11-24"},)"
            R"("size":1,"modificationTime":2,"dataChange":true,"stats":"{}"}})");
  EXPECT_EQ(SerializeAction(DeltaProtocol{}),
            R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})");
}

TEST(DeltaActionsTest, MetadataNameDescriptionAndFormatOptionsRoundTrip) {
  DeltaMetadata metadata;
  metadata.id = "fdc6eb09-0250-45b4-b874-a069d31815a3";
  metadata.name = "pipeline_logs";
  metadata.description = "Logs of every pipeline, \"quoted\" and naïve";
  metadata.format_options = {{"compression", "zstd"}, {"mergeSchema", "false"}};
  metadata.schema_string = LogSchemaString();
  metadata.partition_columns = LogPartitionColumns();
  metadata.created_time_ms = 1795531247675;

  const std::string line = SerializeAction(metadata);
  // Spark's field order: id, name, description, format, ...
  EXPECT_NE(line.find(R"({"metaData":{"id":"fdc6eb09-0250-45b4-b874-a069d31815a3",)"
                      R"("name":"pipeline_logs","description":"Logs of every pipeline, )"
                      R"(\"quoted\" and naïve","format":{"provider":"parquet",)"
                      R"("options":{"compression":"zstd","mergeSchema":"false"}},)"
                      R"("schemaString":)"),
            std::string::npos)
      << line;
  Result<std::vector<Action>> parsed = ParseCommit(line, "00000000000000000000.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 1u);
  const auto& metadata2 = As<DeltaMetadata>((*parsed)[0]);
  EXPECT_EQ(metadata2.name, metadata.name);
  EXPECT_EQ(metadata2.description, metadata.description);
  EXPECT_EQ(metadata2.format_options, metadata.format_options);
  EXPECT_EQ(SerializeAction(metadata2), line);
}

// A metaData without name or description (lakelog's own, or Spark's for a table without a
// COMMENT) keeps them absent: not written, and read back as nullopt rather than "". A JSON null
// (as a checkpoint row holds) is absent too; an empty string stays an empty string.
TEST(DeltaActionsTest, AbsentNameAndDescriptionStayAbsent) {
  DeltaMetadata metadata;
  metadata.id = "x";
  metadata.schema_string = LogSchemaString();
  const std::string line = SerializeAction(metadata);
  EXPECT_EQ(line.find("\"name\""), std::string::npos) << line;
  EXPECT_EQ(line.find("\"description\""), std::string::npos) << line;
  EXPECT_NE(line.find(R"("format":{"provider":"parquet","options":{}})"), std::string::npos)
      << line;

  const std::string text =
      line + "\n" +
      R"({"metaData":{"id":"y","name":null,"description":null,"format":{"provider":"parquet","options":null},"schemaString":"{}"}})"
      "\n"
      R"({"metaData":{"id":"z","name":"","description":"","format":{"provider":"parquet","options":{"k":null,"a":"b"}},"schemaString":"{}"}})"
      "\n";
  Result<std::vector<Action>> parsed = ParseCommit(text, "00000000000000000000.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 3u);
  for (int i : {0, 1}) {
    const auto& m = As<DeltaMetadata>((*parsed)[i]);
    EXPECT_FALSE(m.name.has_value()) << i;
    EXPECT_FALSE(m.description.has_value()) << i;
    EXPECT_TRUE(m.format_options.empty()) << i;
  }
  const auto& empty = As<DeltaMetadata>((*parsed)[2]);
  EXPECT_EQ(empty.name, std::optional<std::string>(""));
  EXPECT_EQ(empty.description, std::optional<std::string>(""));
  EXPECT_EQ(empty.format_options, (std::map<std::string, std::string>{{"a", "b"}}));
}

TEST(DeltaActionsTest, MetadataFieldOfTheWrongTypeIsCorruption) {
  const std::string cases[] = {
      R"({"metaData":{"id":"x","schemaString":"{}","description":7}})",
      R"({"metaData":{"id":"x","schemaString":"{}","name":["n"]}})",
      R"({"metaData":{"id":"x","schemaString":"{}","format":{"provider":"parquet","options":[]}}})",
      R"({"metaData":{"id":"x","schemaString":"{}","format":{"provider":"parquet","options":{"k":1}}}})",
      R"({"txn":{"appId":"a","version":1,"lastUpdated":"yesterday"}})",
  };
  for (const std::string& text : cases) {
    Result<std::vector<Action>> parsed = ParseCommit(text, "00000000000000000003.json");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_TRUE(parsed.status().IsCorruption()) << parsed.status().ToString();
  }
}

TEST(DeltaActionsTest, SchemaStringIsExactlySparks) {
  // Copied from the metaData Spark 4.2 / Delta 4.4 wrote for the same DataFrame schema.
  EXPECT_EQ(
      LogSchemaString(),
      R"({"type":"struct","fields":[{"name":"pipeline","type":"string","nullable":true,"metadata":{}},)"
      R"({"name":"log_date","type":"date","nullable":true,"metadata":{}},)"
      R"({"name":"ts","type":"timestamp","nullable":true,"metadata":{}},)"
      R"({"name":"level","type":"string","nullable":true,"metadata":{}},)"
      R"({"name":"stage","type":"string","nullable":true,"metadata":{}},)"
      R"({"name":"status","type":"string","nullable":true,"metadata":{}},)"
      R"({"name":"message","type":"string","nullable":true,"metadata":{}},)"
      R"({"name":"run_id","type":"string","nullable":true,"metadata":{}},)"
      R"({"name":"host","type":"string","nullable":true,"metadata":{}},)"
      R"({"name":"attributes","type":{"type":"map","keyType":"string","valueType":"string",)"
      R"("valueContainsNull":true},"nullable":true,"metadata":{}}]})");
}

TEST(DeltaActionsTest, IgnoresUnknownActionsAndFields) {
  const std::string text =
      R"({"commitInfo":{"timestamp":1,"operation":"WRITE","operationParameters":{"n":5,"b":true},"inCommitTimestamp":9,"operationMetrics":{"num_added_files":4}}})"
      "\n"
      R"({"domainMetadata":{"domain":"delta.clustering","configuration":"{}","removed":false}})"
      "\n"
      R"({"cdc":{"path":"_change_data/x.parquet","partitionValues":{},"size":1,"dataChange":false}})"
      "\n"
      R"({"checkpointMetadata":{"version":3},"sidecar":{"path":"x"}})"
      "\n"
      R"({"add":{"path":"a.parquet","partitionValues":{},"size":10,"modificationTime":1,"dataChange":true,"tags":{"k":"v"},"baseRowId":null,"clusteringProvider":null,"newField":[1,2,{"x":null}]}})"
      "\n"
      R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["timestampNtz"],"writerFeatures":["timestampNtz","appendOnly"]}})"
      "\r\n\n";
  Result<std::vector<Action>> parsed = ParseCommit(text, "x.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 3u);
  const auto& info = As<CommitInfoAction>((*parsed)[0]);
  EXPECT_EQ(info.info.parameters.at("n"), "5");
  EXPECT_EQ(info.info.parameters.at("b"), "true");
  EXPECT_EQ(info.info.metrics.at("num_added_files"), "4");
  EXPECT_EQ(As<AddAction>((*parsed)[1]).file.size, 10);
  EXPECT_FALSE(As<AddAction>((*parsed)[1]).file.num_records.has_value());
  const auto& protocol = As<DeltaProtocol>((*parsed)[2]);
  EXPECT_EQ(protocol.reader_features, std::vector<std::string>{"timestampNtz"});
  EXPECT_EQ(protocol.writer_features.size(), 2u);
}

TEST(DeltaActionsTest, ParsesSparkCommitVerbatim) {
  const std::string text =
      R"({"commitInfo":{"timestamp":1795531368340,"operation":"DELETE","operationParameters":{"predicate":"[\"(level#12368 = WARN)\"]"},"readVersion":11,"isolationLevel":"Serializable","isBlindAppend":false,"operationMetrics":{"numRemovedFiles":"1","numDeletedRows":"1"},"engineInfo":"Apache-Spark/4.2.0 Delta-Lake/4.4.0","txnId":"e74887ce-aea5-4f4a-bad8-0371c60b24c6"}})"
      "\n"
      R"({"remove":{"path":"pipeline=__HIVE_DEFAULT_PARTITION__/log_date=2026-11-24/part-00000-7320080e-700b-498b-9ab8-7ec1bb9e5516.c000.snappy.parquet","deletionTimestamp":1795531368317,"dataChange":true,"extendedFileMetadata":true,"partitionValues":{"log_date":"2026-11-24"},"size":3565}})"
      "\n";
  Result<std::vector<Action>> parsed = ParseCommit(text, "00000000000000000012.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ(As<CommitInfoAction>((*parsed)[0]).info.parameters.at("predicate"),
            "[\"(level#12368 = WARN)\"]");
  EXPECT_EQ(As<CommitInfoAction>((*parsed)[0]).is_blind_append, false);
  EXPECT_EQ(As<RemoveAction>((*parsed)[1]).size, 3565);
}

TEST(DeltaActionsTest, GarbageLineIsCorruptionNamingFileAndLine) {
  const std::string cases[] = {
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\nnot json at all\n",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n{\"add\":{\"path\":\"a\",",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n[1,2,3]\n",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n{\"add\":\"x\"}\n",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n{\"add\":{\"size\":1}}\n",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n{\"add\":{\"path\":7}}\n",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
      "{\"add\":{\"path\":\"a\",\"size\":\"big\"}}\n",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
      "{\"add\":{\"path\":\"a\",\"size\":18446744073709551615}}\n",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
      "{\"add\":{\"path\":\"a%zz\"}}\n",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
      "{\"txn\":{\"appId\":\"a\",\"version\":1.5}}\n",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
      "{\"metaData\":{\"id\":\"x\",\"schemaString\":\"{}\",\"partitionColumns\":\"p\"}}\n",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
      "{\"add\":{\"path\":\"\xff\xfe\"}}\n",
  };
  for (const std::string& text : cases) {
    Result<std::vector<Action>> parsed = ParseCommit(text, "00000000000000000003.json");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_TRUE(parsed.status().IsCorruption()) << parsed.status().ToString();
    EXPECT_NE(parsed.status().message().find("00000000000000000003.json:2"), std::string::npos)
        << parsed.status().ToString();
  }
}

TEST(DeltaActionsTest, InvalidUtf8IsReplacedNeverThrown) {
  TxnAction txn{"bad\xff\xfe", 1, std::nullopt};
  std::string line = SerializeAction(txn);
  EXPECT_NE(line.find("\xef\xbf\xbd"), std::string::npos);  // U+FFFD
  EXPECT_TRUE(ParseCommit(line, "x.json").ok());
}

}  // namespace
}  // namespace lakelog::delta
