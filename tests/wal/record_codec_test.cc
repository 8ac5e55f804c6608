#include "wal/record_codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

namespace lakelog::wal {
namespace {

bool SameEvent(const LogEvent& a, const LogEvent& b) {
  return a.pipeline == b.pipeline && a.ts_micros == b.ts_micros && a.level == b.level &&
         a.stage == b.stage && a.status == b.status && a.message == b.message &&
         a.run_id == b.run_id && a.host == b.host && a.attributes == b.attributes;
}

LogEvent FullEvent() {
  LogEvent e;
  e.pipeline = "index_loader";
  e.ts_micros = 1'764'000'000'123'456;
  e.level = Level::kError;
  e.stage = "delta_merge";
  e.status = "FAILED";
  e.message = "Merge failed: ключ «日本語» 🚀\n\ttab";
  e.run_id = "run-42";
  e.host = "worker-7.example";
  e.attributes = {{"rows", "12345"}, {"ü", "ß"}, {"", ""}, {"repeat_count", "3"}};
  return e;
}

LogEvent RoundTrip(const LogEvent& in) {
  std::string encoded;
  EncodeLogEvent(in, &encoded);
  LogEvent out;
  Status st = DecodeLogEvent(encoded, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

TEST(WalRecordCodecTest, RoundTripsAllFields) {
  LogEvent e = FullEvent();
  EXPECT_TRUE(SameEvent(RoundTrip(e), e));
}

TEST(WalRecordCodecTest, DistinguishesNullFromEmptyStrings) {
  LogEvent e;  // every optional null, no attributes, empty pipeline
  LogEvent out = RoundTrip(e);
  EXPECT_TRUE(SameEvent(out, e));
  EXPECT_FALSE(out.stage.has_value());
  EXPECT_FALSE(out.host.has_value());

  e.stage = "";
  e.message = "";
  out = RoundTrip(e);
  ASSERT_TRUE(out.stage.has_value());
  EXPECT_EQ(*out.stage, "");
  EXPECT_FALSE(out.status.has_value());
  ASSERT_TRUE(out.message.has_value());
  EXPECT_TRUE(SameEvent(out, e));
}

TEST(WalRecordCodecTest, RoundTripsExtremeTimestampsAndEveryLevel) {
  for (int64_t ts : {int64_t{0}, int64_t{-1}, int64_t{-86'400'000'001},
                     std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    for (int level = 0; level <= static_cast<int>(Level::kFatal); ++level) {
      LogEvent e = FullEvent();
      e.ts_micros = ts;
      e.level = static_cast<Level>(level);
      EXPECT_TRUE(SameEvent(RoundTrip(e), e)) << ts << " " << level;
    }
  }
}

TEST(WalRecordCodecTest, RoundTripsLargeAttributes) {
  LogEvent e = FullEvent();
  e.attributes.clear();
  for (int i = 0; i < 10000; ++i) e.attributes.emplace_back("k" + std::to_string(i), "v");
  e.attributes.emplace_back("blob", std::string(1 << 20, '\xab'));
  e.message = std::string(300000, 'm');
  EXPECT_TRUE(SameEvent(RoundTrip(e), e));
}

TEST(WalRecordCodecTest, EncodingIsCompact) {
  LogEvent e;
  e.pipeline = "p";
  e.ts_micros = 5;
  std::string encoded;
  EncodeLogEvent(e, &encoded);
  // version, len+"p", ts, level, presence, attribute count
  EXPECT_EQ(encoded.size(), 1u + 2 + 1 + 1 + 1 + 1);
}

TEST(WalRecordCodecTest, DecodeOverwritesPreviousContents) {
  LogEvent target = FullEvent();
  LogEvent sparse;
  sparse.pipeline = "other";
  std::string encoded;
  EncodeLogEvent(sparse, &encoded);
  ASSERT_TRUE(DecodeLogEvent(encoded, &target).ok());
  EXPECT_TRUE(SameEvent(target, sparse));
}

TEST(WalRecordCodecTest, EveryTruncationIsCorruption) {
  std::string encoded;
  EncodeLogEvent(FullEvent(), &encoded);
  for (size_t cut = 0; cut < encoded.size(); ++cut) {
    LogEvent out;
    Status st = DecodeLogEvent(std::string_view(encoded).substr(0, cut), &out);
    EXPECT_TRUE(st.IsCorruption()) << "cut " << cut << ": " << st.ToString();
  }
}

TEST(WalRecordCodecTest, MalformedInputsAreRejected) {
  std::string good;
  EncodeLogEvent(FullEvent(), &good);
  LogEvent out;

  std::string trailing = good + "x";
  EXPECT_TRUE(DecodeLogEvent(trailing, &out).IsCorruption());

  std::string version = good;
  version[0] = 9;
  EXPECT_EQ(DecodeLogEvent(version, &out).code(), StatusCode::kNotSupported);

  // Layout of a minimal event: version, len 1, 'p', ts 0, level, presence, count.
  std::string minimal = {'\x01', '\x01', 'p', '\x00', '\x02', '\x00', '\x00'};
  ASSERT_TRUE(DecodeLogEvent(minimal, &out).ok());
  std::string bad_level = minimal;
  bad_level[4] = 6;
  EXPECT_TRUE(DecodeLogEvent(bad_level, &out).IsCorruption());
  std::string bad_presence = minimal;
  bad_presence[5] = 0x20;
  EXPECT_TRUE(DecodeLogEvent(bad_presence, &out).IsCorruption());
  std::string huge_count = minimal;
  huge_count.pop_back();
  huge_count += "\xff\xff\xff\xff\xff\xff\xff\xff\x7f";  // ~2^63 attributes
  EXPECT_TRUE(DecodeLogEvent(huge_count, &out).IsCorruption());
  std::string overlong_varint = {'\x01', '\xff', '\xff', '\xff', '\xff', '\xff',
                                 '\xff', '\xff', '\xff', '\xff', '\xff', '\x01'};
  EXPECT_TRUE(DecodeLogEvent(overlong_varint, &out).IsCorruption());
  std::string length_past_end = {'\x01', '\x7f', 'p'};
  EXPECT_TRUE(DecodeLogEvent(length_past_end, &out).IsCorruption());
  EXPECT_TRUE(DecodeLogEvent("", &out).IsCorruption());
}

TEST(WalRecordCodecTest, RandomBytesNeverCrash) {
  std::mt19937 rng(5);
  std::string good;
  EncodeLogEvent(FullEvent(), &good);
  LogEvent out;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes = good;
      for (int flips = 0; flips < 3; ++flips) bytes[rng() % bytes.size()] ^= 1 << (rng() % 8);
    } else {
      bytes.resize(rng() % 64);
      for (char& c : bytes) c = static_cast<char>(rng());
      if (!bytes.empty()) bytes[0] = 1;
    }
    (void)DecodeLogEvent(bytes, &out);
  }
}

}  // namespace
}  // namespace lakelog::wal
