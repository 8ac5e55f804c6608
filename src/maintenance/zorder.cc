#include "maintenance/zorder.h"

#include <algorithm>
#include <bit>

namespace lakelog::maintenance {
namespace {

struct NamedColumn {
  const char* name;
  ZColumn column;
};
constexpr NamedColumn kDataColumns[] = {
    {"ts", ZColumn::kTs},         {"level", ZColumn::kLevel},     {"stage", ZColumn::kStage},
    {"status", ZColumn::kStatus}, {"message", ZColumn::kMessage}, {"run_id", ZColumn::kRunId},
    {"host", ZColumn::kHost}};

uint64_t StringBytes(const std::optional<std::string>& s) {
  // Short strings live inside the object (SSO); longer ones own a heap block.
  return s.has_value() && s->size() > 15 ? s->capacity() + 1 : 0;
}

}  // namespace

Result<std::vector<ZColumn>> ResolveZOrderColumns(
    const std::vector<std::string>& names, const std::vector<std::string>& partition_columns) {
  if (names.empty()) return Status::InvalidArgument("--zorder-by names no column");
  std::vector<ZColumn> out;
  for (const std::string& name : names) {
    if (std::find(partition_columns.begin(), partition_columns.end(), name) !=
        partition_columns.end()) {
      return Status::InvalidArgument(
          "cannot Z-order by " + name +
          ": it is a partition column (each partition holds one value of it); Z-order by data "
          "columns: ts, level, stage, status, message, run_id, host");
    }
    if (name == "attributes") {
      return Status::InvalidArgument(
          "cannot Z-order by attributes: a map column has no order; Z-order by data columns: "
          "ts, level, stage, status, message, run_id, host");
    }
    const NamedColumn* found = nullptr;
    for (const NamedColumn& c : kDataColumns) {
      if (name == c.name) found = &c;
    }
    if (found == nullptr) {
      return Status::InvalidArgument("cannot Z-order by " + name +
                                     ": the table has no such column; Z-order by data columns: "
                                     "ts, level, stage, status, message, run_id, host");
    }
    if (std::find(out.begin(), out.end(), found->column) != out.end()) {
      return Status::InvalidArgument("--zorder-by names " + name + " twice");
    }
    out.push_back(found->column);
  }
  return out;
}

std::optional<std::string> ZOrderValue(const LogEvent& e, ZColumn column) {
  switch (column) {
    case ZColumn::kTs: {
      // Flipping the sign bit makes the two's-complement order the unsigned byte order.
      const uint64_t bits = static_cast<uint64_t>(e.ts_micros) ^ (uint64_t{1} << 63);
      std::string out(8, '\0');
      for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(bits >> (56 - 8 * i));
      return out;
    }
    case ZColumn::kLevel: return std::string(LevelName(e.level));
    case ZColumn::kStage: return e.stage;
    case ZColumn::kStatus: return e.status;
    case ZColumn::kMessage: return e.message;
    case ZColumn::kRunId: return e.run_id;
    case ZColumn::kHost: return e.host;
  }
  return std::nullopt;
}

ZOrderSampler::ZOrderSampler(std::vector<ZColumn> columns, size_t capacity)
    : columns_(std::move(columns)), capacity_(std::max<size_t>(1, capacity)) {}

void ZOrderSampler::Add(const LogEvent& e) {
  ++seen_;
  size_t slot = tuples_.size();
  if (tuples_.size() >= capacity_) {
    // Algorithm R: the n-th row replaces a random slot with probability capacity / n.
    const uint64_t pick = random_() % static_cast<uint64_t>(seen_);
    if (pick >= capacity_) return;
    slot = static_cast<size_t>(pick);
  } else {
    tuples_.emplace_back();
  }
  std::vector<std::optional<std::string>>& tuple = tuples_[slot];
  tuple.clear();
  for (ZColumn c : columns_) tuple.push_back(ZOrderValue(e, c));
}

ZOrderCurve::ZOrderCurve(const ZOrderSampler& sample) : columns_(sample.columns()) {
  const size_t k = columns_.size();
  // Every column gets the same number of bits and all of them fit one 64-bit key.
  const int bits_cap = std::min(10, static_cast<int>(64 / std::max<size_t>(1, k)));
  const size_t max_ranges = std::min(kMaxRanges, (size_t{1} << bits_cap) - 1);
  bounds_.resize(k);
  uint32_t max_id = 0;
  for (size_t c = 0; c < k; ++c) {
    std::vector<std::string> values;
    for (const auto& tuple : sample.tuples()) {
      if (tuple[c].has_value()) values.push_back(*tuple[c]);
    }
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    const size_t ranges = std::min(max_ranges, n);
    // Spark's RangePartitioner: the boundaries are the sample's quantiles, without repeats.
    for (size_t i = 1; i < ranges; ++i) {
      const std::string& v = values[i * n / ranges];
      if (bounds_[c].empty() || bounds_[c].back() < v) bounds_[c].push_back(v);
    }
    max_id = std::max<uint32_t>(max_id, static_cast<uint32_t>(bounds_[c].size()) + 1);
  }
  bits_ = std::max(1, static_cast<int>(std::bit_width(max_id)));
}

uint32_t ZOrderCurve::RangeId(size_t column, const std::optional<std::string>& value) const {
  if (!value.has_value()) return 0;
  const std::vector<std::string>& b = bounds_[column];
  return 1 + static_cast<uint32_t>(std::lower_bound(b.begin(), b.end(), *value) - b.begin());
}

uint64_t ZOrderCurve::KeyOfTuple(const std::vector<std::optional<std::string>>& tuple) const {
  uint32_t ids[16];
  const size_t k = std::min<size_t>(columns_.size(), 16);
  for (size_t c = 0; c < k; ++c) ids[c] = RangeId(c, tuple[c]);
  uint64_t key = 0;
  for (int bit = bits_ - 1; bit >= 0; --bit) {
    for (size_t c = 0; c < k; ++c) key = (key << 1) | ((ids[c] >> bit) & 1u);
  }
  return key;
}

uint64_t ZOrderCurve::Key(const LogEvent& e) const {
  // Per row on the hot path: the string columns are looked up in place, not copied.
  uint32_t ids[16];
  const size_t k = std::min<size_t>(columns_.size(), 16);
  for (size_t c = 0; c < k; ++c) {
    const std::optional<std::string>* field = nullptr;
    switch (columns_[c]) {
      case ZColumn::kStage: field = &e.stage; break;
      case ZColumn::kStatus: field = &e.status; break;
      case ZColumn::kMessage: field = &e.message; break;
      case ZColumn::kRunId: field = &e.run_id; break;
      case ZColumn::kHost: field = &e.host; break;
      case ZColumn::kTs:
      case ZColumn::kLevel: break;
    }
    ids[c] = field != nullptr ? RangeId(c, *field) : RangeId(c, ZOrderValue(e, columns_[c]));
  }
  uint64_t key = 0;
  for (int bit = bits_ - 1; bit >= 0; --bit) {
    for (size_t c = 0; c < k; ++c) key = (key << 1) | ((ids[c] >> bit) & 1u);
  }
  return key;
}

std::vector<uint64_t> ZOrderBucketCuts(const ZOrderSampler& sample, const ZOrderCurve& curve,
                                       size_t buckets) {
  std::vector<uint64_t> keys;
  keys.reserve(sample.tuples().size());
  for (const auto& tuple : sample.tuples()) keys.push_back(curve.KeyOfTuple(tuple));
  std::sort(keys.begin(), keys.end());
  std::vector<uint64_t> cuts;
  const size_t n = keys.size();
  for (size_t i = 1; i < buckets && n > 0; ++i) {
    const uint64_t cut = keys[i * n / buckets];
    if (cut > keys.front() && (cuts.empty() || cuts.back() < cut)) cuts.push_back(cut);
  }
  return cuts;
}

size_t ZOrderBucketOf(const std::vector<uint64_t>& cuts, uint64_t key) {
  return static_cast<size_t>(std::upper_bound(cuts.begin(), cuts.end(), key) - cuts.begin());
}

uint64_t EstimateEventBytes(const LogEvent& e) {
  uint64_t bytes = sizeof(LogEvent) + (e.pipeline.size() > 15 ? e.pipeline.capacity() + 1 : 0) +
                   StringBytes(e.stage) + StringBytes(e.status) + StringBytes(e.message) +
                   StringBytes(e.run_id) + StringBytes(e.host);
  bytes += e.attributes.capacity() * sizeof(e.attributes[0]);
  for (const auto& [k, v] : e.attributes) {
    bytes += (k.size() > 15 ? k.capacity() + 1 : 0) + (v.size() > 15 ? v.capacity() + 1 : 0);
  }
  return bytes;
}

}  // namespace lakelog::maintenance
