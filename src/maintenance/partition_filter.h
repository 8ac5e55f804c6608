// `--where` of OPTIMIZE: a conjunction of comparisons on partition columns, e.g.
//   pipeline = 'index_loader' AND log_date >= '2026-11-01'
// Operators =, !=, <>, <, <=, >, >=; values are single-quoted strings ('' for a quote inside).
// Anything else — another column, OR, a function, a bare number — is refused with a message
// saying what is accepted, since a data-column filter would make a compaction rewrite part of
// a file. Values compare as strings (dates as YYYY-MM-DD sort as dates); a null partition value
// matches nothing, as in SQL.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakelog/status.h"

namespace lakelog::maintenance {

class PartitionFilter {
 public:
  // Parses `text` against the table's `partition_columns`. An empty text matches everything.
  static Result<PartitionFilter> Parse(std::string_view text,
                                       const std::vector<std::string>& partition_columns);

  bool Matches(const std::map<std::string, std::optional<std::string>>& partition_values) const;

  // The predicate as given (for commitInfo), or "" for none.
  const std::string& text() const { return text_; }

 private:
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };
  struct Comparison {
    std::string column;
    Op op;
    std::string value;
  };
  std::string text_;
  std::vector<Comparison> terms_;
};

}  // namespace lakelog::maintenance
