#include "kafka/ingest_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "http/metrics_server.h"

namespace lakelog::kafka {

struct IngestMetrics::State {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& messages =
      prometheus::BuildCounter()
          .Name("lakelog_kafka_ingest_messages_total")
          .Help("Kafka messages consumed, parsed or not")
          .Register(*registry);
  prometheus::Counter& rows = prometheus::BuildCounter()
                                  .Name("lakelog_kafka_ingest_rows_committed_total")
                                  .Help("Rows committed to the Delta table")
                                  .Register(*registry)
                                  .Add({});
  prometheus::Counter& commits = prometheus::BuildCounter()
                                     .Name("lakelog_kafka_ingest_commits_total")
                                     .Help("Delta commits made")
                                     .Register(*registry)
                                     .Add({});
  prometheus::Counter& dead_letters = prometheus::BuildCounter()
                                          .Name("lakelog_kafka_ingest_dead_letters_total")
                                          .Help("Messages that did not parse")
                                          .Register(*registry)
                                          .Add({});
  prometheus::Family<prometheus::Counter>& lost =
      prometheus::BuildCounter()
          .Name("lakelog_kafka_ingest_offsets_lost_total")
          .Help("Messages deleted by retention before they were ingested")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& lag = prometheus::BuildGauge()
                                                   .Name("lakelog_kafka_ingest_consumer_lag")
                                                   .Help("Messages behind the high watermark")
                                                   .Register(*registry);
  prometheus::Histogram& flush_seconds =
      prometheus::BuildHistogram()
          .Name("lakelog_kafka_ingest_flush_seconds")
          .Help("Time to write and commit one batch")
          .Register(*registry)
          .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.5, 1, 5, 30});
  std::unique_ptr<http::MetricsServer> server;
};

Result<std::unique_ptr<IngestMetrics>> IngestMetrics::Start(int port) {
  auto state = std::make_unique<State>();
  auto server = http::MetricsServer::Start("127.0.0.1", port, {state->registry});
  if (!server.ok()) return server.status();
  state->server = std::move(server).value();
  return std::unique_ptr<IngestMetrics>(new IngestMetrics(std::move(state)));
}

IngestMetrics::IngestMetrics(std::unique_ptr<State> state) : state_(std::move(state)) {}
IngestMetrics::~IngestMetrics() = default;
int IngestMetrics::port() const { return state_->server->port(); }

void IngestMetrics::MessageIn(const std::string& topic, int32_t partition) {
  state_->messages.Add({{"topic", topic}, {"partition", std::to_string(partition)}}).Increment();
}
void IngestMetrics::Committed(int64_t rows, double flush_seconds) {
  state_->rows.Increment(static_cast<double>(rows));
  state_->commits.Increment();
  state_->flush_seconds.Observe(flush_seconds);
}
void IngestMetrics::DeadLetters(int64_t count) {
  state_->dead_letters.Increment(static_cast<double>(count));
}
void IngestMetrics::OffsetsLost(const std::string& topic, int32_t partition, int64_t count) {
  state_->lost.Add({{"topic", topic}, {"partition", std::to_string(partition)}})
      .Increment(static_cast<double>(count));
}
void IngestMetrics::Lag(const std::string& topic, int32_t partition, int64_t messages) {
  state_->lag.Add({{"topic", topic}, {"partition", std::to_string(partition)}})
      .Set(static_cast<double>(messages));
}

}  // namespace lakelog::kafka
