#include "ingest/event_parser.h"

#include <cassert>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_set>
#include <vector>

#include "delta/partition_path.h"

namespace lakelog::ingest {
namespace {

using nlohmann::json;

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Days since the epoch of a proleptic Gregorian date (Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at *pos.
bool Digits(std::string_view s, size_t* pos, size_t n, int64_t* out) {
  if (*pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

Status Reject(std::string_view reason) { return Status::InvalidArgument(reason); }

// A key as it appears in a reason: quoted, and cut (on a UTF-8 boundary) so that a hostile
// megabyte-long key does not make a megabyte-long reason.
std::string Quoted(std::string_view key) {
  constexpr size_t kMaxKeyInReason = 100;
  std::string out = "'";
  if (key.size() <= kMaxKeyInReason) {
    out.append(key);
  } else {
    size_t end = kMaxKeyInReason;
    while (end > 0 && (static_cast<unsigned char>(key[end]) & 0xC0) == 0x80) --end;
    out.append(key.substr(0, end));
    out.append("...");
  }
  out.push_back('\'');
  return out;
}

// Where a repeated key was found, for the reason.
enum class Kind : uint8_t { kTopLevel, kAttributes, kNested };

std::string DuplicateKeyReason(Kind kind, std::string_view key) {
  switch (kind) {
    case Kind::kTopLevel: return "duplicate field " + Quoted(key);
    case Kind::kAttributes: return "duplicate attribute " + Quoted(key);
    case Kind::kNested: break;
  }
  return "duplicate key " + Quoted(key) + " in a nested object";
}

constexpr std::string_view kLevelRule =
    "field 'level' must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL (any case; WARNING "
    "is read as WARN)";

constexpr std::string_view kTsRangeText =
    "0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z (the dates every Delta reader accepts)";

// Finds the first key that repeats within one JSON object, at any depth, in document order:
// nlohmann keeps the last value of a repeated key silently, so it has to be caught while
// parsing. Used as the parser callback; it never discards anything.
class DuplicateKeyFinder {
 public:
  // `depth` counts the enclosing objects and arrays: 0 for the line's own object, 1 for the
  // value of one of its fields.
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        objects_.push_back({depth == 0                                ? Kind::kTopLevel
                            : depth == 1 && last_key_ == "attributes" ? Kind::kAttributes
                                                                      : Kind::kNested,
                            {}});
        break;
      case json::parse_event_t::object_end:
        if (!objects_.empty()) objects_.pop_back();
        break;
      case json::parse_event_t::key:
        last_key_ = parsed.get_ref<const std::string&>();
        if (!found_ && !objects_.empty() && !objects_.back().keys.insert(last_key_).second) {
          found_ = true;
          reason_ = DuplicateKeyReason(objects_.back().kind, last_key_);
        }
        break;
      default: break;
    }
    return true;
  }

  // InvalidArgument naming the first repeated key, or OK.
  Status Check() const { return found_ ? Reject(reason_) : Status::OK(); }

 private:
  struct Object {
    Kind kind;
    std::unordered_set<std::string> keys;
  };
  std::vector<Object> objects_;
  std::string last_key_;
  bool found_ = false;
  std::string reason_;
};

Status OptionalString(const json& value, std::string_view field, std::optional<std::string>* out) {
  if (value.is_null()) {
    out->reset();
    return Status::OK();
  }
  if (!value.is_string()) {
    return Reject("field '" + std::string(field) + "' must be a string or null");
  }
  *out = value.get_ref<const std::string&>();
  return Status::OK();
}

}  // namespace

Status ParseRfc3339(std::string_view s, int64_t* micros) {
  size_t pos = 0;
  int64_t year, month, day, hour, minute, second;
  if (!Digits(s, &pos, 4, &year) || !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &month) ||
      !Expect(s, &pos, '-') || !Digits(s, &pos, 2, &day)) {
    return Reject("ts is not RFC 3339 (expected YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm))");
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) {
    return Reject("ts is not RFC 3339: missing 'T' between date and time");
  }
  ++pos;
  if (!Digits(s, &pos, 2, &hour) || !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &minute) ||
      !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &second)) {
    return Reject("ts is not RFC 3339: bad time of day");
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return Reject("ts is not a valid date and time");
  }
  if (second == 60) second = 59;  // a leap second folds into the last second of the minute
  int64_t frac_micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) {
        frac_micros += (s[pos] - '0') * scale;
        scale /= 10;
      }
      ++pos;
    }
    if (pos == start || pos - start > 9) return Reject("ts has a bad fractional second");
  }
  int64_t offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int64_t oh, om;
    if (!Digits(s, &pos, 2, &oh) || !Expect(s, &pos, ':') || !Digits(s, &pos, 2, &om) || oh > 23 ||
        om > 59) {
      return Reject("ts has a bad UTC offset (expected +hh:mm)");
    }
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return Reject("ts needs a time zone: 'Z' or an offset like +01:00");
  }
  if (pos != s.size()) return Reject("ts has trailing characters");
  int64_t seconds = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 +
                    second - offset_seconds;
  // Invariant: |seconds| < 2^39 (years 0000..9999, offsets under a day), so this cannot
  // overflow.
  assert(seconds > -(int64_t{1} << 39) && seconds < (int64_t{1} << 39));
  const int64_t result = seconds * kMicrosPerSecond + frac_micros;
  if (!IsTsInRange(result)) {
    return Reject("field 'ts' is out of range: " + std::string(s) + " is " +
                  FormatRfc3339Micros(result) + " in UTC; it must be within " +
                  std::string(kTsRangeText));
  }
  *micros = result;
  return Status::OK();
}

Status ParseEventLineReference(std::string_view line, const EventParserOptions& options,
                               LogEvent* event) {
  if (line.size() > options.max_line_bytes) {
    return Reject("line is " + std::to_string(line.size()) + " bytes, over the limit of " +
                  std::to_string(options.max_line_bytes));
  }
  // nlohmann's lexer validates UTF-8 and reports the offending byte.
  DuplicateKeyFinder duplicates;
  json doc = json::parse(
      line,
      [&duplicates](int depth, json::parse_event_t event, json& parsed) {
        return duplicates(depth, event, parsed);
      },
      /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Re-parse with exceptions only to name the problem; the error path is not hot.
    try {
      const json reparsed = json::parse(line);  // throws: `line` failed to parse above
      (void)reparsed;
    } catch (const json::parse_error& e) {
      std::string what = e.what();
      size_t colon = what.find("parse error");
      return Reject("malformed JSON: " + (colon == std::string::npos ? what : what.substr(colon)));
    } catch (...) {
    }
    return Reject("malformed JSON");
  }
  if (!doc.is_object()) return Reject("line is not a JSON object");
  LAKELOG_RETURN_IF_ERROR(duplicates.Check());

  *event = LogEvent();
  bool have_pipeline = false;
  bool have_ts = false;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    const json& value = it.value();
    if (key == "pipeline") {
      if (!value.is_string()) return Reject("field 'pipeline' must be a string");
      event->pipeline = value.get_ref<const std::string&>();
      have_pipeline = true;
    } else if (key == "ts") {
      if (value.is_string()) {
        LAKELOG_RETURN_IF_ERROR(
            ParseRfc3339(value.get_ref<const std::string&>(), &event->ts_micros));
      } else if (value.is_number_integer()) {
        int64_t ms = value.is_number_unsigned()
                         ? static_cast<int64_t>(std::min<uint64_t>(
                               value.get<uint64_t>(),
                               static_cast<uint64_t>(std::numeric_limits<int64_t>::max())))
                         : value.get<int64_t>();
        // Checked before multiplying: within the range, ms * 1000 cannot overflow.
        if (ms < kMinTsMillis || ms > kMaxTsMillis) {
          return Reject("field 'ts' is out of range: epoch milliseconds must be within " +
                        std::to_string(kMinTsMillis) + " .. " + std::to_string(kMaxTsMillis) +
                        ", that is " + std::string(kTsRangeText));
        }
        event->ts_micros = ms * 1000;
      } else {
        return Reject("field 'ts' must be RFC 3339 text or integer epoch milliseconds");
      }
      have_ts = true;
    } else if (key == "level") {
      if (value.is_null()) continue;
      if (!value.is_string() || !ParseLevel(value.get_ref<const std::string&>(), &event->level)) {
        return Reject(std::string(kLevelRule));
      }
    } else if (key == "stage") {
      LAKELOG_RETURN_IF_ERROR(OptionalString(value, key, &event->stage));
    } else if (key == "status") {
      LAKELOG_RETURN_IF_ERROR(OptionalString(value, key, &event->status));
    } else if (key == "message") {
      LAKELOG_RETURN_IF_ERROR(OptionalString(value, key, &event->message));
    } else if (key == "run_id") {
      LAKELOG_RETURN_IF_ERROR(OptionalString(value, key, &event->run_id));
    } else if (key == "host") {
      LAKELOG_RETURN_IF_ERROR(OptionalString(value, key, &event->host));
    } else if (key == "attributes") {
      if (value.is_null()) continue;
      if (!value.is_object()) return Reject("field 'attributes' must be an object of strings");
      event->attributes.reserve(value.size());
      for (auto attr = value.begin(); attr != value.end(); ++attr) {
        if (!attr.value().is_string()) {
          return Reject("attribute " + Quoted(attr.key()) + " must be a string");
        }
        event->attributes.emplace_back(attr.key(), attr.value().get_ref<const std::string&>());
      }
    } else {
      return Reject("unknown field " + Quoted(key));
    }
  }
  if (!have_pipeline) return Reject("missing required field 'pipeline'");
  LAKELOG_RETURN_IF_ERROR(delta::CheckPipelineName(event->pipeline));
  if (!have_ts) return Reject("missing required field 'ts'");
  return Status::OK();
}

}  // namespace lakelog::ingest
