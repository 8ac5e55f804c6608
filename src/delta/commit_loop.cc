// The writer's view of the log and the commit loop of DeltaTable::Append.
//
// Commit protocol (docs/delta-log.md): the writer keeps the table's version, protocol, metaData
// and txns current by reading the commits after the version it knows, then tries version V+1
// with put-if-absent. Losing the race means reading the winners: a protocol or metaData change
// is a Conflict, a txn of our appId at or above ours means our batch is already in the table
// (skip), anything else is another blind append and we retry at the next version: at once for
// the first losses in a row, then after a full-jitter backoff on the table's clock
// (CommitRetry, common/backoff.h).

#include <algorithm>
#include <string>
#include <utility>

#include "common/backoff.h"
#include "delta/delta_table_impl.h"

namespace lakelog::delta {

Status DeltaTableImpl::ApplyCommitLocked(int64_t version, std::vector<Action>& actions,
                                         ConflictCheck* check) {
  mu_.AssertHeld();
  bool metadata_changed = false;
  for (Action& action : actions) {
    if (auto* p = std::get_if<DeltaProtocol>(&action)) {
      state_.protocol = std::move(*p);
      metadata_changed = true;
    } else if (auto* m = std::get_if<DeltaMetadata>(&action)) {
      state_.metadata = std::move(*m);
      metadata_changed = true;
    } else if (auto* t = std::get_if<TxnAction>(&action)) {
      if (check != nullptr && check->options->txn.has_value() &&
          t->app_id == check->options->txn->app_id && t->version >= check->options->txn->version) {
        check->txn_already_committed = true;
      }
      state_.app_txns[t->app_id] = t->version;
    }
  }
  state_.version = version;
  if (metadata_changed) {
    if (check != nullptr) check->protocol_or_metadata_changed = true;
    valid_ = Validate(state_.protocol, state_.metadata);
  }
  return Status::OK();
}

Status DeltaTableImpl::CatchUpLocked(ConflictCheck* check) {
  mu_.AssertHeld();
  std::optional<LastCheckpointHint> hint = store_.ReadLastCheckpoint();
  if (hint.has_value() && hint->version > state_.version) {
    std::string before = ProtocolAndMetadataJsonLocked();
    LAKELOG_RETURN_IF_ERROR(LoadLocked());
    if (check != nullptr) {
      // The commits in between are gone; judge them by the state they led to.
      if (ProtocolAndMetadataJsonLocked() != before) check->protocol_or_metadata_changed = true;
      if (check->options->txn.has_value() && TxnCoversLocked(*check->options->txn)) {
        check->txn_already_committed = true;
      }
    }
  }
  while (true) {
    Result<std::vector<Action>> actions = store_.ReadCommit(state_.version + 1);
    if (!actions.ok()) {
      if (actions.status().IsNotFound()) return Status::OK();
      return actions.status();
    }
    LAKELOG_RETURN_IF_ERROR(ApplyCommitLocked(state_.version + 1, *actions, check));
  }
}

std::string DeltaTableImpl::ProtocolAndMetadataJsonLocked() const {
  mu_.AssertHeld();
  return SerializeAction(state_.protocol) + SerializeAction(state_.metadata);
}

Status DeltaTableImpl::SyncLogDir() {
  Status st = fs_->SyncDir(store_.log_dir());
  return st.ok() ? st : st.WithContext("syncing " + store_.log_dir());
}

DeltaTableImpl::TxnListState DeltaTableImpl::ClassifyTxnListLocked(
    const std::vector<DeltaTxn>& txns) const {
  mu_.AssertHeld();
  if (txns.empty()) return TxnListState::kFree;
  size_t covered = 0;
  bool overlap = false;
  for (const DeltaTxn& txn : txns) {
    auto it = state_.app_txns.find(txn.app_id);
    if (it == state_.app_txns.end()) continue;
    if (it->second >= txn.version) {
      ++covered;
    } else if (txn.first_version.has_value() && it->second >= *txn.first_version) {
      overlap = true;
    }
  }
  if (covered == txns.size()) return TxnListState::kAllCommitted;
  if (covered > 0 || overlap) return TxnListState::kPartlyCommitted;
  return TxnListState::kFree;
}

Status DeltaTableImpl::TxnListConflictLocked(const std::vector<DeltaTxn>& txns) const {
  mu_.AssertHeld();
  std::string held;
  for (const DeltaTxn& txn : txns) {
    auto it = state_.app_txns.find(txn.app_id);
    if (it == state_.app_txns.end()) continue;
    if (it->second >= txn.first_version.value_or(txn.version)) {
      held += (held.empty() ? "" : ", ") + txn.app_id + " at " + std::to_string(it->second);
    }
  }
  return Status::Conflict("the table already holds part of this batch (txn " + held +
                          "); re-read the txn versions and rebuild the batch");
}

Status DeltaTableImpl::CheckTxnList(const std::vector<DeltaTxn>& txns) {
  for (size_t i = 0; i < txns.size(); ++i) {
    if (txns[i].app_id.empty()) return Status::InvalidArgument("txn with an empty appId");
    for (size_t j = 0; j < i; ++j) {
      if (txns[j].app_id == txns[i].app_id) {
        return Status::InvalidArgument("two txns with appId " + txns[i].app_id);
      }
    }
  }
  return Status::OK();
}

bool DeltaTableImpl::TxnCoversLocked(const DeltaTxn& txn) const {
  mu_.AssertHeld();
  auto it = state_.app_txns.find(txn.app_id);
  return it != state_.app_txns.end() && it->second >= txn.version;
}

Status DeltaTableImpl::CommitLoopLocked(const std::string& contents,
                                        const DeltaAppendOptions& options,
                                        DeltaCommitResult* result) {
  mu_.AssertHeld();
  const int max_attempts = std::max(1, options.max_commit_attempts);
  CommitRetry retry(clock_);
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    const int64_t version = state_.version + 1;
    result->attempts = attempt;
    Status st = store_.WriteCommit(version, contents);
    if (!st.ok() && !st.IsAlreadyExists()) {
      // put-if-absent failed, but it may have failed after the commit became visible (e.g. the
      // directory fsync). The commit bytes (with their unique txnId) tell.
      Result<std::string> landed = store_.ReadCommitBytes(version);
      if (landed.ok() && *landed == contents) {
        st = SyncLogDir();
        if (!st.ok()) {
          result->version = kCommitOutcomeUnknown;  // visible; durable only if a sync succeeds
          return st.WithContext("commit " + std::to_string(version));
        }
      } else if (landed.ok()) {
        st = Status::AlreadyExists("lost the race");
      } else {
        if (!landed.status().IsNotFound()) result->version = kCommitOutcomeUnknown;
        return st.WithContext("commit " + std::to_string(version));
      }
    }
    if (st.ok()) {
      std::vector<Action> ours;
      if (options.txn.has_value()) {
        ours.emplace_back(TxnAction{options.txn->app_id, options.txn->version, std::nullopt});
      }
      for (const DeltaTxn& txn : options.txns) {
        ours.emplace_back(TxnAction{txn.app_id, txn.version, std::nullopt});
      }
      LAKELOG_RETURN_IF_ERROR(ApplyCommitLocked(version, ours, nullptr));
      result->version = version;
      return Status::OK();
    }
    // Lost the race: read every winner, then decide.
    ConflictCheck check;
    check.options = &options;
    LAKELOG_RETURN_IF_ERROR(CatchUpLocked(&check));
    if (check.txn_already_committed) {
      LAKELOG_RETURN_IF_ERROR(SyncLogDir());
      result->skipped = true;
      return Status::OK();
    }
    if (check.protocol_or_metadata_changed) {
      return Status::Conflict("a concurrent commit changed the table's protocol or metaData");
    }
    switch (ClassifyTxnListLocked(options.txns)) {
      case TxnListState::kFree: break;
      case TxnListState::kAllCommitted:
        LAKELOG_RETURN_IF_ERROR(SyncLogDir());
        result->skipped = true;
        return Status::OK();
      case TxnListState::kPartlyCommitted: return TxnListConflictLocked(options.txns);
    }
    if (attempt < max_attempts) retry.WaitBeforeRetry(attempt);  // every attempt so far lost
  }
  return Status::Conflict("gave up committing after " + std::to_string(max_attempts) +
                          " attempts; other writers kept winning");
}

}  // namespace lakelog::delta
