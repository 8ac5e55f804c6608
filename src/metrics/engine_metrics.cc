#include "metrics/engine_metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace lakelog::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

ClientMetric Sample(const std::string& pipeline, double value, MetricType type) {
  ClientMetric m;
  m.label.push_back({"pipeline", pipeline});
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

// Builds the per-pipeline families from snapshots at each scrape.
class PipelineCollector final : public prometheus::Collectable {
 public:
  explicit PipelineCollector(EngineMetrics::SnapshotFn snapshot) : snapshot_(std::move(snapshot)) {}

  std::vector<MetricFamily> Collect() const override {
    std::vector<PipelineSnapshot> pipelines = snapshot_();
    auto family = [](const char* name, const char* help, MetricType type) {
      MetricFamily f;
      f.name = name;
      f.help = help;
      f.type = type;
      return f;
    };
    MetricFamily buffered =
        family("lakelog_buffered_events", "Events waiting in the buffer", MetricType::Gauge);
    MetricFamily buffered_bytes = family(
        "lakelog_buffered_bytes", "Bytes of events waiting in the buffer", MetricType::Gauge);
    MetricFamily cap_events =
        family("lakelog_buffer_capacity_events", "Buffer capacity in events", MetricType::Gauge);
    MetricFamily cap_bytes =
        family("lakelog_buffer_capacity_bytes", "Buffer capacity in bytes", MetricType::Gauge);
    MetricFamily fill =
        family("lakelog_buffer_fill_ratio", "Buffer fill, the higher of events and bytes (0..1)",
               MetricType::Gauge);
    MetricFamily accepted =
        family("lakelog_events_accepted_total", "Events accepted by log()", MetricType::Counter);
    MetricFamily flushed =
        family("lakelog_events_flushed_total", "Events written to the sink", MetricType::Counter);
    MetricFamily dropped =
        family("lakelog_events_dropped_total", "Events not written as their own row, by reason",
               MetricType::Counter);
    MetricFamily age = family("lakelog_oldest_unflushed_event_age_seconds",
                              "Age of the oldest event not yet flushed", MetricType::Gauge);
    MetricFamily last = family("lakelog_last_flush_timestamp_seconds",
                               "Unix time of the last successful flush", MetricType::Gauge);
    for (const PipelineSnapshot& p : pipelines) {
      const LoggerStats& s = p.stats;
      buffered.metric.push_back(Sample(p.pipeline, s.buffered_events, MetricType::Gauge));
      buffered_bytes.metric.push_back(Sample(p.pipeline, s.buffered_bytes, MetricType::Gauge));
      cap_events.metric.push_back(Sample(p.pipeline, p.capacity_events, MetricType::Gauge));
      cap_bytes.metric.push_back(Sample(p.pipeline, p.capacity_bytes, MetricType::Gauge));
      double fe = p.capacity_events ? double(s.buffered_events) / p.capacity_events : 0;
      double fb = p.capacity_bytes ? double(s.buffered_bytes) / p.capacity_bytes : 0;
      fill.metric.push_back(Sample(p.pipeline, std::max(fe, fb), MetricType::Gauge));
      accepted.metric.push_back(Sample(p.pipeline, s.accepted, MetricType::Counter));
      flushed.metric.push_back(Sample(p.pipeline, s.flushed, MetricType::Counter));
      for (int r = 0; r < kNumDropReasons; ++r) {
        ClientMetric m = Sample(p.pipeline, s.dropped[r], MetricType::Counter);
        m.label.push_back({"reason", std::string(DropReasonName(static_cast<DropReason>(r)))});
        dropped.metric.push_back(std::move(m));
      }
      age.metric.push_back(Sample(p.pipeline, p.oldest_unflushed_age_seconds, MetricType::Gauge));
      last.metric.push_back(Sample(p.pipeline, p.last_flush_timestamp_seconds, MetricType::Gauge));
    }
    return {buffered, buffered_bytes, cap_events, cap_bytes, fill,
            accepted, flushed,        dropped,    age,       last};
  }

 private:
  EngineMetrics::SnapshotFn snapshot_;
};

// The lakelog_wal_* families, from a snapshot of the WAL at each scrape.
class WalCollector final : public prometheus::Collectable {
 public:
  explicit WalCollector(EngineMetrics::WalSnapshotFn snapshot) : snapshot_(std::move(snapshot)) {}

  std::vector<MetricFamily> Collect() const override {
    const std::optional<WalSnapshot> wal = snapshot_();
    if (!wal) return {};
    auto one = [](const char* name, const char* help, MetricType type, double value) {
      MetricFamily f;
      f.name = name;
      f.help = help;
      f.type = type;
      ClientMetric m;
      if (type == MetricType::Counter) {
        m.counter.value = value;
      } else {
        m.gauge.value = value;
      }
      f.metric.push_back(std::move(m));
      return f;
    };
    const double uncommitted =
        wal->last_sequence > wal->committed_sequence
            ? static_cast<double>(wal->last_sequence - wal->committed_sequence)
            : 0.0;
    return {
        one("lakelog_wal_records_appended_total", "Records appended to the write-ahead log",
            MetricType::Counter, wal->appended_records),
        one("lakelog_wal_append_failures_total",
            "Records whose write-ahead log append failed (in doubt or not written)",
            MetricType::Counter, wal->append_failures),
        one("lakelog_wal_syncs_total", "fsyncs of the write-ahead log", MetricType::Counter,
            wal->syncs),
        one("lakelog_wal_sync_failures_total", "Failed fsyncs of the write-ahead log",
            MetricType::Counter, wal->sync_failures),
        one("lakelog_wal_segments", "Segment files in the write-ahead log directory",
            MetricType::Gauge, wal->segments),
        one("lakelog_wal_durable_sequence",
            "Every record up to this sequence is durable in the write-ahead log", MetricType::Gauge,
            wal->durable_sequence),
        one("lakelog_wal_committed_sequence",
            "Every record up to this sequence is committed to the sink", MetricType::Gauge,
            wal->committed_sequence),
        one("lakelog_wal_uncommitted_records",
            "Sequences handed out and not yet committed to the sink", MetricType::Gauge,
            uncommitted),
        one("lakelog_wal_replayed_events_total",
            "Events committed by the start-up replay of the write-ahead log", MetricType::Counter,
            static_cast<double>(wal->replayed_events)),
        one("lakelog_wal_corrupt_records_total",
            "Damaged write-ahead log records skipped by the replay", MetricType::Counter,
            wal->corrupt_records),
    };
  }

 private:
  EngineMetrics::WalSnapshotFn snapshot_;
};

}  // namespace

EngineMetrics::EngineMetrics(SnapshotFn snapshot, WalSnapshotFn wal)
    : registry_(std::make_shared<prometheus::Registry>()),
      pipelines_(std::make_shared<PipelineCollector>(std::move(snapshot))),
      wal_(wal ? std::make_shared<WalCollector>(std::move(wal)) : nullptr) {
  flushes_ = &prometheus::BuildCounter()
                  .Name("lakelog_flushes_total")
                  .Help("Sink writes of flush rounds, by sink and result")
                  .Register(*registry_);
  retries_ = &prometheus::BuildCounter()
                  .Name("lakelog_sink_retries_total")
                  .Help("Sink writes retried after a retryable error")
                  .Register(*registry_);
  conflicts_ = &prometheus::BuildCounter()
                    .Name("lakelog_commit_conflicts_total")
                    .Help("Sink writes that failed with a commit conflict")
                    .Register(*registry_);
  duration_ = &prometheus::BuildHistogram()
                   .Name("lakelog_flush_duration_seconds")
                   .Help("Duration of one sink write of a flush round")
                   .Register(*registry_);
  batch_events_ = &prometheus::BuildHistogram()
                       .Name("lakelog_flush_batch_events")
                       .Help("Events in one flush round written to a sink")
                       .Register(*registry_);
  batch_bytes_ = &prometheus::BuildHistogram()
                      .Name("lakelog_flush_batch_bytes")
                      .Help("Event bytes in one flush round written to a sink")
                      .Register(*registry_);
  sink_dropped_ = &prometheus::BuildCounter()
                       .Name("lakelog_sink_events_dropped_total")
                       .Help(
                           "Events of rounds a sink gave up (other sinks may hold them), by "
                           "sink and reason")
                       .Register(*registry_);
  backlog_bytes_ = &prometheus::BuildGauge()
                        .Name("lakelog_sink_backlog_bytes")
                        .Help("Event bytes of the rounds waiting in memory for a sink")
                        .Register(*registry_);
}

EngineMetrics::~EngineMetrics() = default;

SinkMetrics* EngineMetrics::ForSink(std::string_view sink) {
  std::lock_guard<std::mutex> lock(sinks_mu_);
  auto it = sinks_.find(sink);
  if (it != sinks_.end()) return it->second.get();
  auto m = std::make_unique<SinkMetrics>();
  const std::string name(sink);
  m->ok_ = &flushes_->Add({{"sink", name}, {"result", "ok"}});
  m->error_ = &flushes_->Add({{"sink", name}, {"result", "error"}});
  m->given_up_ = &flushes_->Add({{"sink", name}, {"result", "given_up"}});
  m->retries_ = &retries_->Add({{"sink", name}});
  m->conflicts_ = &conflicts_->Add({{"sink", name}});
  m->duration_ = &duration_->Add({{"sink", name}}, prometheus::Histogram::BucketBoundaries{
                                                       0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                       0.25, 0.5, 1, 2.5, 5, 10});
  m->batch_events_ = &batch_events_->Add(
      {{"sink", name}},
      prometheus::Histogram::BucketBoundaries{1, 10, 100, 1000, 10000, 100000, 1000000});
  m->batch_bytes_ = &batch_bytes_->Add(
      {{"sink", name}}, prometheus::Histogram::BucketBoundaries{1024, 16384, 131072, 1048576,
                                                                8388608, 67108864, 536870912});
  for (DropReason r : {DropReason::kSinkError, DropReason::kSinkBacklog}) {
    m->dropped_[static_cast<int>(r)] =
        &sink_dropped_->Add({{"sink", name}, {"reason", std::string(DropReasonName(r))}});
  }
  m->backlog_bytes_ = &backlog_bytes_->Add({{"sink", name}});
  SinkMetrics* out = m.get();
  sinks_.emplace(name, std::move(m));
  return out;
}

void SinkMetrics::RecordWrite(RoundResult result, double seconds, uint64_t events, uint64_t bytes) {
  switch (result) {
    case RoundResult::kOk:
      ok_->Increment();
      batch_events_->Observe(static_cast<double>(events));
      batch_bytes_->Observe(static_cast<double>(bytes));
      break;
    case RoundResult::kError: error_->Increment(); break;
    case RoundResult::kGivenUp: given_up_->Increment(); break;
  }
  duration_->Observe(seconds);
}

void SinkMetrics::RecordRetry() { retries_->Increment(); }
void SinkMetrics::RecordConflict() { conflicts_->Increment(); }
void SinkMetrics::RecordDropped(DropReason reason, uint64_t events) {
  prometheus::Counter* c = dropped_[static_cast<int>(reason)];
  if (c != nullptr) c->Increment(static_cast<double>(events));
}
void SinkMetrics::SetBacklogBytes(uint64_t bytes) {
  backlog_bytes_->Set(static_cast<double>(bytes));
}

std::vector<std::shared_ptr<prometheus::Collectable>> EngineMetrics::collectables() const {
  if (wal_) return {pipelines_, wal_, registry_};
  return {pipelines_, registry_};
}

std::string EngineMetrics::Text() const {
  std::vector<MetricFamily> families = pipelines_->Collect();
  if (wal_) {
    for (auto& f : wal_->Collect()) families.push_back(std::move(f));
  }
  for (auto& f : registry_->Collect()) families.push_back(std::move(f));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace lakelog::metrics
