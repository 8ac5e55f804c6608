#include "delta/partition_path.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "lakelog/event.h"

namespace lakelog::delta {
namespace {

TEST(DeltaPartitionPathTest, EscapesSparkCharacterSet) {
  struct Case {
    std::string value;
    std::string escaped;
  };
  const Case cases[] = {
      {"index_loader", "index_loader"},
      {"a b", "a b"},  // Spark keeps spaces in directory names
      {"a/b", "a%2Fb"},
      {"x=1", "x%3D1"},
      {"100%", "100%25"},
      {"it's", "it%27s"},
      {"say \"hi\"", "say %22hi%22"},
      {"a:b?c#d*e", "a%3Ab%3Fc%23d%2Ae"},
      {"back\\slash", "back%5Cslash"},
      {"{[x]}^", "%7B%5Bx%5D}%5E"},  // '}' is not in Spark's set
      {"tab\there", "tab%09here"},
      {std::string("nul\0x", 5), "nul%00x"},
      {"del\x7f", "del%7F"},
      {"caf\xc3\xa9", "caf\xc3\xa9"},  // non-ASCII stays UTF-8
      {"..", ".."},
      {".", "."},
      {"~!@$&()+,;<>`|", "~!@$&()+,;<>`|"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EscapePartitionValue(c.value), c.escaped) << c.value;
    EXPECT_EQ(UnescapePartitionValue(c.escaped), c.value) << c.escaped;
  }
}

TEST(DeltaPartitionPathTest, NullAndEmptyUseHiveDefault) {
  EXPECT_EQ(PartitionComponent("pipeline", std::nullopt), "pipeline=__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(PartitionComponent("pipeline", std::string()), "pipeline=__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(LogPartitionDirectory("", 0),
            "pipeline=__HIVE_DEFAULT_PARTITION__/log_date=1970-01-01");
}

TEST(DeltaPartitionPathTest, DotDotStaysInsideRoot) {
  const std::string hostile[] = {"..",       ".",         "../..", "../../etc/passwd",
                                 "/abs",     "a/../../b", "",      "=",
                                 "%2e%2e",   "..\\..",    "a//b",  std::string(1, '\0'),
                                 "\xff\xfe", "x/",        "/",     "pipeline=../x"};
  for (const std::string& value : hostile) {
    std::string dir = LogPartitionDirectory(value, 20781);
    EXPECT_TRUE(IsSafeRelativePath(dir)) << dir;
    // Exactly two components: the value can never add a level.
    EXPECT_EQ(std::count(dir.begin(), dir.end(), '/'), 1) << dir;
    EXPECT_EQ(dir.rfind("pipeline=", 0), 0u) << dir;
    EXPECT_NE(dir.find("/log_date=2026-11-24"), std::string::npos) << dir;
  }
  EXPECT_EQ(LogPartitionDirectory("..", 20781), "pipeline=../log_date=2026-11-24");
  EXPECT_EQ(LogPartitionDirectory("a/../../b", 20781),
            "pipeline=a%2F..%2F..%2Fb/log_date=2026-11-24");
}

TEST(DeltaPartitionPathTest, SafeRelativePathRejectsEscapes) {
  EXPECT_TRUE(IsSafeRelativePath("pipeline=a/log_date=2026-11-24/part-0.parquet"));
  EXPECT_FALSE(IsSafeRelativePath(""));
  EXPECT_FALSE(IsSafeRelativePath("/etc/passwd"));
  EXPECT_FALSE(IsSafeRelativePath("../x"));
  EXPECT_FALSE(IsSafeRelativePath("a/./b"));
  EXPECT_FALSE(IsSafeRelativePath("a//b"));
  EXPECT_FALSE(IsSafeRelativePath("a/"));
}

TEST(DeltaPartitionPathTest, LogPathIsUriEncodedLikeSpark) {
  // What Spark 4.2 / Delta 4.4 wrote for pipeline "a b%c/é'x" (directory "a b%25c%2Fé%27x").
  std::string dir = LogPartitionDirectory("a b%c/\xc3\xa9'x", 20781);
  EXPECT_EQ(dir, "pipeline=a b%25c%2F\xc3\xa9%27x/log_date=2026-11-24");
  EXPECT_EQ(EncodeLogPath(dir + "/part-00000-x.c000.zstd.parquet"),
            "pipeline=a%20b%2525c%252F\xc3\xa9%2527x/log_date=2026-11-24/"
            "part-00000-x.c000.zstd.parquet");
  // java.net.URI quotes non-ASCII spaces and C1 controls, keeps other non-ASCII characters.
  EXPECT_EQ(EncodeLogPath("a\xc2\xa0"
                          "b"),
            "a%C2%A0b");
  EXPECT_EQ(EncodeLogPath("\xc2\x85"), "%C2%85");
  EXPECT_EQ(EncodeLogPath("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(EncodeLogPath("\xff"), "%FF");
  EXPECT_EQ(EncodeLogPath("a}b|c<d>e`f"), "a%7Db%7Cc%3Cd%3Ee%60f");
  EXPECT_EQ(EncodeLogPath("a+b=c;d@e$f,g&h!i~j*k'l(m)n:o"), "a+b=c;d@e$f,g&h!i~j*k'l(m)n:o");
}

TEST(DeltaPartitionPathTest, DecodeInvertsEncode) {
  const std::string paths[] = {
      "pipeline=a b%25c%2F\xc3\xa9%27x/log_date=2026-11-24/part-1.parquet",
      "pipeline=__HIVE_DEFAULT_PARTITION__/log_date=1970-01-01/p.parquet",
      "weird/\xc2\xa0/%/%%/\x7f/\xff",
  };
  for (const std::string& path : paths) {
    Result<std::string> decoded = DecodeLogPath(EncodeLogPath(path));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, path);
  }
}

TEST(DeltaPartitionPathTest, BadPercentEncodingIsCorruption) {
  for (const char* bad : {"a%", "a%2", "a%zz", "%G0/x"}) {
    Result<std::string> decoded = DecodeLogPath(bad);
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_TRUE(decoded.status().IsCorruption());
  }
}

TEST(DeltaPartitionPathTest, DataFileNameCarriesCodecAndRandomUuid) {
  std::regex pattern(
      "part-00000-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
      "\\.c000\\.zstd\\.parquet");
  std::string a = NewDataFileName(Compression::kZstd);
  std::string b = NewDataFileName(Compression::kZstd);
  EXPECT_TRUE(std::regex_match(a, pattern)) << a;
  EXPECT_NE(a, b);
  EXPECT_NE(NewDataFileName(Compression::kSnappy).find(".c000.snappy.parquet"), std::string::npos);
  EXPECT_NE(NewDataFileName(Compression::kLz4Raw).find(".c000.lz4raw.parquet"), std::string::npos);
  std::string plain = NewDataFileName(Compression::kNone);
  EXPECT_EQ(plain.substr(plain.size() - 13), ".c000.parquet");
}

// CheckPipelineName counts the escaped directory name's bytes without building it: it must
// accept exactly the names whose PartitionComponent fits, at the limit and around it, for
// plain bytes, escaped ones (three bytes each) and the empty name.
TEST(DeltaPartitionPathTest, PipelineNameLimitIsTheEscapedComponentSize) {
  std::vector<std::string> names = {""};
  for (const std::string& unit :
       {std::string("a"), std::string(":"), std::string("\xc3\xa9"), std::string("a%")}) {
    for (size_t n = 60; n < 260; ++n) {
      std::string name;
      while (name.size() < n) name += unit;
      names.push_back(name);
    }
  }
  int accepted = 0, refused = 0;
  for (const std::string& name : names) {
    const bool fits = PartitionComponent("pipeline", std::optional<std::string>(name)).size() <=
                      kMaxPartitionComponentBytes;
    Status st = CheckPipelineName(name);
    EXPECT_EQ(st.ok(), fits) << name.size() << " bytes: " << st.ToString();
    (fits ? accepted : refused) += 1;
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace lakelog::delta
