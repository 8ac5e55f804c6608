// IngestDaemon against librdkafka's mock cluster: one txn per partition at its last offset,
// dead letters covered by the txn, a second run resuming from the table, and batches that
// refill a committed batch's events holding exactly their own messages.
#include "kafka/ingest_daemon.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "storage/fault_injection_file_system.h"
#include "storage/mem_file_system.h"
#include "support/parquet_json_rows.h"

namespace lakelog::kafka {
namespace {

class IngestDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", "", errstr, sizeof(errstr)),
              RD_KAFKA_CONF_OK);
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    cluster_ = rd_kafka_mock_cluster_new(owner_, 1);
    rd_kafka_mock_topic_create(cluster_, "logs", 2, 1);
    brokers_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  void TearDown() override {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(owner_);
  }

  void Produce(int32_t partition, const std::string& value) {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers_.c_str(), errstr, sizeof(errstr));
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    ASSERT_EQ(rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("logs"), RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(rd_kafka_flush(producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(producer);
  }

  static std::string Event(int i) {
    return "{\"pipeline\":\"p\",\"ts\":1764000000000,\"run_id\":\"r" + std::to_string(i) + "\"}";
  }

  IngestStats RunOnce(int64_t max_events = 1'000'000, FileSystem* fs = nullptr,
                      std::vector<std::string>* log = nullptr) {
    IngestDaemonOptions options;
    options.max_events = max_events;
    options.brokers = brokers_;
    options.topics = {"logs"};
    options.group = "g";
    options.table = "/t";
    options.dead_letter_path = "/dead.ndjson";
    options.available_now = true;
    options.log = [log](const std::string& line) {
      if (log != nullptr) log->push_back(line);
    };
    // The mock cluster of librdkafka 2.0.2 lets a closed member's session run out instead of
    // handling its LeaveGroup: keep that short so the second run joins quickly.
    options.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    auto daemon = IngestDaemon::Open(fs != nullptr ? fs : &fs_, options);
    EXPECT_TRUE(daemon.ok()) << daemon.status().ToString();
    if (!daemon.ok()) return {};
    Status st = (*daemon)->Run();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return (*daemon)->stats();
  }

  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string brokers_;
  MemFileSystem fs_;
};

TEST_F(IngestDaemonTest, OneTxnPerPartitionAtItsLastOffsetAndRerunResumesFromTable) {
  for (int i = 0; i < 3; ++i) Produce(0, Event(i));
  Produce(1, Event(3));
  Produce(1, "garbage");  // offset 1 of partition 1: a dead letter, still covered by the txn
  IngestStats first = RunOnce();
  EXPECT_EQ(first.messages, 5);
  EXPECT_EQ(first.rows_committed, 4);
  EXPECT_EQ(first.dead_letters, 1);
  auto table = DeltaTable::Open(&fs_, "/t", {});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ((*table)->TxnVersion(TxnAppId("g", "logs", 0))->value_or(-1), 2);
  EXPECT_EQ((*table)->TxnVersion(TxnAppId("g", "logs", 1))->value_or(-1), 1);
  EXPECT_EQ((*table)->Snapshot()->TotalRows(), 4);

  Produce(1, Event(4));
  IngestStats second = RunOnce();
  EXPECT_EQ(second.messages, 1);  // only the new message: the table says where to resume
  EXPECT_EQ(second.rows_committed, 1);
  auto reopened = DeltaTable::Open(&fs_, "/t", {});
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->TxnVersion(TxnAppId("g", "logs", 1))->value_or(-1), 2);
  EXPECT_EQ((*reopened)->Snapshot()->TotalRows(), 5);
}

// Batches of three: from the third on, a batch is parsed into a committed batch's events, so a
// message with few fields lands where one with every field was, and the other way round. Each
// row must hold its own message's fields and nothing of the event it was parsed over.
TEST_F(IngestDaemonTest, RefilledBatchesHoldEachMessageAsParsed) {
  const std::string kShapes = "FSFSFSSFSFSF";  // F: every field, S: pipeline, ts and run_id
  for (size_t i = 0; i < kShapes.size(); ++i) {
    const std::string id = "r" + std::to_string(i);
    Produce(0, kShapes[i] == 'S'
                   ? "{\"pipeline\":\"p\",\"ts\":1764000000000,\"run_id\":\"" + id + "\"}"
                   : "{\"pipeline\":\"p\",\"ts\":1764000000000,\"level\":\"ERROR\","
                     "\"stage\":\"load\",\"status\":\"failed\",\"message\":\"a message "
                     "longer than the inline string\",\"run_id\":\"" +
                         id + "\",\"host\":\"h\",\"attributes\":{\"a\":\"1\",\"b\":\"2\"}}");
  }
  IngestStats stats = RunOnce(/*max_events=*/3);
  EXPECT_EQ(stats.commits, 4);
  auto table = DeltaTable::Open(&fs_, "/t", {});
  ASSERT_TRUE(table.ok());
  auto snapshot = (*table)->Snapshot();
  ASSERT_TRUE(snapshot.ok());
  std::map<std::string, nlohmann::json> rows;  // by run_id
  for (const DeltaAddFile& file : snapshot->files) {
    auto read = parquet::ReadParquetRowsAsJson(&fs_, "/t/" + file.path);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    for (const nlohmann::json& row : *read) rows[row["run_id"]] = row;
  }
  ASSERT_EQ(rows.size(), kShapes.size());
  for (size_t i = 0; i < kShapes.size(); ++i) {
    const nlohmann::json& row = rows["r" + std::to_string(i)];
    if (kShapes[i] == 'S') {
      EXPECT_EQ(row["level"], "INFO") << i;
      for (const char* column : {"stage", "status", "message", "host"}) {
        EXPECT_TRUE(row[column].is_null()) << i << " " << column << ": " << row[column];
      }
      EXPECT_TRUE(row["attributes"].empty()) << i << ": " << row["attributes"];
    } else {
      EXPECT_EQ(row["level"], "ERROR") << i;
      EXPECT_EQ(row["stage"], "load") << i;
      EXPECT_EQ(row["status"], "failed") << i;
      EXPECT_EQ(row["message"], "a message longer than the inline string") << i;
      EXPECT_EQ(row["host"], "h") << i;
      EXPECT_EQ(row["attributes"], nlohmann::json({{"a", "1"}, {"b", "2"}})) << i;
    }
  }
}

// A commit that fails with a retryable error loses the batch's events with its stream: the
// daemon drops the batch, reads its messages again from where the table stands, and commits
// them once.
TEST_F(IngestDaemonTest, AFailedCommitIsReadAgainFromKafkaAndCommittedOnce) {
  for (int i = 0; i < 6; ++i) Produce(i % 2, Event(i));
  FaultInjectionFileSystem faulty(&fs_);
  // Version 1, the first batch's commit, fails once (version 0 creates the table).
  faulty.AddRule(FaultRule{FaultOp::kPutIfAbsent, "_delta_log/00000000000000000001.json", 0, 1,
                           FaultKind::kIOError});
  std::vector<std::string> log;
  IngestStats stats = RunOnce(/*max_events=*/1'000'000, &faulty, &log);
  EXPECT_EQ(faulty.injected(), 1);
  EXPECT_EQ(stats.abandoned_batches, 1);
  EXPECT_EQ(stats.commits, 1);
  EXPECT_EQ(stats.rows_committed, 6);
  EXPECT_EQ(stats.messages, 12);  // each read twice
  bool logged = false;
  for (const std::string& line : log) logged |= line.find("reading the batch again") != line.npos;
  EXPECT_TRUE(logged);
  auto table = DeltaTable::Open(&fs_, "/t", {});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ((*table)->Snapshot()->TotalRows(), 6);
  EXPECT_EQ((*table)->TxnVersion(TxnAppId("g", "logs", 0))->value_or(-1), 2);
  EXPECT_EQ((*table)->TxnVersion(TxnAppId("g", "logs", 1))->value_or(-1), 2);
}

TEST(IngestDaemonAppIdTest, NamesTopicPartitionAndGroup) {
  EXPECT_EQ(TxnAppId("grp:x", "logs", 3), "kafka-ingest:logs:3:grp:x");
}

}  // namespace
}  // namespace lakelog::kafka
