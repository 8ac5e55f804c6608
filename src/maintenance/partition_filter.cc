#include "maintenance/partition_filter.h"

#include <algorithm>
#include <cctype>

namespace lakelog::maintenance {
namespace {

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  void SkipSpaces() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool AtEnd() {
    SkipSpaces();
    return pos_ >= s_.size();
  }
  // An identifier (letters, digits, '_'), or "" when none is here.
  std::string Identifier() {
    SkipSpaces();
    size_t start = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) {
      ++pos_;
    }
    return std::string(s_.substr(start, pos_ - start));
  }
  std::string Operator() {
    SkipSpaces();
    for (std::string_view op : {"<=", ">=", "!=", "<>", "=", "<", ">"}) {
      if (s_.substr(pos_, op.size()) == op) {
        pos_ += op.size();
        return std::string(op);
      }
    }
    return "";
  }
  // A single-quoted string ('' is a quote); nullopt when none is here or it is unterminated.
  std::optional<std::string> Quoted() {
    SkipSpaces();
    if (pos_ >= s_.size() || s_[pos_] != '\'') return std::nullopt;
    std::string out;
    for (size_t i = pos_ + 1; i < s_.size(); ++i) {
      if (s_[i] != '\'') {
        out.push_back(s_[i]);
      } else if (i + 1 < s_.size() && s_[i + 1] == '\'') {
        out.push_back('\'');
        ++i;
      } else {
        pos_ = i + 1;
        return out;
      }
    }
    return std::nullopt;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

Result<PartitionFilter> PartitionFilter::Parse(std::string_view text,
                                               const std::vector<std::string>& partition_columns) {
  PartitionFilter filter;
  filter.text_ = std::string(text);
  Lexer lex(text);
  if (lex.AtEnd()) return filter;
  auto error = [&](const std::string& what) {
    return Status::InvalidArgument(
        "--where '" + std::string(text) + "': " + what + " at character " +
        std::to_string(lex.pos() + 1) +
        "; OPTIMIZE filters on partition columns only: <column> <op> '<value>' joined by AND, "
        "op one of = != <> < <= > >=, columns: " +
        [&] {
          std::string names;
          for (const std::string& c : partition_columns) names += (names.empty() ? "" : ", ") + c;
          return names;
        }());
  };
  while (true) {
    std::string column = lex.Identifier();
    if (column.empty()) return error("expected a column name");
    if (std::find(partition_columns.begin(), partition_columns.end(), column) ==
        partition_columns.end()) {
      return error("'" + column + "' is not a partition column");
    }
    std::string op = lex.Operator();
    if (op.empty()) return error("expected a comparison operator");
    std::optional<std::string> value = lex.Quoted();
    if (!value.has_value()) return error("expected a single-quoted value");
    Op parsed = op == "="                    ? Op::kEq
                : (op == "!=" || op == "<>") ? Op::kNe
                : op == "<"                  ? Op::kLt
                : op == "<="                 ? Op::kLe
                : op == ">"                  ? Op::kGt
                                             : Op::kGe;
    filter.terms_.push_back({column, parsed, std::move(*value)});
    if (lex.AtEnd()) break;
    if (Lower(lex.Identifier()) != "and") return error("expected AND (OR is not supported)");
  }
  return filter;
}

bool PartitionFilter::Matches(
    const std::map<std::string, std::optional<std::string>>& partition_values) const {
  for (const Comparison& term : terms_) {
    auto it = partition_values.find(term.column);
    if (it == partition_values.end() || !it->second.has_value()) return false;
    const int c = it->second->compare(term.value);
    bool ok = false;
    switch (term.op) {
      case Op::kEq: ok = c == 0; break;
      case Op::kNe: ok = c != 0; break;
      case Op::kLt: ok = c < 0; break;
      case Op::kLe: ok = c <= 0; break;
      case Op::kGt: ok = c > 0; break;
      case Op::kGe: ok = c >= 0; break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace lakelog::maintenance
