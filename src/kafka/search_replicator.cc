#include "kafka/search_replicator.h"

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "common/backoff.h"
#include "ingest/event_parser.h"
#include "kafka/consumer.h"

namespace lakelog::kafka {
namespace {

using TopicPartition = std::pair<std::string, int32_t>;
using SteadyClock = std::chrono::steady_clock;

// At most this many messages, or what arrives within kBatchWindow, make one batch.
constexpr size_t kMaxBatchMessages = 20000;
constexpr std::chrono::milliseconds kBatchWindow{200};

struct Message {
  int64_t offset = 0;
  std::string value;
  bool tombstone = false;
};

}  // namespace

class SearchReplicator::Impl {
 public:
  explicit Impl(SearchReplicatorOptions options)
      : options_(std::move(options)),
        backoff_(options_.initial_backoff, options_.max_backoff, std::random_device{}()) {}
  ~Impl() {
    if (consumer_ != nullptr) rd_kafka_destroy(consumer_);
  }

  Status Start() {
    LAKELOG_ASSIGN_OR_RETURN(sink_, NewOpenSearchSink(options_.search));
    const std::map<std::string, std::string> forced = {
        {"bootstrap.servers", options_.brokers}, {"group.id", options_.group},
        {"enable.auto.commit", "false"},         {"isolation.level", "read_committed"},
        {"enable.partition.eof", "true"},        {"auto.offset.reset", "earliest"},
    };
    LAKELOG_ASSIGN_OR_RETURN(consumer_, NewConsumer(options_.properties, forced, nullptr, nullptr));
    return Status::OK();
  }

  Status Run() {
    PartitionList topics(
        rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size())));
    for (const std::string& t : options_.topics) {
      rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    if (rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_, topics.get()); err != 0) {
      return Status::InvalidArgument(std::string("kafka subscribe: ") + rd_kafka_err2str(err));
    }
    Status result;
    int failures = 0;
    while (!stop_.load()) {
      std::map<TopicPartition, std::vector<Message>> batch;
      result = Poll(&batch);
      if (!result.ok()) break;
      bool failed = false;
      for (auto& [tp, messages] : batch) {
        Status st = Replicate(tp, messages);
        if (st.ok()) continue;
        if (!st.retryable()) {
          result = st;
          break;
        }
        failed = true;
        Count([](SearchReplicatorStats& s) { s.failed_batches += 1; });
        Log("kafka-ingest --opensearch: " + tp.first + "[" + std::to_string(tp.second) +
            "] from offset " + std::to_string(messages.front().offset) +
            " not replicated, retried: " + st.ToString());
        Seek(tp, messages.front().offset);
      }
      if (!result.ok()) break;
      if (failed) {
        // In short steps: RequestStop() may come from a signal handler (an atomic store only).
        const auto until = SteadyClock::now() + backoff_.Next(failures++);
        while (!stop_.load() && SteadyClock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        continue;
      }
      failures = 0;
      if (options_.available_now && Drained()) break;
    }
    rd_kafka_consumer_close(consumer_);
    return result;
  }

  // Async-signal-safe: one lock-free atomic store.
  void RequestStop() { stop_.store(true); }

  SearchReplicatorStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  // One batch: what arrives within kBatchWindow (at most kMaxBatchMessages), per partition.
  Status Poll(std::map<TopicPartition, std::vector<Message>>* batch) {
    const auto deadline = SteadyClock::now() + kBatchWindow;
    size_t n = 0;
    while (n < kMaxBatchMessages && !stop_.load()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) break;
      rd_kafka_message_t* msg = rd_kafka_consumer_poll(consumer_, static_cast<int>(left.count()));
      if (msg == nullptr) continue;
      const TopicPartition tp{msg->rkt ? rd_kafka_topic_name(msg->rkt) : "", msg->partition};
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        at_end_.insert(tp);
      } else if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const std::string text = rd_kafka_message_errstr(msg);
        const bool fatal = msg->err == RD_KAFKA_RESP_ERR__FATAL;
        rd_kafka_message_destroy(msg);
        if (fatal) return Status::Internal("kafka consumer: " + text);
        Log("kafka-ingest --opensearch: consumer: " + text);
        continue;
      } else {
        at_end_.erase(tp);
        Message m;
        m.offset = msg->offset;
        m.tombstone = msg->payload == nullptr;
        if (!m.tombstone) m.value.assign(static_cast<const char*>(msg->payload), msg->len);
        (*batch)[tp].push_back(std::move(m));
        ++n;
      }
      rd_kafka_message_destroy(msg);
    }
    return Status::OK();
  }

  // Writes one partition's messages; on success commits the offset after the last.
  Status Replicate(const TopicPartition& tp, const std::vector<Message>& messages) {
    std::vector<LogEvent> events;
    std::vector<uint64_t> offsets;
    events.reserve(messages.size());
    int64_t skipped = 0;
    for (const Message& m : messages) {
      LogEvent event;
      if (m.tombstone || !ingest::ParseEventLine(m.value, parser_options_, &event).ok()) {
        ++skipped;
        continue;
      }
      events.push_back(std::move(event));
      offsets.push_back(static_cast<uint64_t>(m.offset));
    }
    Count([&](SearchReplicatorStats& s) {
      s.messages += static_cast<int64_t>(messages.size());
      s.skipped += skipped;
    });
    if (!events.empty()) {
      std::vector<const LogEvent*> rows;
      rows.reserve(events.size());
      for (const LogEvent& e : events) rows.push_back(&e);
      // Ids "<topic>-<partition>-s<offset>": the same message is the same document.
      const std::string writer = tp.first + "-" + std::to_string(tp.second);
      int64_t refused = 0;
      SinkWriteContext ctx{.writer_id = writer,
                           .round = messages.back().offset + 1,
                           .warn =
                               [&](const Status& st) {
                                 ++refused;
                                 Log("kafka-ingest --opensearch: " + st.ToString());
                               },
                           .event_sequences = offsets};
      Status st = sink_->Write(rows, ctx);
      if (refused > 0) Count([&](SearchReplicatorStats& s) { s.refused += refused; });
      if (!st.ok()) return st;
      Count([&](SearchReplicatorStats& s) { s.documents += static_cast<int64_t>(rows.size()); });
    }
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset =
        messages.back().offset + 1;
    if (rd_kafka_resp_err_t err = rd_kafka_commit(consumer_, list.get(), 0); err != 0) {
      // The documents are in; the next owner re-sends them and finds them there.
      Log("kafka-ingest --opensearch: committing the offset of " + tp.first + "[" +
          std::to_string(tp.second) + "]: " + rd_kafka_err2str(err));
    }
    return Status::OK();
  }

  void Seek(const TopicPartition& tp, int64_t offset) {
    at_end_.erase(tp);
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = offset;
    rd_kafka_error_t* error = rd_kafka_seek_partitions(consumer_, list.get(), 10000);
    if (error != nullptr) {
      // Not assigned any more (a rebalance): the next owner starts at the committed offset.
      Log(std::string("kafka-ingest --opensearch: seek: ") + rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
  }

  // Every assigned partition has reported its end since its last message.
  bool Drained() {
    rd_kafka_topic_partition_list_t* assignment = nullptr;
    if (rd_kafka_assignment(consumer_, &assignment) != 0 || assignment == nullptr) return false;
    PartitionList owned(assignment);
    if (owned->cnt == 0) return false;
    for (int i = 0; i < owned->cnt; ++i) {
      if (!at_end_.count({owned->elems[i].topic, owned->elems[i].partition})) return false;
    }
    return true;
  }

  template <typename F>
  void Count(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    f(stats_);
  }

  void Log(const std::string& line) {
    if (options_.log) {
      options_.log(line);
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  }

  SearchReplicatorOptions options_;
  Backoff backoff_;  // Run()'s thread only
  std::unique_ptr<Sink> sink_;
  rd_kafka_t* consumer_ = nullptr;
  ingest::EventParserOptions parser_options_;
  std::set<TopicPartition> at_end_;  // Run()'s thread only
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  SearchReplicatorStats stats_;  // guarded by mu_
};

Result<std::unique_ptr<SearchReplicator>> SearchReplicator::Open(
    const SearchReplicatorOptions& options) {
  if (options.brokers.empty()) return Status::InvalidArgument("--brokers is empty");
  if (options.topics.empty()) return Status::InvalidArgument("no --topic");
  if (options.group.empty()) return Status::InvalidArgument("the replica's group is empty");
  SearchReplicatorOptions o = options;
  // Kafka's committed offsets are the progress here.
  o.search.progress_index.clear();
  auto impl = std::make_unique<Impl>(std::move(o));
  LAKELOG_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<SearchReplicator>(new SearchReplicator(std::move(impl)));
}

SearchReplicator::SearchReplicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SearchReplicator::~SearchReplicator() = default;
Status SearchReplicator::Run() { return impl_->Run(); }
void SearchReplicator::RequestStop() { impl_->RequestStop(); }
SearchReplicatorStats SearchReplicator::stats() const { return impl_->stats(); }

}  // namespace lakelog::kafka
