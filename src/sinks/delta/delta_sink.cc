// DeltaSink: one flush round = one DeltaTable::Append = one Delta commit, made idempotent with
// txn {appId = writer id, version = round key}. The table is opened lazily when it cannot be
// opened at construction for a reason that retrying may fix.
#include "lakelog/delta_sink.h"

#include <memory>
#include <optional>

#include "delta/partition_path.h"
#include "lakelog/clock.h"
#include "maintenance/background_maintainer.h"

namespace lakelog {
namespace {

class DeltaSink final : public Sink {
 public:
  DeltaSink(FileSystem* fs, std::string root, DeltaTableOptions options,
            std::unique_ptr<DeltaTable> table)
      : fs_(fs), root_(std::move(root)), options_(std::move(options)), table_(std::move(table)) {
    maintenance::MaintainerOptions upkeep;
    upkeep.parquet = options_.parquet;
    upkeep.compaction = options_.auto_compaction;
    upkeep.checkpoints = background_checkpoints_;
    upkeep.now_ms = [] { return RealClock()->NowMicros() / 1000; };
    maintainer_ = std::make_unique<maintenance::BackgroundMaintainer>(fs_, root_, upkeep);
  }

  // The table options the sink opens its table with: the checkpoint a commit is due is written
  // by the maintainer in the background, never inside the flush round.
  static DeltaTableOptions TableOptions(DeltaTableOptions options) {
    options.write_checkpoints = false;
    return options;
  }

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
    auto table = DeltaTable::Open(fs_, root_, TableOptions(options_));
    if (!table.ok()) return table.status().WithContext("delta sink: opening table " + root_);
    table_ = std::move(table).value();
    return Status::OK();
  }

  FileSystem* const fs_;
  const std::string root_;
  const DeltaTableOptions options_;
  std::unique_ptr<DeltaTable> table_;  // null until opened
  const bool background_checkpoints_ = options_.write_checkpoints;
  std::unique_ptr<maintenance::BackgroundMaintainer> maintainer_;
};

}  // namespace

Result<std::unique_ptr<Sink>> NewDeltaSink(FileSystem* fs, const std::string& table_root,
                                           const DeltaTableOptions& options) {
  if (fs == nullptr) return Status::InvalidArgument("NewDeltaSink: file system is null");
  auto table = DeltaTable::Open(fs, table_root, DeltaSink::TableOptions(options));
  if (!table.ok() && !table.status().retryable()) {
    return table.status().WithContext("delta sink: opening table " + table_root);
  }
  std::unique_ptr<DeltaTable> opened;
  if (table.ok()) opened = std::move(table).value();
  return std::unique_ptr<Sink>(new DeltaSink(fs, table_root, options, std::move(opened)));
}

}  // namespace lakelog
