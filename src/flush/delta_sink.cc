// DeltaSink: one flush round = one DeltaTable::Append = one Delta commit, made idempotent with
// txn {appId = writer id, version = base + round}.
#include <memory>

#include "lakelog/delta_table.h"
#include "lakelog/sink.h"

namespace lakelog {
namespace {

class DeltaSink final : public Sink {
 public:
  explicit DeltaSink(std::unique_ptr<DeltaTable> table) : table_(std::move(table)) {}

  std::string_view name() const override { return "delta"; }

  Status Write(std::span<const LogEvent* const> events, const SinkWriteContext& ctx) override {
    if (!base_) {
      // The first write learns where this writer id left off, so a restarted writer that
      // reuses its id keeps committing above its last version instead of being skipped.
      auto stored = table_->TxnVersion(std::string(ctx.writer_id));
      if (!stored.ok()) return stored.status().WithContext("delta sink: reading txn version");
      base_ = stored->value_or(0);
    }
    DeltaAppendOptions options;
    options.txn = DeltaTxn{std::string(ctx.writer_id), *base_ + ctx.round};
    auto result = table_->Append(events, options);
    if (!result.ok()) return result.status().WithContext("delta sink: append");
    return Status::OK();
  }

  // Every successful Append is already a durable commit.
  Status Flush(std::chrono::milliseconds) override { return Status::OK(); }

 private:
  std::unique_ptr<DeltaTable> table_;
  std::optional<int64_t> base_;
};

}  // namespace

Result<std::unique_ptr<Sink>> NewDeltaSink(FileSystem* fs, const std::string& table_root,
                                           const DeltaTableOptions& options) {
  if (fs == nullptr) return Status::InvalidArgument("NewDeltaSink: file system is null");
  LAKELOG_ASSIGN_OR_RETURN(auto table, DeltaTable::Open(fs, table_root, options));
  return std::unique_ptr<Sink>(new DeltaSink(std::move(table)));
}

}  // namespace lakelog
