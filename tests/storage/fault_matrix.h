// Helpers for fault-matrix tests: run an operation once cleanly on a FaultInjectionFileSystem
// that records its calls, turn the calls into fault points, then re-run the operation with one
// fault at each point (FaultAt) or a crash at each point (FaultInjectionFileSystem::CrashAtCall)
// and check the invariant. OutcomeTally counts which way each case ended, so a test can assert
// that every class it expects was reached and print the matrix.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "storage/fault_injection_file_system.h"

namespace lakelog::fault_testing {

// The `ordinal`-th call of `op` (0-based) in a run of the operation, which was call number
// `index` of the clean run. A rule matches it by (op, ordinal): that stays exact even where the
// operation runs some calls on several threads, since every thread's calls of one op are
// counted together.
struct FaultPoint {
  int64_t index = 0;
  FaultOp op = FaultOp::kAppend;
  int ordinal = 0;
  std::string path;  // as seen in the clean run; generated file names differ between runs
};

inline std::vector<FaultPoint> FaultPoints(const std::vector<FaultCall>& calls) {
  std::map<FaultOp, int> seen;
  std::vector<FaultPoint> points;
  for (size_t i = 0; i < calls.size(); ++i) {
    points.push_back(
        FaultPoint{static_cast<int64_t>(i), calls[i].op, seen[calls[i].op]++, calls[i].path});
  }
  return points;
}

// With LAKELOG_FAULT_TRACE set, prints the fault points (what a clean run did, call by call).
inline void MaybePrintPoints(const std::string& title, const std::vector<FaultPoint>& points) {
  if (std::getenv("LAKELOG_FAULT_TRACE") == nullptr) return;
  std::cout << title << ": " << points.size() << " calls\n";
  for (const FaultPoint& p : points) {
    std::cout << "  " << p.index << "  " << FaultOpName(p.op) << " #" << p.ordinal << "  " << p.path
              << "\n";
  }
}

// The faults that can happen at `op`: EIO everywhere; ENOSPC wherever something is allocated
// (open, append, sync, close of a written file, directory entries); a short write at an append;
// lost dirty pages at a sync.
inline std::vector<FaultKind> KindsAt(FaultOp op) {
  switch (op) {
    case FaultOp::kOpenRead:
    case FaultOp::kList:
    case FaultOp::kDelete: return {FaultKind::kIOError};
    case FaultOp::kAppend:
      return {FaultKind::kIOError, FaultKind::kNoSpace, FaultKind::kShortWrite};
    case FaultOp::kSync:
      return {FaultKind::kIOError, FaultKind::kNoSpace, FaultKind::kSyncLostData};
    default: return {FaultKind::kIOError, FaultKind::kNoSpace};
  }
}

// Whether the fault stays: a transient fault fires once, a persistent one at that call and at
// every later call of the same op (a disk that stays full, a dying device).
enum class Persistence : uint8_t { kOnce, kPersistent };

inline FaultRule FaultAt(const FaultPoint& point, FaultKind kind,
                         Persistence persistence = Persistence::kOnce) {
  return FaultRule{point.op, "", point.ordinal, persistence == Persistence::kOnce ? 1 : -1, kind};
}

inline std::string Describe(const FaultPoint& point, FaultKind kind) {
  return std::string(FaultKindName(kind)) + " at call " + std::to_string(point.index) + " (" +
         std::string(FaultOpName(point.op)) + " #" + std::to_string(point.ordinal) + " " +
         point.path + ")";
}

// Counts the cases of a matrix by outcome class.
class OutcomeTally {
 public:
  void Add(const std::string& outcome) { ++counts_[outcome]; }
  int count(const std::string& outcome) const {
    auto it = counts_.find(outcome);
    return it == counts_.end() ? 0 : it->second;
  }
  // Cases whose outcome contains `part`.
  int count_containing(const std::string& part) const {
    int n = 0;
    for (const auto& [outcome, count] : counts_) {
      if (outcome.find(part) != std::string::npos) n += count;
    }
    return n;
  }
  int total() const {
    int n = 0;
    for (const auto& [outcome, count] : counts_) n += count;
    return n;
  }
  std::string Summary(const std::string& title) const {
    std::string out = title + ": " + std::to_string(total()) + " cases\n";
    for (const auto& [outcome, count] : counts_) {
      out += "  " + std::to_string(count) + "  " + outcome + "\n";
    }
    return out;
  }

 private:
  std::map<std::string, int> counts_;
};

}  // namespace lakelog::fault_testing
