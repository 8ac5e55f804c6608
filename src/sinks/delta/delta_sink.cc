// DeltaSink: one flush round = one DeltaTable::Append = one Delta commit, made idempotent with
// txn {appId = writer id, version = round key}. The table is opened lazily when it cannot be
// opened at construction for a reason that retrying may fix.
#include "lakelog/delta_sink.h"

#include <atomic>
#include <memory>
#include <optional>

#include "delta/partition_path.h"
#include "lakelog/clock.h"
#include "maintenance/background_maintainer.h"

namespace lakelog {
namespace {

// The time of a sink's table and of its background upkeep: DeltaTableOptions::clock when the
// caller gave one; otherwise the engine's, from Attach(), and the real clock until then.
// NewDeltaSink may open the table before an engine attaches the sink, so the table holds this
// clock and Attach() redirects it. Thread-safe.
class SinkClock final : public Clock {
 public:
  explicit SinkClock(Clock* own) : own_(own != nullptr), target_(own ? own : RealClock()) {}

  // Follows the engine's clock, unless the table has a clock of its own.
  void Attach(Clock* engine_clock) {
    if (!own_ && engine_clock != nullptr) target_.store(engine_clock, std::memory_order_release);
  }

  int64_t NowMicros() const override {
    return target_.load(std::memory_order_acquire)->NowMicros();
  }
  void SleepForMicros(int64_t micros) override {
    target_.load(std::memory_order_acquire)->SleepForMicros(micros);
  }

 private:
  const bool own_;
  std::atomic<Clock*> target_;
};

class DeltaSink final : public Sink {
 public:
  DeltaSink(FileSystem* fs, std::string root, DeltaTableOptions options,
            std::unique_ptr<SinkClock> clock, std::unique_ptr<DeltaTable> table)
      : fs_(fs),
        root_(std::move(root)),
        options_(std::move(options)),
        clock_(std::move(clock)),
        table_(std::move(table)) {
    maintenance::MaintainerOptions upkeep;
    upkeep.parquet = options_.parquet;
    upkeep.compaction = options_.auto_compaction;
    upkeep.checkpoints = background_checkpoints_;
    upkeep.clock = clock_.get();
    maintainer_ = std::make_unique<maintenance::BackgroundMaintainer>(fs_, root_, upkeep);
  }

  // The table options the sink opens its table with: its time is `clock`, and the checkpoint a
  // commit is due is written by the maintainer in the background, never inside the flush round.
  static DeltaTableOptions TableOptions(DeltaTableOptions options, SinkClock* clock) {
    options.clock = clock;
    options.write_checkpoints = false;
    return options;
  }

  void Attach(const SinkAttachContext& ctx) override { clock_->Attach(ctx.clock); }

  std::string_view name() const override { return "delta"; }

  // A name that cannot be a partition directory would fail every round it joins.
  Status CheckPipeline(std::string_view pipeline) const override {
    return delta::CheckPipelineName(pipeline);
  }

  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    LAKELOG_RETURN_IF_ERROR(EnsureOpen());
    DeltaAppendOptions options;
    options.txn = DeltaTxn{std::string(ctx.writer_id), ctx.round};
    auto result = table_->Append(events, options);
    // Problems of the background upkeep (a checkpoint or a compaction that failed) are told
    // with the next round; they never fail one.
    for (Status& problem : maintainer_->TakeErrors()) {
      if (ctx.warn) ctx.warn(problem.WithContext("delta sink"));
    }
    if (!result.ok()) return result.status().WithContext("delta sink: append to " + root_);
    if (!result->skipped) maintainer_->Committed(result->version, result->partitions);
    return Status::OK();
  }

  // Every successful Append is already a durable commit. Flush also lets the background upkeep
  // of the rounds so far (checkpoint, auto-compaction) finish within `timeout`, so a table is
  // settled after Engine::Flush/Stop; past the timeout it goes on (or stops with the sink),
  // which is no error: the commits stand.
  Status Flush(std::chrono::milliseconds timeout) override {
    (void)maintainer_->Drain(timeout);
    return Status::OK();
  }

  Result<int64_t> CommittedRound(std::string_view writer_id) override {
    LAKELOG_RETURN_IF_ERROR(EnsureOpen());
    auto stored = table_->TxnVersion(std::string(writer_id));
    if (!stored.ok()) return stored.status().WithContext("delta sink: reading txn version");
    return stored->value_or(0);
  }

 private:
  Status EnsureOpen() {
    if (table_) return Status::OK();
    auto table = DeltaTable::Open(fs_, root_, TableOptions(options_, clock_.get()));
    if (!table.ok()) return table.status().WithContext("delta sink: opening table " + root_);
    table_ = std::move(table).value();
    return Status::OK();
  }

  FileSystem* const fs_;
  const std::string root_;
  const DeltaTableOptions options_;
  // Declared before the table and the maintainer, which read it until they are gone.
  const std::unique_ptr<SinkClock> clock_;
  std::unique_ptr<DeltaTable> table_;  // null until opened
  const bool background_checkpoints_ = options_.write_checkpoints;
  std::unique_ptr<maintenance::BackgroundMaintainer> maintainer_;
};

}  // namespace

Result<std::unique_ptr<Sink>> NewDeltaSink(FileSystem* fs, const std::string& table_root,
                                           const DeltaTableOptions& options) {
  if (fs == nullptr) return Status::InvalidArgument("NewDeltaSink: file system is null");
  auto clock = std::make_unique<SinkClock>(options.clock);
  auto table = DeltaTable::Open(fs, table_root, DeltaSink::TableOptions(options, clock.get()));
  if (!table.ok() && !table.status().retryable()) {
    return table.status().WithContext("delta sink: opening table " + table_root);
  }
  std::unique_ptr<DeltaTable> opened;
  if (table.ok()) opened = std::move(table).value();
  return std::unique_ptr<Sink>(
      new DeltaSink(fs, table_root, options, std::move(clock), std::move(opened)));
}

}  // namespace lakelog
