// The Z-order curve of OPTIMIZE ZORDER BY, as Delta builds it (docs/maintenance.md):
// per column a range id from boundaries sampled from the column's values (nulls get id 0, the
// values 1..n in the order of the boundaries), then the ids' bits interleaved into one key,
// first column most significant. Rows sorted by that key put rows close in every column near
// each other, so each file's min/max statistics cover a small box of the columns' space.
//
// Values are compared as bytes: strings as UTF-8 bytes (Spark's string order), ts as its
// microseconds in an order-preserving big-endian form, level by its name.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "lakelog/event.h"
#include "lakelog/status.h"

namespace lakelog::maintenance {

enum class ZColumn { kTs, kLevel, kStage, kStatus, kMessage, kRunId, kHost };

// The Z-order columns by name. InvalidArgument for an empty list, a duplicate, a partition
// column (Z-ordering within a partition by its own constant is meaningless, Delta refuses it
// too), `attributes` (a map has no order) or a name the table does not have.
Result<std::vector<ZColumn>> ResolveZOrderColumns(
    const std::vector<std::string>& names, const std::vector<std::string>& partition_columns);

// The value of `column` in `e` as order-preserving bytes; nullopt for null.
std::optional<std::string> ZOrderValue(const LogEvent& e, ZColumn column);

// A uniform sample (reservoir) of the Z-order columns' values of a stream of rows, with a fixed
// seed so that the same input gives the same layout. Holds at most `capacity` tuples; while the
// stream is no longer than that, the sample is the whole stream (exact boundaries).
class ZOrderSampler {
 public:
  ZOrderSampler(std::vector<ZColumn> columns, size_t capacity);
  void Add(const LogEvent& e);
  int64_t seen() const { return seen_; }
  const std::vector<std::vector<std::optional<std::string>>>& tuples() const { return tuples_; }
  const std::vector<ZColumn>& columns() const { return columns_; }

 private:
  std::vector<ZColumn> columns_;
  size_t capacity_;
  int64_t seen_ = 0;
  std::mt19937_64 random_{0x5a0dde5};
  std::vector<std::vector<std::optional<std::string>>> tuples_;
};

// The curve built from a sample. Immutable; Key() is thread-compatible.
class ZOrderCurve {
 public:
  // Delta's spark.databricks.io.skipping.mdc.rangeId.max.
  static constexpr size_t kMaxRanges = 1000;

  explicit ZOrderCurve(const ZOrderSampler& sample);
  uint64_t Key(const LogEvent& e) const;
  // Range id of one column's value: 0 for null, 1 + the index of the first boundary >= value.
  uint32_t RangeId(size_t column, const std::optional<std::string>& value) const;
  uint64_t KeyOfTuple(const std::vector<std::optional<std::string>>& tuple) const;

 private:
  std::vector<ZColumn> columns_;
  std::vector<std::vector<std::string>> bounds_;  // per column, strictly increasing
  int bits_ = 1;                                  // bits per column in the key
};

// Cuts of the key space into `buckets` ranges holding about equal shares of the sample's keys:
// bucket i holds keys in [cuts[i-1], cuts[i]). Equal keys always share a bucket, so fewer
// cuts come back when the sample has few distinct keys.
std::vector<uint64_t> ZOrderBucketCuts(const ZOrderSampler& sample, const ZOrderCurve& curve,
                                       size_t buckets);
size_t ZOrderBucketOf(const std::vector<uint64_t>& cuts, uint64_t key);

// Heap bytes one LogEvent holds, for the memory budget.
uint64_t EstimateEventBytes(const LogEvent& e);

}  // namespace lakelog::maintenance
