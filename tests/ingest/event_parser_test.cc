#include "ingest/event_parser.h"

#include <gtest/gtest.h>

namespace lakelog::ingest {
namespace {

LogEvent MustParse(std::string_view line) {
  LogEvent event;
  Status st = ParseEventLine(line, {}, &event);
  EXPECT_TRUE(st.ok()) << st.ToString() << " for " << line;
  return event;
}

std::string RejectReason(std::string_view line) {
  LogEvent event;
  Status st = ParseEventLine(line, {}, &event);
  EXPECT_FALSE(st.ok()) << "accepted: " << line;
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  return st.message();
}

TEST(IngestEventParserTest, FullEventParses) {
  LogEvent e =
      MustParse(R"({"pipeline":"index_loader","ts":"2026-11-24T10:15:30.123456Z","level":"error",)"
                R"("stage":"delta_merge","status":"FAILED","message":"Merge failed","run_id":"r1",)"
                R"("host":"h1","attributes":{"rows":"10","table":"t"}})");
  EXPECT_EQ(e.pipeline, "index_loader");
  EXPECT_EQ(e.level, Level::kError);
  EXPECT_EQ(e.stage, "delta_merge");
  EXPECT_EQ(e.status, "FAILED");
  EXPECT_EQ(e.message, "Merge failed");
  EXPECT_EQ(e.run_id, "r1");
  EXPECT_EQ(e.host, "h1");
  ASSERT_EQ(e.attributes.size(), 2u);
  EXPECT_EQ(FormatRfc3339Micros(e.ts_micros), "2026-11-24T10:15:30.123456Z");
}

TEST(IngestEventParserTest, MissingOptionalFieldsAreNullAndLevelDefaultsToInfo) {
  LogEvent e = MustParse(R"({"pipeline":"p","ts":1700000000123,"stage":null})");
  EXPECT_EQ(e.ts_micros, 1700000000123000);
  EXPECT_EQ(e.level, Level::kInfo);
  EXPECT_FALSE(e.stage.has_value());
  EXPECT_FALSE(e.message.has_value());
  EXPECT_TRUE(e.attributes.empty());
}

TEST(IngestEventParserTest, Rfc3339OffsetsAndFractions) {
  int64_t a, b;
  ASSERT_TRUE(ParseRfc3339("2026-11-24T11:15:30+01:00", &a).ok());
  ASSERT_TRUE(ParseRfc3339("2026-11-24t10:15:30.000000999Z", &b).ok());
  EXPECT_EQ(a, b);
  ASSERT_TRUE(ParseRfc3339("1969-12-31T23:59:59.5Z", &a).ok());
  EXPECT_EQ(a, -500000);
  EXPECT_EQ(FormatRfc3339Micros(-500000), "1969-12-31T23:59:59.500000Z");
  ASSERT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z", &a).ok());
  EXPECT_FALSE(ParseRfc3339("2023-02-29T00:00:00Z", &a).ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-24T10:15:30", &a).ok()) << "no zone";
  EXPECT_FALSE(ParseRfc3339("2026-11-24", &a).ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-24T25:00:00Z", &a).ok());
}

TEST(IngestEventParserTest, RejectionsNameTheProblem) {
  EXPECT_NE(RejectReason("{not json").find("malformed JSON"), std::string::npos);
  EXPECT_NE(RejectReason("[1,2]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(RejectReason(R"({"ts":1})").find("'pipeline'"), std::string::npos);
  EXPECT_NE(RejectReason(R"({"pipeline":"p"})").find("'ts'"), std::string::npos);
  EXPECT_NE(RejectReason(R"({"pipeline":"p","ts":"yesterday"})").find("RFC 3339"),
            std::string::npos);
  EXPECT_NE(RejectReason(R"({"pipeline":"p","ts":1,"attributes":{"n":1}})").find("'n'"),
            std::string::npos);
  EXPECT_NE(RejectReason(R"({"pipeline":"p","ts":1,"colour":"red"})").find("unknown field"),
            std::string::npos);
  EXPECT_NE(RejectReason(R"({"pipeline":"p","ts":1,"level":"LOUD"})").find("'level'"),
            std::string::npos);
  EXPECT_NE(RejectReason(R"({"pipeline":5,"ts":1})").find("'pipeline'"), std::string::npos);
}

std::string Line(std::string_view ts_json) {
  return R"({"pipeline":"p","ts":)" + std::string(ts_json) + "}";
}

// Issue 18, point 2: a ts whose UTC date is outside 0001..9999 made the whole table unreadable
// by delta-rs ("Failed to parse value '10000-01-01' as 'date'", "year 0 is out of range").
TEST(IngestEventParserTest, TimestampOutsideYearsOneToNineThousandNineHundredNinetyNineIsRejected) {
  for (std::string_view ts :
       {R"("9999-12-31T23:59:59-01:00")", R"("0000-01-01T00:00:00Z")",
        R"("0000-12-31T23:59:59.999999Z")", R"("0001-01-01T00:59:59+01:00")", "9223372036854775",
        "-9223372036854775", "-62135596800001", "253402300800000", "9223372036854775807",
        "-9223372036854775808", "18446744073709551615"}) {
    std::string reason = RejectReason(Line(ts));
    EXPECT_NE(reason.find("field 'ts' is out of range"), std::string::npos) << ts << ": " << reason;
    EXPECT_NE(reason.find("0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z"), std::string::npos)
        << reason;
  }
  // A five-digit year is not RFC 3339 at all.
  EXPECT_NE(RejectReason(Line(R"("10000-01-01T00:00:00Z")")).find("RFC 3339"), std::string::npos);
  EXPECT_NE(RejectReason(Line(R"("9999-12-31T23:59:59-01:00")")).find("10000-01-01T00:59:59"),
            std::string::npos)
      << "the reason shows the instant in UTC";
}

TEST(IngestEventParserTest, TimestampRangeEdgesAreAccepted) {
  EXPECT_EQ(MustParse(Line(R"("0001-01-01T00:00:00Z")")).ts_micros, kMinTsMicros);
  EXPECT_EQ(MustParse(Line(R"("9999-12-31T23:59:59.999999Z")")).ts_micros, kMaxTsMicros);
  EXPECT_EQ(MustParse(Line(R"("9999-12-31T23:59:59.999999999Z")")).ts_micros, kMaxTsMicros);
  EXPECT_EQ(MustParse(Line(R"("0001-01-01T01:00:00+01:00")")).ts_micros, kMinTsMicros);
  EXPECT_EQ(MustParse(Line(R"("9999-12-31T22:59:59.999999-01:00")")).ts_micros, kMaxTsMicros);
  EXPECT_EQ(MustParse(Line("-62135596800000")).ts_micros, kMinTsMicros);
  EXPECT_EQ(MustParse(Line("253402300799999")).ts_micros, kMaxTsMicros - 999);
  int64_t micros;
  EXPECT_FALSE(ParseRfc3339("0000-12-31T23:59:59Z", &micros).ok());
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:59:59-00:01", &micros).ok());
}

// Issue 18, point 9: a repeated key used to keep its last value silently.
TEST(IngestEventParserTest, DuplicateKeysAreRejectedNamingTheKey) {
  EXPECT_EQ(RejectReason(R"({"pipeline":"p","ts":1,"level":"INFO","level":"ERROR"})"),
            "duplicate field 'level'");
  EXPECT_EQ(RejectReason(R"({"pipeline":"a","ts":1,"pipeline":"b"})"),
            "duplicate field 'pipeline'");
  EXPECT_EQ(RejectReason(R"({"pipeline":"p","ts":1,"attributes":{"k":"1","j":"2","k":"3"}})"),
            "duplicate attribute 'k'");
  EXPECT_EQ(RejectReason(R"({"pipeline":"p","ts":1,"stage":null,"stage":"x"})"),
            "duplicate field 'stage'");
  EXPECT_NE(RejectReason(R"({"pipeline":"p","ts":1,"message":{"a":1,"a":1}})").find("'a'"),
            std::string::npos);
  // A key may repeat across objects: "k" at the top level and in attributes are different keys.
  LogEvent e = MustParse(R"({"pipeline":"p","ts":1,"attributes":{"pipeline":"x","ts":"y"}})");
  ASSERT_EQ(e.attributes.size(), 2u);
  EXPECT_EQ(e.attributes[0].first, "pipeline");
  // Keys are compared after unescaping: "k" is "k".
  EXPECT_EQ(RejectReason(R"({"pipeline":"p","ts":1,"attributes":{"k":"1","k":"2"}})"),
            "duplicate attribute 'k'");
}

TEST(IngestEventParserTest, LongKeysAreCutInReasons) {
  std::string key(5000, 'k');
  std::string reason = RejectReason(R"({"pipeline":"p","ts":1,")" + key + R"(":"v"})");
  EXPECT_NE(reason.find("unknown field"), std::string::npos);
  EXPECT_LT(reason.size(), 200u);
}

// Issue 18, point 11: the six names in any case, and WARNING for WARN; anything else names
// the rule.
TEST(IngestEventParserTest, LevelNamesAreCaseInsensitiveAndWarningIsWarn) {
  EXPECT_EQ(MustParse(R"({"pipeline":"p","ts":1,"level":"info"})").level, Level::kInfo);
  EXPECT_EQ(MustParse(R"({"pipeline":"p","ts":1,"level":"WARNING"})").level, Level::kWarn);
  EXPECT_EQ(MustParse(R"({"pipeline":"p","ts":1,"level":"warning"})").level, Level::kWarn);
  EXPECT_EQ(MustParse(R"({"pipeline":"p","ts":1,"level":"Trace"})").level, Level::kTrace);
  EXPECT_EQ(MustParse(R"({"pipeline":"p","ts":1,"level":null})").level, Level::kInfo);
  for (std::string_view bad : {R"("CRITICAL")", R"("ERR")", R"("")", R"(" INFO")", "3"}) {
    std::string reason =
        RejectReason(R"({"pipeline":"p","ts":1,"level":)" + std::string(bad) + "}");
    EXPECT_NE(reason.find("field 'level' must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL"),
              std::string::npos)
        << bad << ": " << reason;
    EXPECT_NE(reason.find("WARNING"), std::string::npos) << reason;
  }
}

TEST(IngestEventParserTest, PipelineTooLongForADirectoryIsRejected) {
  std::string name;
  for (int i = 0; i < 100; ++i) name += "\xe9\x95\xbf";  // 100 CJK characters, 300 bytes
  std::string line = R"({"pipeline":")" + name + R"(","ts":1})";
  EXPECT_NE(RejectReason(line).find("too long"), std::string::npos);
  std::string ok_name(200, 'a');
  MustParse(R"({"pipeline":")" + ok_name + R"(","ts":1})");
}

TEST(IngestEventParserTest, InvalidUtf8IsRejected) {
  std::string line = "{\"pipeline\":\"p\xff\",\"ts\":1}";
  EXPECT_NE(RejectReason(line).find("malformed JSON"), std::string::npos);
}

TEST(IngestEventParserTest, OversizedLineIsRejectedWithoutParsing) {
  LogEvent event;
  EventParserOptions options;
  options.max_line_bytes = 16;
  Status st = ParseEventLine(R"({"pipeline":"p","ts":1,"message":"long"})", options, &event);
  EXPECT_NE(st.message().find("over the limit"), std::string::npos);
}

// ParseEventLine (simdjson) must answer exactly as ParseEventLineReference (nlohmann), which
// defines the rules: same status and reason, and the same event when accepted. These are the
// lines where the two libraries differ on their own.
TEST(IngestEventParserTest, FastParserAnswersExactlyAsTheReference) {
  const std::string kLines[] = {
      R"({"pipeline":"p","ts":1,"attributes":{"z":"1","a":"2","M":"3","\u00e9":"4","":"5"}})",
      R"({"ts":"2026-11-24T10:15:30Z","pipeline":"p","level":"warning","host":null,"stage":"s"})",
      R"({"pipeline":"p","ts":-0})",
      R"({"pipeline":"p","ts":1.0})",
      R"({"pipeline":"p","ts":1e3})",
      R"({"pipeline":"p","ts":-9223372036854775809})",
      R"({"pipeline":"p","ts":18446744073709551616})",
      R"({"pipeline":"p","ts":9223372036854775808})",
      R"({"pipeline":"p","ts":1e400})",
      "\xEF\xBB\xBF{\"pipeline\":\"p\",\"ts\":1}",  // UTF-8 BOM: nlohmann skips it
      " \t{\"pipeline\":\"p\",\"ts\":1}\r\n ",
      "{\"pipeline\":\"p\x01\",\"ts\":1}",  // an unescaped control character
      R"({"pipeline":"\u0000","ts":1})",
      R"({"pipeline":"\ud83d\ude00","ts":1})",
      R"({"pipeline":"\ud800","ts":1})",
      R"({"pipeline":"\udc00","ts":1})",
      R"({"pipeline":"\ud800\u0041","ts":1})",
      R"({"pipeline":"p","ts":1,"attributes":{"k":"1","k":"1"}})",
      R"({"pipeline":"p","ts":1,"attributes":{"k":1}})",
      R"({"pipeline":"p","ts":1,"\u0074s":2})",
      R"({"pipeline":"p","ts":1,"extra":{"a":1,"a":2}})",
      R"({"pipeline":"p","ts":1,"level":"LOUD","colour":"red"})",
      R"({"ts":"bad","pipeline":5})",
      R"({"pipeline":"p","ts":1} {})",
      R"({"pipeline":"p","ts":01})",
      R"({"pipeline":"p","ts":"9999-12-31T23:59:59-01:00"})",
      R"({"pipeline":"","ts":1,"level":null,"attributes":null})",
      "[1]",
      "",
      "null",
      std::string(2000, '[') + std::string(2000, ']'),
      "{\"pipeline\":\"p\",\"ts\":1,\"attributes\":" + std::string(1500, '[') +
          std::string(1500, ']') + "}",
  };
  // Each line is also parsed into an event that holds every field from the line before (the
  // parser writes over an event's strings instead of freeing them): it must come out the same.
  const std::string kFull =
      R"({"pipeline":"full","ts":5,"level":"ERROR","stage":"s","status":"st","message":"m",)"
      R"("run_id":"r","host":"h","attributes":{"a":"1","b":"2","c":"3"}})";
  for (const std::string& line : kLines) {
    LogEvent fast, reference, reused;
    ASSERT_TRUE(ParseEventLine(kFull, {}, &reused).ok());
    Status a = ParseEventLine(line, {}, &fast);
    ASSERT_EQ(ParseEventLine(line, {}, &reused).ToString(), a.ToString()) << line;
    Status b = ParseEventLineReference(line, {}, &reference);
    ASSERT_EQ(a.ToString(), b.ToString()) << line;
    if (!a.ok()) continue;
    EXPECT_EQ(fast.pipeline, reference.pipeline) << line;
    EXPECT_EQ(fast.ts_micros, reference.ts_micros) << line;
    EXPECT_EQ(fast.level, reference.level) << line;
    EXPECT_EQ(fast.stage, reference.stage) << line;
    EXPECT_EQ(fast.status, reference.status) << line;
    EXPECT_EQ(fast.message, reference.message) << line;
    EXPECT_EQ(fast.run_id, reference.run_id) << line;
    EXPECT_EQ(fast.host, reference.host) << line;
    EXPECT_EQ(fast.attributes, reference.attributes) << line;
    EXPECT_EQ(reused.pipeline, fast.pipeline) << line;
    EXPECT_EQ(reused.ts_micros, fast.ts_micros) << line;
    EXPECT_EQ(reused.level, fast.level) << line;
    EXPECT_EQ(reused.stage, fast.stage) << line;
    EXPECT_EQ(reused.status, fast.status) << line;
    EXPECT_EQ(reused.message, fast.message) << line;
    EXPECT_EQ(reused.run_id, fast.run_id) << line;
    EXPECT_EQ(reused.host, fast.host) << line;
    EXPECT_EQ(reused.attributes, fast.attributes) << line;
  }
}

}  // namespace
}  // namespace lakelog::ingest
