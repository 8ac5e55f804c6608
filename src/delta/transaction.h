// A commit of arbitrary actions (maintenance: OPTIMIZE's remove + add, VACUUM's commitInfo) read
// at one version and landed at the next free one, with Delta's optimistic concurrency: on losing
// the race for version N the winners are read, `check` judges each, and the commit is retried at
// once at the next version (the winners are already known, as delta-rs does), backing off with
// jitter only after several losses in a row (CommitRetry, common/backoff.h, the policy of the
// appends too).
//
// The appends of DeltaTable keep their own loop (it also handles txn idempotence); both write
// through LogStore::WriteCommit (put-if-absent), so every writer of the table sees one order.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "delta/actions.h"
#include "delta/log_store.h"
#include "lakelog/clock.h"
#include "lakelog/status.h"

namespace lakelog::delta {

struct TransactionOptions {
  int max_attempts = 100;
  // Whose time the backoff sleeps (null: RealClock()). Not owned.
  Clock* clock = nullptr;
};

// Judges one winning commit (version, actions) against ours: OK to retry above it, Conflict (or
// any error) to give up. Called in version order for every commit between our read version and
// the version we finally land at.
using WinnerCheck = std::function<Status(int64_t version, const std::vector<Action>& actions)>;

// Writes `actions` (a commitInfo among them; its readVersion is set here) as the first free
// version above `read_version`. Returns the committed version. Conflict when `check` refuses a
// winner or the attempts run out. An I/O error after which the commit may have landed is
// checked by reading the version back (the commitInfo's txnId makes our bytes unique).
Result<int64_t> CommitActions(LogStore* store, int64_t read_version, std::vector<Action> actions,
                              const WinnerCheck& check, const TransactionOptions& options = {});

// A WinnerCheck for commits that change no data (VACUUM START/END): only a protocol change
// that lakelog could not have judged stops them.
Status NoDataChangeCheck(int64_t version, const std::vector<Action>& actions);

}  // namespace lakelog::delta
