// KafkaSink against librdkafka's in-process mock cluster (fast; the real broker is exercised by
// tests/kafka/test_kafka_sink.py), and the message format against the ingest parser.
#include "lakelog/kafka_sink.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/event_json.h"
#include "ingest/event_parser.h"

namespace lakelog {
namespace {

LogEvent MakeEvent(int i) {
  LogEvent e;
  e.pipeline = "loader \"q\"\n" + std::to_string(i % 2);
  e.ts_micros = 1764000000123456 + i;
  e.level = Level::kError;
  e.stage = "merge";
  e.status = "FAILED";
  e.message = "tab\there \\ \x01 ünïcode";
  e.run_id = "run-" + std::to_string(i);
  e.attributes = {{"rows", "0"}, {"k\"", "v\n"}};
  return e;
}

TEST(KafkaEventJsonTest, IngestParserReadsEveryFieldBack) {
  LogEvent e = MakeEvent(7);
  std::string json;
  AppendEventJson(e, &json);
  LogEvent back;
  ASSERT_TRUE(ingest::ParseEventLine(json, {}, &back).ok()) << json;
  EXPECT_EQ(back.pipeline, e.pipeline);
  EXPECT_EQ(back.ts_micros, e.ts_micros);
  EXPECT_EQ(back.level, e.level);
  EXPECT_EQ(back.stage, e.stage);
  EXPECT_EQ(back.status, e.status);
  EXPECT_EQ(back.message, e.message);
  EXPECT_EQ(back.run_id, e.run_id);
  EXPECT_EQ(back.host, std::nullopt);
  using Map = std::map<std::string, std::string>;
  EXPECT_EQ(Map(back.attributes.begin(), back.attributes.end()),
            Map(e.attributes.begin(), e.attributes.end()));
  EXPECT_NE(json.find("\"ts\":\"2025-11-24T16:00:00.123463Z\""), std::string::npos) << json;
}

TEST(KafkaSinkTest, RejectsBadOptionsUpFront) {
  KafkaSinkOptions options;
  EXPECT_EQ(NewKafkaSink(options).status().code(), StatusCode::kInvalidArgument);
  options.brokers = "127.0.0.1:1";
  options.properties["no.such.property"] = "1";
  Result<std::unique_ptr<Sink>> sink = NewKafkaSink(options);
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(sink.status().message().find("no.such.property"), std::string::npos);
  options.properties.clear();
  options.progress_topic = options.topic;
  EXPECT_EQ(NewKafkaSink(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(KafkaSinkTest, UnreachableBrokerIsRetryable) {
  KafkaSinkOptions options;
  options.brokers = "127.0.0.1:1";  // nothing listens there
  options.operation_timeout = std::chrono::milliseconds(500);
  auto sink = NewKafkaSink(options);
  ASSERT_TRUE(sink.ok());
  LogEvent e = MakeEvent(1);
  const LogEvent* rows[] = {&e};
  Status st = (*sink)->Write(rows, SinkWriteContext{"w", 1, 1, nullptr});
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.retryable()) << st.ToString();
  Result<int64_t> committed = (*sink)->CommittedRound("w");
  ASSERT_FALSE(committed.ok());
  EXPECT_TRUE(committed.status().retryable()) << committed.status().ToString();
}

// A mock cluster that lives as long as the test: it belongs to a throwaway producer handle.
class MockCluster {
 public:
  MockCluster() {
    char errstr[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    mcluster_ = rd_kafka_mock_cluster_new(rk_, 1);
    rd_kafka_mock_topic_create(mcluster_, "pipeline_logs", 2, 1);
    rd_kafka_mock_topic_create(mcluster_, "lakelog_sink_progress", 1, 1);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(mcluster_);
    rd_kafka_destroy(rk_);
  }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(mcluster_); }

 private:
  rd_kafka_t* rk_;
  rd_kafka_mock_cluster_t* mcluster_;
};

// Every message value of `topic` (all partitions), read with read_committed.
std::vector<std::string> ReadAll(const std::string& brokers, const std::string& topic,
                                 int partitions) {
  char errstr[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "group.id", "check", errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "isolation.level", "read_committed", errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<std::string> out;
  int eofs = 0;
  for (int polls = 0; polls < 200 && eofs < partitions; ++polls) {
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk, 100);
    if (msg == nullptr) continue;
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++eofs;
    } else if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.emplace_back(static_cast<const char*>(msg->payload), msg->len);
    }
    rd_kafka_message_destroy(msg);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

TEST(KafkaSinkTest, RoundIsOneTransactionAndACommittedRoundIsNotWrittenTwice) {
  MockCluster cluster;
  KafkaSinkOptions options;
  options.brokers = cluster.bootstraps();
  options.operation_timeout = std::chrono::seconds(10);
  std::vector<LogEvent> events = {MakeEvent(1), MakeEvent(2), MakeEvent(3)};
  std::vector<const LogEvent*> rows;
  for (const LogEvent& e : events) rows.push_back(&e);
  {
    auto sink = NewKafkaSink(options);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    Result<int64_t> none = (*sink)->CommittedRound("w1");
    ASSERT_TRUE(none.ok()) << none.status().ToString();
    EXPECT_EQ(*none, 0);
    Status st = (*sink)->Write(rows, SinkWriteContext{"w1", 5, 1, nullptr});
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  // A restarted writer (a new sink, as after a crash) reads its round back and skips it.
  auto sink = NewKafkaSink(options);
  ASSERT_TRUE(sink.ok());
  Result<int64_t> committed = (*sink)->CommittedRound("w1");
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(*committed, 5);
  Result<int64_t> other = (*sink)->CommittedRound("w2");
  ASSERT_FALSE(other.ok());  // one sink serves one writer
  Status again = (*sink)->Write(rows, SinkWriteContext{"w1", 5, 1, nullptr});
  ASSERT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(ReadAll(options.brokers, "pipeline_logs", 2).size(), 3u);
  Status next = (*sink)->Write(rows, SinkWriteContext{"w1", 6, 1, nullptr});
  ASSERT_TRUE(next.ok()) << next.ToString();
  EXPECT_EQ(ReadAll(options.brokers, "pipeline_logs", 2).size(), 6u);
}

}  // namespace
}  // namespace lakelog
