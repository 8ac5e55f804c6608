// KafkaSink: one flush round = one Kafka transaction holding the round's event messages and a
// progress record {writer id -> round} on a compacted topic; see include/lakelog/kafka_sink.h.
//
// Invariant: committed_round_, once known, is the highest round this producer's
// transactional.id has committed; it is read from the progress topic only after
// init_transactions() has fenced every older producer with the same id, so no transaction
// that could still commit is left out.
#include "lakelog/kafka_sink.h"

#include <librdkafka/rdkafka.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "common/event_json.h"

namespace lakelog {
namespace {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

// Takes ownership of `error` (may be null = OK). Everything the broker says is retryable for
// the engine: a fatal producer is rebuilt and an aborted transaction is written again.
Status FromError(rd_kafka_error_t* error, const std::string& what) {
  if (error == nullptr) return Status::OK();
  std::string message = what + ": " + rd_kafka_error_string(error);
  rd_kafka_error_destroy(error);
  return Status::Unavailable(message);
}

Result<rd_kafka_conf_t*> MakeConf(const KafkaSinkOptions& options,
                                  const std::map<std::string, std::string>& forced) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  auto set = [&](const std::string& key, const std::string& value) -> Status {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      return Status::InvalidArgument("kafka property " + key + "=" + value + ": " + errstr);
    }
    return Status::OK();
  };
  Status st = set("bootstrap.servers", options.brokers);
  for (const auto& [key, value] : options.properties) {
    if (!st.ok()) break;
    if (forced.count(key) == 0) st = set(key, value);
  }
  for (const auto& [key, value] : forced) {
    if (!st.ok()) break;
    st = set(key, value);
  }
  if (!st.ok()) {
    rd_kafka_conf_destroy(conf);
    return st;
  }
  return conf;
}

Result<KafkaHandle> MakeClient(rd_kafka_type_t type, const KafkaSinkOptions& options,
                               const std::map<std::string, std::string>& forced) {
  LAKELOG_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, MakeConf(options, forced));
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka client: ") + errstr);
  }
  return KafkaHandle(rk);
}

class KafkaSink final : public Sink {
 public:
  explicit KafkaSink(KafkaSinkOptions options) : options_(std::move(options)) {}

  std::string_view name() const override { return "kafka"; }

  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    LAKELOG_RETURN_IF_ERROR(EnsureProducer(ctx.writer_id));
    if (!committed_round_.has_value()) {
      LAKELOG_ASSIGN_OR_RETURN(committed_round_, ReadCommittedRound(ctx.writer_id));
    }
    if (ctx.round <= *committed_round_) return Status::OK();  // a replayed, committed round
    if (events.empty()) return Status::OK();

    rd_kafka_t* rk = producer_.get();
    LAKELOG_RETURN_IF_ERROR(
        CheckFatal(FromError(rd_kafka_begin_transaction(rk), "kafka sink: begin transaction")));
    std::string value;
    for (const LogEvent* event : events) {
      value.clear();
      AppendEventJson(*event, &value);
      Status st = Produce(options_.topic, event->pipeline, value);
      if (!st.ok()) return Abort(st);
    }
    const std::string round_text = std::to_string(ctx.round);
    Status st = Produce(options_.progress_topic, ctx.writer_id, round_text);
    if (!st.ok()) return Abort(st);
    rd_kafka_error_t* error =
        rd_kafka_commit_transaction(rk, static_cast<int>(options_.operation_timeout.count()));
    if (error != nullptr) {
      // A retriable commit error leaves the outcome open; abort makes it "not committed"
      // (the abort fails, and the producer is rebuilt, when the commit did land: the next
      // try then reads the progress topic and skips the round).
      return Abort(FromError(error, "kafka sink: commit transaction of round " + round_text));
    }
    committed_round_ = ctx.round;
    return Status::OK();
  }

  // Write() returns only after the transaction committed: nothing is pending in between.
  Status Flush(std::chrono::milliseconds) override { return Status::OK(); }

  Result<int64_t> CommittedRound(std::string_view writer_id) override {
    LAKELOG_RETURN_IF_ERROR(EnsureProducer(writer_id));
    LAKELOG_ASSIGN_OR_RETURN(committed_round_, ReadCommittedRound(writer_id));
    return *committed_round_;
  }

 private:
  // Creates the transactional producer and fences older incarnations of this writer.
  Status EnsureProducer(std::string_view writer_id) {
    if (producer_ && !writer_id_.empty() && writer_id_ != writer_id) {
      return Status::InvalidArgument("kafka sink: used by two writers");
    }
    if (producer_) return Status::OK();
    writer_id_ = std::string(writer_id);
    std::map<std::string, std::string> forced = {
        {"transactional.id", options_.transactional_id_prefix + writer_id_},
        {"enable.idempotence", "true"},
        {"acks", "all"},
    };
    LAKELOG_ASSIGN_OR_RETURN(KafkaHandle producer, MakeClient(RD_KAFKA_PRODUCER, options_, forced));
    LAKELOG_RETURN_IF_ERROR(EnsureProgressTopic(producer.get()));
    Status st = FromError(rd_kafka_init_transactions(
                              producer.get(), static_cast<int>(options_.operation_timeout.count())),
                          "kafka sink: init transactions for " + writer_id_);
    if (!st.ok()) return st;
    producer_ = std::move(producer);
    committed_round_.reset();  // re-read after fencing
    return Status::OK();
  }

  // The progress topic must be compacted with one partition so that "the last record of a
  // key" is well defined. Creating one that exists already is fine.
  Status EnsureProgressTopic(rd_kafka_t* rk) {
    if (progress_topic_ready_) return Status::OK();
    if (TopicExists(rk, options_.progress_topic)) {
      progress_topic_ready_ = true;
      return Status::OK();
    }
    char errstr[512];
    rd_kafka_NewTopic_t* topic =
        rd_kafka_NewTopic_new(options_.progress_topic.c_str(), 1, -1, errstr, sizeof(errstr));
    if (topic == nullptr) return Status::InvalidArgument(std::string("kafka sink: ") + errstr);
    rd_kafka_NewTopic_set_config(topic, "cleanup.policy", "compact");
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t* admin = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(
        admin, static_cast<int>(options_.operation_timeout.count()), errstr, sizeof(errstr));
    rd_kafka_CreateTopics(rk, &topic, 1, admin, queue);
    rd_kafka_event_t* event =
        rd_kafka_queue_poll(queue, static_cast<int>(options_.operation_timeout.count()) + 1000);
    Status st =
        Status::Unavailable("kafka sink: creating " + options_.progress_topic + " timed out");
    if (event != nullptr) {
      st = Status::OK();
      if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        st = Status::Unavailable(std::string("kafka sink: creating progress topic: ") +
                                 rd_kafka_event_error_string(event));
      } else {
        size_t count = 0;
        const rd_kafka_topic_result_t** results =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
        for (size_t i = 0; i < count; ++i) {
          rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
          if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            st = Status::Unavailable("kafka sink: creating progress topic " +
                                     options_.progress_topic + ": " +
                                     rd_kafka_topic_result_error_string(results[i]));
          }
        }
      }
      rd_kafka_event_destroy(event);
    }
    rd_kafka_AdminOptions_destroy(admin);
    rd_kafka_queue_destroy(queue);
    rd_kafka_NewTopic_destroy(topic);
    if (st.ok()) progress_topic_ready_ = true;
    return st;
  }

  bool TopicExists(rd_kafka_t* rk, const std::string& name) {
    rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, name.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(
        rk, 0, topic, &metadata, static_cast<int>(options_.operation_timeout.count()));
    bool exists = err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1 &&
                  metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                  metadata->topics[0].partition_cnt > 0;
    if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
    rd_kafka_topic_destroy(topic);
    return exists;
  }

  // The value of the last committed progress record of `writer_id`; 0 when there is none.
  Result<int64_t> ReadCommittedRound(std::string_view writer_id) {
    std::map<std::string, std::string> forced = {
        {"group.id", "lakelog-sink-progress"},  // required by the API; no offsets are committed
        {"isolation.level", "read_committed"}, {"enable.auto.commit", "false"},
        {"enable.partition.eof", "true"},      {"auto.offset.reset", "earliest"},
    };
    KafkaSinkOptions consumer_options = options_;
    for (const char* producer_only :
         {"linger.ms", "batch.num.messages", "compression.type", "queue.buffering.max.ms",
          "queue.buffering.max.messages", "queue.buffering.max.kbytes", "batch.size",
          "message.timeout.ms", "delivery.timeout.ms", "retries", "retry.backoff.ms",
          "compression.codec", "transaction.timeout.ms"}) {
      consumer_options.properties.erase(producer_only);
    }
    LAKELOG_ASSIGN_OR_RETURN(KafkaHandle consumer,
                             MakeClient(RD_KAFKA_CONSUMER, consumer_options, forced));
    rd_kafka_t* rk = consumer.get();
    rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(assignment, options_.progress_topic.c_str(), 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable(std::string("kafka sink: reading progress: ") +
                                 rd_kafka_err2str(err));
    }
    // Everything up to the high watermark seen now: a transaction of another writer that is
    // open at the moment holds the last stable offset (our EOF) back until it is decided.
    int64_t low = 0, high = 0;
    err = rd_kafka_query_watermark_offsets(rk, options_.progress_topic.c_str(), 0, &low, &high,
                                           static_cast<int>(options_.operation_timeout.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable("kafka sink: reading progress watermarks of " +
                                 options_.progress_topic + ": " + rd_kafka_err2str(err));
    }
    int64_t round = 0;
    const auto deadline = std::chrono::steady_clock::now() + options_.operation_timeout;
    Status st = Status::TimedOut("kafka sink: reading " + options_.progress_topic + " timed out");
    while (std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk, 200);
      if (msg == nullptr) continue;
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // With read_committed the end is the last stable offset: every transaction before it
        // is decided, and init_transactions() already aborted ours.
        const int64_t at = msg->offset;
        rd_kafka_message_destroy(msg);
        if (at >= high) {
          st = Status::OK();
          break;
        }
        continue;
      }
      if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_resp_err_t e = msg->err;
        rd_kafka_message_destroy(msg);
        if (e == RD_KAFKA_RESP_ERR__TRANSPORT || e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) continue;
        st = Status::Unavailable(std::string("kafka sink: reading progress: ") +
                                 rd_kafka_err2str(e));
        break;
      }
      std::string_view key(static_cast<const char*>(msg->key), msg->key ? msg->key_len : 0);
      if (key == writer_id && msg->payload != nullptr) {
        std::string text(static_cast<const char*>(msg->payload), msg->len);
        round = std::strtoll(text.c_str(), nullptr, 10);
      }
      rd_kafka_message_destroy(msg);
    }
    rd_kafka_consumer_close(rk);
    if (!st.ok()) return st;
    return round;
  }

  Status Produce(const std::string& topic, std::string_view key, std::string_view value) {
    rd_kafka_t* rk = producer_.get();
    while (true) {
      rd_kafka_resp_err_t err =
          rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                            RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 10);  // room frees as the broker acknowledges
        continue;
      }
      return Status::Unavailable("kafka sink: producing to " + topic + ": " +
                                 rd_kafka_err2str(err));
    }
  }

  // Aborts the open transaction and returns `cause`; a producer that cannot abort is dropped
  // and rebuilt (fencing itself) on the next Write().
  Status Abort(Status cause) {
    rd_kafka_error_t* error = rd_kafka_abort_transaction(
        producer_.get(), static_cast<int>(options_.operation_timeout.count()));
    if (error != nullptr) {
      rd_kafka_error_destroy(error);
      producer_.reset();
      committed_round_.reset();
    }
    return cause;
  }

  // After a failed begin: a fatal producer is dropped so the next try builds a new one.
  Status CheckFatal(Status st) {
    if (!st.ok()) {
      char errstr[256];
      if (rd_kafka_fatal_error(producer_.get(), errstr, sizeof(errstr)) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        producer_.reset();
        committed_round_.reset();
      }
    }
    return st;
  }

  const KafkaSinkOptions options_;
  std::string writer_id_;
  KafkaHandle producer_;                    // null until the first Write/CommittedRound
  std::optional<int64_t> committed_round_;  // unknown until read (see the invariant)
  bool progress_topic_ready_ = false;
};

}  // namespace

Result<std::unique_ptr<Sink>> NewKafkaSink(const KafkaSinkOptions& options) {
  if (options.brokers.empty()) return Status::InvalidArgument("kafka sink: no brokers given");
  if (options.topic.empty()) return Status::InvalidArgument("kafka sink: empty topic");
  if (options.progress_topic.empty() || options.progress_topic == options.topic) {
    return Status::InvalidArgument("kafka sink: the progress topic must differ from the topic");
  }
  // Fails early on a property librdkafka does not know.
  LAKELOG_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, MakeConf(options, {}));
  rd_kafka_conf_destroy(conf);
  return std::unique_ptr<Sink>(new KafkaSink(options));
}

}  // namespace lakelog
