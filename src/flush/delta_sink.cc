// DeltaSink: one flush round = one DeltaTable::Append = one Delta commit, made idempotent with
// txn {appId = writer id, version = round key}. The table is opened lazily when it cannot be
// opened at construction for a reason that retrying may fix.
#include <memory>
#include <optional>

#include "lakelog/delta_table.h"
#include "lakelog/sink.h"

namespace lakelog {
namespace {

class DeltaSink final : public Sink {
 public:
  DeltaSink(FileSystem* fs, std::string root, DeltaTableOptions options,
            std::unique_ptr<DeltaTable> table)
      : fs_(fs), root_(std::move(root)), options_(std::move(options)), table_(std::move(table)) {}

  std::string_view name() const override { return "delta"; }

  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    LAKELOG_RETURN_IF_ERROR(EnsureOpen());
    DeltaAppendOptions options;
    options.txn = DeltaTxn{std::string(ctx.writer_id), ctx.round};
    auto result = table_->Append(events, options);
    if (!result.ok()) return result.status().WithContext("delta sink: append to " + root_);
    if (!result->checkpoint_status.ok() && ctx.warn) {
      ctx.warn(result->checkpoint_status.WithContext(
          "delta sink: checkpoint of version " + std::to_string(result->version) + " of " +
          root_ + " not written (the commit stands)"));
    }
    return Status::OK();
  }

  // Every successful Append is already a durable commit.
  Status Flush(std::chrono::milliseconds) override { return Status::OK(); }

  Result<int64_t> CommittedRound(std::string_view writer_id) override {
    LAKELOG_RETURN_IF_ERROR(EnsureOpen());
    auto stored = table_->TxnVersion(std::string(writer_id));
    if (!stored.ok()) return stored.status().WithContext("delta sink: reading txn version");
    return stored->value_or(0);
  }

 private:
  Status EnsureOpen() {
    if (table_) return Status::OK();
    auto table = DeltaTable::Open(fs_, root_, options_);
    if (!table.ok()) return table.status().WithContext("delta sink: opening table " + root_);
    table_ = std::move(table).value();
    return Status::OK();
  }

  FileSystem* const fs_;
  const std::string root_;
  const DeltaTableOptions options_;
  std::unique_ptr<DeltaTable> table_;  // null until opened
};

}  // namespace

Result<std::unique_ptr<Sink>> NewDeltaSink(FileSystem* fs, const std::string& table_root,
                                           const DeltaTableOptions& options) {
  if (fs == nullptr) return Status::InvalidArgument("NewDeltaSink: file system is null");
  auto table = DeltaTable::Open(fs, table_root, options);
  if (!table.ok() && !table.status().retryable()) {
    return table.status().WithContext("delta sink: opening table " + table_root);
  }
  std::unique_ptr<DeltaTable> opened;
  if (table.ok()) opened = std::move(table).value();
  return std::unique_ptr<Sink>(new DeltaSink(fs, table_root, options, std::move(opened)));
}

}  // namespace lakelog
