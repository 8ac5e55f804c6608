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
  LogEvent e = MustParse(
      R"({"pipeline":"index_loader","ts":"2026-11-24T10:15:30.123456Z","level":"error",)"
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

}  // namespace
}  // namespace lakelog::ingest
