#include "parquet/dictionary_builder.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace lakelog::parquet {
namespace {

std::string PlainOf(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) ByteArrayTraits::AppendPlain(&out, v);
  return out;
}

TEST(DictionaryBuilderTest, IndicesFollowFirstSeenOrderAndPageIsPlain) {
  DictionaryBuilder<ByteArrayTraits> dictionary;
  const std::vector<std::string> input = {"b", "a", "b", "", "c", "a", ""};
  const std::vector<uint32_t> expected_index = {0, 1, 0, 2, 3, 1, 2};
  const std::vector<bool> expected_inserted = {true, true, false, true, true, false, false};
  for (size_t i = 0; i < input.size(); ++i) {
    bool inserted = !expected_inserted[i];
    EXPECT_EQ(dictionary.Insert(input[i], &inserted), expected_index[i]) << i;
    EXPECT_EQ(inserted, expected_inserted[i]) << i;
  }
  EXPECT_EQ(dictionary.size(), 4u);
  EXPECT_EQ(dictionary.page(), PlainOf({"b", "a", "", "c"}));
  EXPECT_EQ(dictionary.at(3), "c");
  std::string one;
  dictionary.AppendPlain(0, &one);
  EXPECT_EQ(one, PlainOf({"b"}));
}

// Lengths around every branch of HashBytes (0, 1-3, 4-7, 8-16, 17+), enough values to grow the
// index several times; a second pass must find every value at its first index.
TEST(DictionaryBuilderTest, FindsEveryValueAfterGrowing) {
  DictionaryBuilder<ByteArrayTraits> dictionary;
  std::vector<std::string> values;
  for (int i = 0; i < 50000; ++i) {
    const std::string id = std::to_string(i);
    values.push_back(id.substr(0, i % 4));  // short and colliding prefixes (duplicates)
    values.push_back(std::string(static_cast<size_t>(i % 40), 'x') + id);
  }
  std::vector<uint32_t> first(values.size());
  std::set<std::string> distinct;
  for (size_t i = 0; i < values.size(); ++i) {
    bool inserted = false;
    first[i] = dictionary.Insert(values[i], &inserted);
    EXPECT_EQ(inserted, distinct.insert(values[i]).second) << values[i];
  }
  EXPECT_EQ(dictionary.size(), distinct.size());
  for (size_t i = 0; i < values.size(); ++i) {
    bool inserted = true;
    ASSERT_EQ(dictionary.Insert(values[i], &inserted), first[i]) << values[i];
    EXPECT_FALSE(inserted);
    EXPECT_EQ(dictionary.at(first[i]), values[i]);
  }
}

TEST(DictionaryBuilderTest, Int64ValuesIncludingExtremes) {
  DictionaryBuilder<Int64Traits> dictionary;
  const std::vector<int64_t> input = {
      0, -1, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), -1, 0, 1};
  std::vector<uint32_t> indices;
  for (int64_t v : input) {
    bool inserted = false;
    indices.push_back(dictionary.Insert(v, &inserted));
  }
  EXPECT_EQ(indices, (std::vector<uint32_t>{0, 1, 2, 3, 1, 0, 4}));
  ASSERT_EQ(dictionary.size(), 5u);
  EXPECT_EQ(dictionary.page().size(), 5u * 8);
  EXPECT_EQ(dictionary.at(2), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(dictionary.at(4), 1);
}

TEST(DictionaryBuilderTest, ClearForgetsEverythingEvenAfterGrowingLarge) {
  DictionaryBuilder<Int64Traits> dictionary;
  bool inserted = false;
  for (int64_t i = 0; i < 200000; ++i) dictionary.Insert(i * 7, &inserted);
  EXPECT_EQ(dictionary.size(), 200000u);
  dictionary.Clear();
  EXPECT_EQ(dictionary.size(), 0u);
  EXPECT_TRUE(dictionary.page().empty());
  EXPECT_EQ(dictionary.Insert(7, &inserted), 0u);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(dictionary.Insert(14, &inserted), 1u);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(dictionary.Insert(7, &inserted), 0u);
  EXPECT_FALSE(inserted);
}

// Every byte of the input, and the length, reaches the hash: flipping any one byte of strings
// of every length up to 40 changes it (a hash that skipped the tail or a middle byte would not).
TEST(HashBytesTest, EveryByteAndTheLengthMatter) {
  for (size_t n = 1; n <= 40; ++n) {
    std::string base(n, 'a');
    for (size_t i = 0; i < n; ++i) base[i] = static_cast<char>('a' + i % 26);
    const uint64_t h = HashBytes(base.data(), base.size());
    for (size_t pos = 0; pos < n; ++pos) {
      std::string flipped = base;
      flipped[pos] = static_cast<char>(flipped[pos] ^ 0x01);
      EXPECT_NE(HashBytes(flipped.data(), flipped.size()), h) << "length " << n << " pos " << pos;
    }
    EXPECT_NE(HashBytes(base.data(), n - 1), h) << "length " << n;
    // Equal bytes at another address hash equally.
    const std::string copy = base;
    EXPECT_EQ(HashBytes(copy.data(), copy.size()), h);
  }
  const std::string zeros(4, '\0');
  EXPECT_NE(HashBytes(zeros.data(), 4), HashBytes(zeros.data(), 3));
}

}  // namespace
}  // namespace lakelog::parquet
