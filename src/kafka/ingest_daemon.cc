#include "kafka/ingest_daemon.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "ingest/chunk_shredder.h"
#include "ingest/event_parser.h"
#include "kafka/consumer.h"
#include "kafka/ingest_metrics.h"

namespace lakelog::kafka {

std::string TxnAppId(const std::string& group, const std::string& topic, int32_t partition) {
  return "kafka-ingest:" + topic + ":" + std::to_string(partition) + ":" + group;
}

namespace {

using TopicPartition = std::pair<std::string, int32_t>;
using SteadyClock = std::chrono::steady_clock;

struct PartitionRange {
  int64_t first = -1;
  int64_t last = -1;
};

// Invariant: ranges holds, for every partition with a message in the batch, the first and last
// offsets of its messages in the batch (events and dead letters alike). The batch's `size`
// events are shredded into `stream` a chunk at a time (ChunkShredder): the batch holds column
// buffers, not events. Held by pointer: the shredder writes `error` while the batch moves on.
struct Batch : ingest::ShreddedBatch {
  using ShreddedBatch::ShreddedBatch;

  size_t size = 0;
  std::vector<std::string> dead_letter_lines;
  std::map<TopicPartition, PartitionRange> ranges;
  int64_t bytes = 0;

  bool empty() const { return ranges.empty(); }
  // Empties it, the stream's buffers kept for the next batch.
  void Clear() {
    ShreddedBatch::Clear();
    size = 0;
    dead_letter_lines.clear();
    ranges.clear();
    bytes = 0;
  }
};

// What committing a batch came to.
struct CommitOutcome {
  Status status;
  bool abandoned = false;  // the table holds some or all of it already: read again from the table
  DeltaCommitResult result;
  double seconds = 0;
  int64_t dead_letters = 0;  // written to the dead-letter output by this attempt
  // Without a dead-letter file: its lines, for the consumer's thread to log.
  std::vector<std::string> unwritten_dead_letters;
};

}  // namespace

class IngestDaemon::Impl {
 public:
  Impl(FileSystem* fs, IngestDaemonOptions options) : fs_(fs), options_(std::move(options)) {}

  // Before Run().
  void set_table(std::unique_ptr<DeltaTable> table) {
    table_ = std::move(table);
    batch_ = NewBatch();
  }

  ~Impl() {
    if (consumer_ != nullptr) rd_kafka_destroy(consumer_);
  }

  Status Start() {
    const std::map<std::string, std::string> forced = {
        {"bootstrap.servers", options_.brokers}, {"group.id", options_.group},
        {"enable.auto.commit", "false"},         {"enable.auto.offset.store", "false"},
        {"isolation.level", "read_committed"},   {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"},
    };
    // Cooperative-sticky unless the operator picks another assignor (all members of a group
    // must use the same protocol): a rebalance moves only the partitions that change owner,
    // and the other members keep consuming. Rebalance() handles both protocols.
    std::map<std::string, std::string> properties = options_.properties;
    properties.emplace("partition.assignment.strategy", "cooperative-sticky");
    LAKELOG_ASSIGN_OR_RETURN(consumer_,
                             NewConsumer(properties, forced, this, &Impl::RebalanceTrampoline));
    LAKELOG_RETURN_IF_ERROR(CheckTopicsExist());
    if (!options_.dead_letter_path.empty()) {
      FileSystem* fs = options_.dead_letter_fs != nullptr ? options_.dead_letter_fs : fs_;
      auto file = fs->NewAppendableFile(options_.dead_letter_path);
      if (!file.ok()) {
        return file.status().WithContext("opening dead-letter file " + options_.dead_letter_path);
      }
      dead_letters_ = std::move(file).value();
    }
    if (options_.metrics_port != 0) {
      auto metrics = IngestMetrics::Start(options_.metrics_port);
      if (!metrics.ok()) return metrics.status();
      metrics_ = std::move(metrics).value();
    }
    return Status::OK();
  }

  // A topic the broker says does not exist: a catch-up run (--available-now) would wait for it
  // forever, so it is refused; a daemon only warns (the topic may be created later). An
  // unreachable broker is not an error here: librdkafka keeps trying.
  Status CheckTopicsExist() {
    for (const std::string& name : options_.topics) {
      rd_kafka_topic_t* topic = rd_kafka_topic_new(consumer_, name.c_str(), nullptr);
      const rd_kafka_metadata_t* metadata = nullptr;
      rd_kafka_resp_err_t err = rd_kafka_metadata(consumer_, 0, topic, &metadata, 10000);
      const bool missing = err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1 &&
                           (metadata->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                            metadata->topics[0].partition_cnt == 0);
      if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
      rd_kafka_topic_destroy(topic);
      if (!missing) continue;
      if (options_.available_now) {
        return Status::NotFound("topic " + name + " does not exist on " + options_.brokers);
      }
      Log("warning: topic " + name + " does not exist (yet)");
    }
    return Status::OK();
  }

  Status Run() {
    PartitionList topics(
        rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size())));
    for (const std::string& topic : options_.topics) {
      rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_, topics.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable(std::string("subscribing: ") + rd_kafka_err2str(err));
    }
    Status result;
    auto last_lag_report = SteadyClock::now();
    uint32_t polled = 0;
    while (true) {
      while (!stop_.load() && result.ok()) {
        auto timeout = std::chrono::milliseconds(100);
        rd_kafka_message_t* msg =
            rd_kafka_consumer_poll(consumer_, static_cast<int>(timeout.count()));
        if (!fatal_.ok()) {
          result = fatal_;
          break;
        }
        const bool data = msg != nullptr && msg->err == RD_KAFKA_RESP_ERR_NO_ERROR;
        if (msg != nullptr) {
          result = Handle(msg);
          rd_kafka_message_destroy(msg);
          if (!result.ok()) break;
        }
        if (result.ok() && SizeDue()) result = StartFlush();
        // The clock is read between messages only every so often: a busy stream is polled a
        // few million times a second, and the checks below are about seconds.
        if (data && (++polled % 256) != 0) continue;
        const auto now = SteadyClock::now();
        if (!pending_.empty() && now - last_assign_attempt_ > std::chrono::seconds(1)) {
          std::vector<TopicPartition> pending(pending_.begin(), pending_.end());
          AssignOrPend(pending);
        }
        // One commit runs beside the consumer (CommitBatch on a thread of its own) while the
        // next batch fills; its outcome is taken here as soon as it is in.
        if (result.ok() && in_flight_outcome_.valid() &&
            in_flight_outcome_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
          result = FinishInFlight(/*retry=*/true);
        }
        if (result.ok() && LatencyDue(now)) result = StartFlush();
        if (now - last_lag_report > std::chrono::seconds(5)) {
          ReportLag();  // also while idle: lag tools and /metrics see a stuck daemon
          last_lag_report = now;
        }
        if (options_.available_now && Drained()) break;
      }
      if (!result.ok()) break;
      abandoned_ = false;
      result = FlushAll(/*retry=*/true);
      // A last commit that failed and was dropped, to be read again from the table: back to
      // consuming (with --available-now, until drained again) unless a stop is asked.
      if (!result.ok() || stop_.load() || !abandoned_) break;
    }
    // Leaves the group: the revoke callback runs here, with nothing left to commit.
    rd_kafka_consumer_close(consumer_);
    if (result.ok() && !fatal_.ok()) result = fatal_;
    return result;
  }

  void RequestStop() { stop_.store(true); }

  IngestStats stats() const {
    std::lock_guard<std::mutex> lock(stats_mu_);
    return stats_;
  }
  int metrics_port() const { return metrics_ ? metrics_->port() : 0; }

 private:
  static void RebalanceTrampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    static_cast<Impl*>(opaque)->Rebalance(err, partitions);
  }

  bool Cooperative() const {
    const char* protocol = rd_kafka_rebalance_protocol(consumer_);
    return protocol != nullptr && std::string_view(protocol) == "COOPERATIVE";
  }

  // Eager: `partitions` is the whole assignment, given (assign) or taken (revoke) at once.
  // Cooperative: only the partitions that change owner are given or taken; the others are
  // consumed on.
  void Rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
    const bool cooperative = Cooperative();
    std::vector<TopicPartition> changed;
    for (int i = 0; i < partitions->cnt; ++i) {
      changed.emplace_back(partitions->elems[i].topic, partitions->elems[i].partition);
    }
    in_rebalance_ = true;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      AssignOrPend(changed);
      in_rebalance_ = false;
      return;
    }
    // Revoked (or lost): commit the in-flight batch while the partitions are still ours; when
    // that fails the batch is dropped, and the next owner reads it again from the table. The
    // revoked partitions leave first, so that a dropped batch is read again only for the
    // partitions that stay (all of them go under eager).
    const bool lost = rd_kafka_assignment_lost(consumer_) != 0;
    Log(std::string(lost ? "lost" : "revoked") + Describe(changed) +
        (cooperative ? " (cooperative)" : ""));
    for (const TopicPartition& tp :
         cooperative ? changed : std::vector<TopicPartition>(assigned_.begin(), assigned_.end())) {
      assigned_.erase(tp);
      at_end_.erase(tp);
      pending_.erase(tp);
    }
    if (!cooperative) pending_.clear();
    Status st = FlushAll(/*retry=*/false);
    if (!st.ok()) {
      Log("revocation: in-flight batch abandoned (" + st.ToString() + ")");
      AbandonBatches();
      ReseekFromTable();
    }
    if (cooperative) {
      Status unassigned = RdKafkaError(rd_kafka_incremental_unassign(consumer_, partitions));
      if (!unassigned.ok()) Log("revocation: incremental unassign: " + unassigned.ToString());
    } else {
      rd_kafka_assign(consumer_, nullptr);
    }
    in_rebalance_ = false;
  }

  static std::string Describe(const std::vector<TopicPartition>& partitions) {
    if (partitions.empty()) return " nothing";
    std::string described;
    for (const auto& [topic, partition] : partitions) {
      described += " " + topic + "[" + std::to_string(partition) + "]";
    }
    return described;
  }

  // Takes a librdkafka error object: OK, or Unavailable with its text.
  static Status RdKafkaError(rd_kafka_error_t* error) {
    if (error == nullptr) return Status::OK();
    Status st = Status::Unavailable(rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    return st;
  }

  // `partitions` as a librdkafka list (offsets unset).
  static PartitionList ToList(const std::vector<TopicPartition>& partitions) {
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    for (const auto& [topic, partition] : partitions) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
    }
    return list;
  }

  // The partitions of `partitions` that librdkafka consumes now.
  std::vector<TopicPartition> Consuming(const std::vector<TopicPartition>& partitions) {
    rd_kafka_topic_partition_list_t* assignment = nullptr;
    std::vector<TopicPartition> out;
    if (rd_kafka_assignment(consumer_, &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
    PartitionList owned(assignment);
    for (const TopicPartition& tp : partitions) {
      if (rd_kafka_topic_partition_list_find(owned.get(), tp.first.c_str(), tp.second) != nullptr) {
        out.push_back(tp);
      }
    }
    return out;
  }

  // Starts consuming `list` at its offsets. Eager: the list is the whole assignment. Cooperative:
  // it is added to the assignment; a partition consumed already is taken out first, which
  // drops what was fetched for it (a re-seek).
  Status StartConsuming(const rd_kafka_topic_partition_list_t* list,
                        const std::vector<TopicPartition>& partitions) {
    if (!Cooperative()) {
      rd_kafka_resp_err_t err = rd_kafka_assign(consumer_, list);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();
      return Status::Unavailable(std::string("assign: ") + rd_kafka_err2str(err));
    }
    LAKELOG_RETURN_IF_ERROR(StopConsuming(Consuming(partitions)));
    return RdKafkaError(rd_kafka_incremental_assign(consumer_, list))
        .WithContext("incremental assign");
  }

  // Stops consuming `partitions` (eager: everything).
  Status StopConsuming(const std::vector<TopicPartition>& partitions) {
    if (!Cooperative()) {
      rd_kafka_assign(consumer_, nullptr);
      return Status::OK();
    }
    if (partitions.empty()) return Status::OK();
    PartitionList list = ToList(partitions);
    return RdKafkaError(rd_kafka_incremental_unassign(consumer_, list.get()))
        .WithContext("incremental unassign");
  }

  // Assigns `partitions`, each from the table's txn version + 1.
  Status AssignFromTable(const std::vector<TopicPartition>& partitions) {
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    std::string described;
    for (const auto& [topic, partition] : partitions) {
      auto stored = table_->TxnVersion(TxnAppId(options_.group, topic, partition));
      if (!stored.ok()) return stored.status().WithContext("reading txn versions");
      int64_t offset = stored->has_value() ? **stored + 1 : RD_KAFKA_OFFSET_BEGINNING;
      int64_t low = 0, high = 0;
      rd_kafka_resp_err_t err =
          rd_kafka_query_watermark_offsets(consumer_, topic.c_str(), partition, &low, &high, 10000);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR && offset >= 0 && offset < low) {
        // Retention deleted messages the table never got: say so loudly, count, go on.
        Log("DATA LOSS: " + topic + "[" + std::to_string(partition) + "] offsets " +
            std::to_string(offset) + ".." + std::to_string(low - 1) +
            " were deleted by retention before they were ingested");
        Count([&](IngestStats& s) { s.offsets_lost += low - offset; });
        if (metrics_) metrics_->OffsetsLost(topic, partition, low - offset);
        offset = low;
      }
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
      described += " " + topic + "[" + std::to_string(partition) + "]@" +
                   (offset < 0 ? std::string("beginning") : std::to_string(offset));
    }
    LAKELOG_RETURN_IF_ERROR(StartConsuming(list.get(), partitions));
    const bool cooperative = Cooperative();
    if (!cooperative) assigned_.clear();
    for (const TopicPartition& tp : partitions) {
      assigned_.insert(tp);
      at_end_.erase(tp);
      pending_.erase(tp);
    }
    if (!cooperative) pending_.clear();
    ever_assigned_ = true;  // an empty assignment counts: there is nothing to drain
    Log("assigned" + (described.empty() ? std::string(" nothing") : described) +
        (cooperative ? " (cooperative)" : ""));
    return Status::OK();
  }

  Status Handle(rd_kafka_message_t* msg) {
    const std::string topic = msg->rkt ? rd_kafka_topic_name(msg->rkt) : "";
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end_.insert({topic, msg->partition});
      return Status::OK();
    }
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (msg->err == RD_KAFKA_RESP_ERR__FATAL) {
        char errstr[512];
        rd_kafka_fatal_error(consumer_, errstr, sizeof(errstr));
        return Status::Unavailable(std::string("fatal consumer error: ") + errstr);
      }
      // Transport errors, a restarting broker: librdkafka reconnects by itself.
      Log(std::string("consumer: ") + rd_kafka_message_errstr(msg));
      return Status::OK();
    }
    const TopicPartition tp{topic, msg->partition};
    if (assigned_.count(tp) == 0) return Status::OK();  // from before a re-seek
    at_end_.erase(tp);
    if (batch_->empty()) batch_started_ = SteadyClock::now();
    PartitionRange& range = batch_->ranges[tp];
    if (range.first >= 0 && msg->offset <= range.last) return Status::OK();  // already held
    if (range.first < 0) range.first = msg->offset;
    range.last = msg->offset;
    Count([](IngestStats& s) { s.messages += 1; });
    if (metrics_) metrics_->MessageIn(topic, msg->partition);

    std::string_view value(static_cast<const char*>(msg->payload), msg->payload ? msg->len : 0);
    batch_->bytes += static_cast<int64_t>(value.size());
    Status parsed = msg->payload == nullptr
                        ? Status::InvalidArgument("message has no value (tombstone)")
                        : ingest::ParseEventLine(value, parser_options_, shredder_.Next());
    if (parsed.ok()) {
      shredder_.Push();
      batch_->size += 1;
      if (shredder_.full()) shredder_.Submit(batch_.get());
    } else {
      nlohmann::json line = {{"topic", topic},
                             {"partition", msg->partition},
                             {"offset", msg->offset},
                             {"reason", parsed.message()},
                             {"bytes", value.size()}};
      batch_->dead_letter_lines.push_back(
          line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    }
    return Status::OK();
  }

  bool SizeDue() const {
    return static_cast<int64_t>(batch_->size) >= options_.max_events ||
           batch_->bytes >= options_.max_bytes;
  }
  bool LatencyDue(SteadyClock::time_point now) const {
    return !batch_->empty() && now - batch_started_ >= options_.max_latency;
  }

  bool Drained() const {
    if (!ever_assigned_ || !pending_.empty()) return false;
    for (const TopicPartition& tp : assigned_) {
      if (at_end_.count(tp) == 0) return false;
    }
    return true;
  }

  // Hands the batch to a commit of its own and starts the next one; the commit before it is
  // finished first (one commit in flight, so the table sees the batches in offset order).
  Status StartFlush() {
    LAKELOG_RETURN_IF_ERROR(FinishInFlight(/*retry=*/true));
    if (batch_->empty()) return Status::OK();  // abandoned with the one before it
    Batch* batch = HandOver();
    in_flight_outcome_ =
        std::async(std::launch::async, [this, batch] { return CommitBatch(batch); });
    return Status::OK();
  }

  // Commits everything held: the commit in flight, then the batch being filled.
  Status FlushAll(bool retry) {
    LAKELOG_RETURN_IF_ERROR(FinishInFlight(retry));
    if (batch_->empty()) return Status::OK();
    return Settle(CommitBatch(HandOver()), retry);
  }

  // Makes the batch being filled the one in flight (none is) and starts an empty one, with the
  // buffers of a committed batch's stream when there is one: refilling memory already mapped
  // spares the kernel zeroing fresh pages for every batch.
  Batch* HandOver() {
    shredder_.Submit(batch_.get());
    in_flight_ = std::move(batch_);
    batch_ = spare_ ? std::move(spare_) : NewBatch();
    return in_flight_.get();
  }

  // Waits for the commit in flight and settles it (see Settle).
  Status FinishInFlight(bool retry) {
    if (!in_flight_) return Status::OK();
    if (!in_flight_outcome_.valid()) return Status::Internal("a batch in flight without a commit");
    return Settle(in_flight_outcome_.get(), retry);
  }

  // Settles the in-flight batch's commit: committed, it is counted and its offsets go to Kafka.
  // Otherwise its events are gone with its stream, so it and the batch filled since (whose
  // offsets follow it) are dropped, and every partition is read again from the table, which
  // holds the batch or not: when the table holds it already (abandoned), at once; after a
  // retryable failure (when `retry`, and no stop is asked), after a backoff that doubles with
  // each failure in a row, up to 10 s. Any other failure is returned.
  Status Settle(CommitOutcome outcome, bool retry) {
    for (const std::string& line : outcome.unwritten_dead_letters) {
      Log("dead letter: " + line.substr(0, line.size() - 1));
    }
    if (outcome.dead_letters > 0) {
      Count([&](IngestStats& s) { s.dead_letters += outcome.dead_letters; });
      if (metrics_) metrics_->DeadLetters(outcome.dead_letters);
    }
    if (!outcome.status.ok() && !outcome.abandoned) {
      if (!retry || !outcome.status.retryable() || stop_.load()) {
        AbandonBatches();
        return outcome.status.WithContext("committing to " + options_.table);
      }
      Log("commit failed, reading the batch again from Kafka in " +
          std::to_string(commit_backoff_.count()) + " ms: " + outcome.status.ToString());
      std::this_thread::sleep_for(commit_backoff_);
      commit_backoff_ = std::min(commit_backoff_ * 2, std::chrono::milliseconds(10000));
      outcome.abandoned = true;
    }
    if (outcome.abandoned) {
      Log("batch abandoned: " + outcome.status.ToString());
      AbandonBatches();
      ReseekFromTable();
      return fatal_;
    }
    commit_backoff_ = kFirstCommitBackoff;
    Count([&](IngestStats& s) {
      s.commits += 1;
      s.rows_committed += outcome.result.rows_written;
    });
    if (metrics_) metrics_->Committed(outcome.result.rows_written, outcome.seconds);
    CommitOffsetsToKafka(in_flight_->ranges);
    in_flight_->Clear();
    spare_ = std::move(in_flight_);
    return Status::OK();
  }

  // Commits a batch: dead letters (synced) first, then ONE Delta commit with a txn per
  // partition. Runs beside the consumer, so it touches nothing but the batch, the table and
  // the dead-letter file (one commit at a time uses them).
  CommitOutcome CommitBatch(Batch* batch) {
    CommitOutcome outcome;
    const auto started = SteadyClock::now();
    outcome.status = shredder_.Drain(batch);
    if (!outcome.status.ok()) return outcome;
    if (!batch->dead_letter_lines.empty() && dead_letters_) {
      std::string text;
      for (const std::string& line : batch->dead_letter_lines) text += line;
      outcome.status = dead_letters_->Append(text);
      if (outcome.status.ok()) outcome.status = dead_letters_->Sync();
      if (!outcome.status.ok()) return outcome;
    }
    // Written (or, without a file, handed to Settle to log): a retry does not write them again.
    outcome.dead_letters = static_cast<int64_t>(batch->dead_letter_lines.size());
    if (!dead_letters_) outcome.unwritten_dead_letters = std::move(batch->dead_letter_lines);
    batch->dead_letter_lines.clear();

    DeltaAppendOptions append;
    append.operation = "STREAMING UPDATE";
    for (const auto& [tp, range] : batch->ranges) {
      append.txns.push_back(
          DeltaTxn{TxnAppId(options_.group, tp.first, tp.second), range.last, range.first});
    }
    auto result = batch->stream->Commit(append);
    if (!result.ok()) {
      outcome.status = result.status();
      outcome.abandoned = result.status().IsConflict();
      return outcome;
    }
    if (result->skipped) {
      outcome.status = Status::AlreadyExists("the table holds it already");
      outcome.abandoned = true;
      return outcome;
    }
    outcome.result = std::move(result).value();
    outcome.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
    return outcome;
  }

  // For lag tools only; the table stays the truth, so a failure here is only logged.
  void CommitOffsetsToKafka(const std::map<TopicPartition, PartitionRange>& ranges) {
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(ranges.size())));
    for (const auto& [tp, range] : ranges) {
      rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset =
          range.last + 1;
    }
    rd_kafka_resp_err_t err = rd_kafka_commit(consumer_, list.get(), /*async=*/1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Log(std::string("committing offsets to Kafka (monitoring only): ") + rd_kafka_err2str(err));
    }
  }

  // After an abandoned batch every assigned partition must be read again from the table;
  // until that works nothing is consumed (reading on would skip the abandoned messages).
  // Within a revocation the partitions wait for the main loop instead (a cooperative
  // revocation may change nothing but the revoked partitions); Handle drops their messages.
  void ReseekFromTable() {
    std::vector<TopicPartition> partitions(assigned_.begin(), assigned_.end());
    if (partitions.empty()) return;  // revoked, all of them
    if (in_rebalance_ && Cooperative()) {
      Pend(partitions);
      last_assign_attempt_ = SteadyClock::time_point();  // at once
      return;
    }
    AssignOrPend(partitions);
  }

  // Assigns from the table, or, when the table cannot be read now, leaves `partitions`
  // pending for the main loop to try again. Cooperative, within the callback that gave them:
  // they are assigned as given (librdkafka's protocol asks for that) and their messages
  // dropped until they are assigned from the table.
  void AssignOrPend(const std::vector<TopicPartition>& partitions) {
    Status st = AssignFromTable(partitions);
    if (st.ok()) return;
    Log("assignment from the table failed: " + st.ToString());
    if (!st.retryable()) fatal_ = st;
    if (Cooperative()) {
      if (in_rebalance_) {
        PartitionList list = ToList(partitions);
        Status given = RdKafkaError(rd_kafka_incremental_assign(consumer_, list.get()));
        if (!given.ok()) Log("incremental assign: " + given.ToString());
      }
    } else {
      rd_kafka_assign(consumer_, nullptr);
      assigned_.clear();
      at_end_.clear();
      pending_.clear();
    }
    Pend(partitions);
    last_assign_attempt_ = SteadyClock::now();
  }

  // `partitions` are ours but not consumed until they are assigned from the table.
  void Pend(const std::vector<TopicPartition>& partitions) {
    for (const TopicPartition& tp : partitions) {
      assigned_.erase(tp);
      at_end_.erase(tp);
      pending_.insert(tp);
    }
  }

  // Drops the batch in flight (its commit settled) and the one being filled, keeping their
  // streams' buffers.
  void AbandonBatches() {
    const int64_t n = (in_flight_ ? 1 : 0) + (batch_->empty() ? 0 : 1);
    Count([n](IngestStats& s) { s.abandoned_batches += n; });
    abandoned_ = true;
    shredder_.ClearCurrent();
    shredder_.WaitAll();
    batch_->Clear();
    if (in_flight_) {
      in_flight_->Clear();
      spare_ = std::move(in_flight_);
    }
  }

  void ReportLag() {
    if (!metrics_) return;
    for (const auto& [topic, partition] : assigned_) {
      int64_t low = 0, high = 0;
      if (rd_kafka_get_watermark_offsets(consumer_, topic.c_str(), partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        continue;
      }
      PartitionList list(rd_kafka_topic_partition_list_new(1));
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
      if (rd_kafka_position(consumer_, list.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      const int64_t position = list->elems[0].offset;
      if (position >= 0 && high >= position) metrics_->Lag(topic, partition, high - position);
    }
  }

  template <typename F>
  void Count(F f) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    f(stats_);
  }

  void Log(const std::string& line) {
    if (options_.log) {
      options_.log(line);
    } else {
      std::fprintf(stderr, "lakelog kafka-ingest: %s\n", line.c_str());
    }
  }

  FileSystem* const fs_;
  const IngestDaemonOptions options_;
  std::unique_ptr<DeltaTable> table_;
  rd_kafka_t* consumer_ = nullptr;
  std::unique_ptr<WritableFile> dead_letters_;
  std::unique_ptr<IngestMetrics> metrics_;
  ingest::EventParserOptions parser_options_;
  std::atomic<bool> stop_{false};
  Status fatal_;  // set by the rebalance callback

  static constexpr std::chrono::milliseconds kFirstCommitBackoff{100};

  std::unique_ptr<Batch> NewBatch() const {
    return std::make_unique<Batch>(table_->NewAppendStream(shredder_.threads()));
  }

  std::unique_ptr<Batch> batch_;  // being filled by the consumer; set in set_table
  // Whether batches were abandoned (and are to be read again) since the flag was cleared.
  bool abandoned_ = false;
  std::chrono::milliseconds commit_backoff_ = kFirstCommitBackoff;
  SteadyClock::time_point batch_started_;
  // Invariant: in_flight_ is set from StartFlush/FlushAll until its commit is settled; its
  // offsets all precede batch_'s. in_flight_outcome_ is valid while a commit runs beside.
  std::unique_ptr<Batch> in_flight_;
  std::unique_ptr<Batch> spare_;  // a committed batch's memory, emptied
  // After the batches (destroyed before them: it shreds what is queued into their streams) and
  // before the commit in flight (destroyed after it: the commit waits on it).
  ingest::ChunkShredder shredder_{ingest::ChunkShredder::kThreads};
  std::future<CommitOutcome> in_flight_outcome_;

  std::set<TopicPartition> assigned_;
  std::set<TopicPartition> at_end_;
  bool ever_assigned_ = false;
  std::set<TopicPartition> pending_;  // ours, waiting to be assigned from the table
  bool in_rebalance_ = false;         // within the rebalance callback
  SteadyClock::time_point last_assign_attempt_;

  mutable std::mutex stats_mu_;
  IngestStats stats_;
};

Result<std::unique_ptr<IngestDaemon>> IngestDaemon::Open(FileSystem* fs,
                                                         const IngestDaemonOptions& options) {
  if (options.brokers.empty()) return Status::InvalidArgument("--brokers is required");
  if (options.topics.empty()) return Status::InvalidArgument("at least one --topic is required");
  if (options.group.empty()) return Status::InvalidArgument("--group is required");
  if (options.table.empty()) return Status::InvalidArgument("--table is required");
  if (options.max_events < 1 || options.max_bytes < 1 ||
      options.max_latency < std::chrono::milliseconds(1)) {
    return Status::InvalidArgument("flush triggers must be positive");
  }
  // Bad consumer properties are refused before the table is created.
  {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    Status st;
    for (const auto& [key, value] : options.properties) {
      if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
          RD_KAFKA_CONF_OK) {
        st = Status::InvalidArgument("--kafka-property " + key + "=" + value + ": " + errstr);
        break;
      }
    }
    rd_kafka_conf_destroy(conf);
    LAKELOG_RETURN_IF_ERROR(st);
  }
  // The consumer, dead-letter file and metrics port first: a mistake there creates no table.
  auto impl = std::make_unique<Impl>(fs, options);
  LAKELOG_RETURN_IF_ERROR(impl->Start());
  auto table = DeltaTable::Open(fs, options.table, options.table_options);
  if (!table.ok()) return table.status().WithContext("opening table " + options.table);
  impl->set_table(std::move(table).value());
  return std::unique_ptr<IngestDaemon>(new IngestDaemon(std::move(impl)));
}

IngestDaemon::IngestDaemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IngestDaemon::~IngestDaemon() = default;
Status IngestDaemon::Run() { return impl_->Run(); }
void IngestDaemon::RequestStop() { impl_->RequestStop(); }
IngestStats IngestDaemon::stats() const { return impl_->stats(); }
int IngestDaemon::metrics_port() const { return impl_->metrics_port(); }

}  // namespace lakelog::kafka
