#include "delta/transaction.h"

#include <algorithm>
#include <string>

#include "common/backoff.h"
#include "delta/uuid.h"

namespace lakelog::delta {
namespace {

CommitInfoAction* FindCommitInfo(std::vector<Action>& actions) {
  for (Action& action : actions) {
    if (auto* info = std::get_if<CommitInfoAction>(&action)) return info;
  }
  return nullptr;
}

}  // namespace

Status NoDataChangeCheck(int64_t version, const std::vector<Action>& actions) {
  for (const Action& action : actions) {
    if (std::holds_alternative<DeltaProtocol>(action)) {
      return Status::Conflict("commit " + std::to_string(version) +
                              " changed the table's protocol");
    }
  }
  return Status::OK();
}

Result<int64_t> CommitActions(LogStore* store, int64_t read_version, std::vector<Action> actions,
                              const WinnerCheck& check, const TransactionOptions& options) {
  CommitInfoAction* info = FindCommitInfo(actions);
  if (info == nullptr) return Status::InvalidArgument("a commit needs a commitInfo action");
  if (!info->txn_id.has_value()) info->txn_id = NewUuidV4();
  if (read_version >= 0) info->read_version = read_version;
  const std::string contents = SerializeCommit(actions);

  int64_t version = read_version + 1;
  int losses = 0;
  CommitRetry retry(options.clock);
  for (int attempt = 1; attempt <= std::max(1, options.max_attempts); ++attempt) {
    Status st = store->WriteCommit(version, contents);
    if (st.ok()) return version;
    if (!st.IsAlreadyExists()) {
      // The write may have landed before failing (e.g. at the directory sync): our bytes tell.
      Result<std::string> landed = store->ReadCommitBytes(version);
      if (landed.ok() && *landed == contents) return version;
      if (!landed.ok()) return st.WithContext("commit " + std::to_string(version));
      // Someone else's commit is there: we lost the race after all.
    }
    // Lost version `version`: judge every winner up to the log's end before retrying.
    while (true) {
      Result<std::vector<Action>> winner = store->ReadCommit(version);
      if (!winner.ok()) {
        if (!winner.status().IsNotFound()) return winner.status();
        break;  // `version` is free again (it never existed past the end of the log)
      }
      LAKELOG_RETURN_IF_ERROR(check(version, *winner));
      ++version;
    }
    retry.WaitBeforeRetry(++losses);
  }
  return Status::Conflict("gave up committing after " + std::to_string(options.max_attempts) +
                          " attempts; other writers kept winning");
}

}  // namespace lakelog::delta
