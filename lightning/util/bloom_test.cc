#include "lightning/util/bloom.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "lightning/util/coding.h"

namespace lightning {
namespace {

std::string Key(int i) {
  std::string k;
  PutFixed32(&k, static_cast<uint32_t>(i));
  return k;
}

std::string Build(int n, int bits_per_key) {
  std::vector<std::string> storage;
  for (int i = 0; i < n; i++) storage.push_back(Key(i));
  std::vector<std::string_view> keys(storage.begin(), storage.end());
  return BuildBloomFilter(keys, bits_per_key);
}

TEST(BloomTest, EmptyFilterMatchesNothingBuilt) {
  std::string filter = Build(0, 10);
  EXPECT_FALSE(BloomMayContain(filter, "hello"));
  EXPECT_FALSE(BloomMayContain(filter, ""));
}

TEST(BloomTest, MalformedFilterMayContainEverything) {
  EXPECT_TRUE(BloomMayContain("", "x"));
  EXPECT_TRUE(BloomMayContain("a", "x"));
  EXPECT_TRUE(BloomMayContain(std::string(64, '\0'), "x"));  // no probe count
  std::string not_lines(66, '\0');                           // not 64n + 1 bytes
  not_lines.back() = 1;
  EXPECT_TRUE(BloomMayContain(not_lines, "x"));
  std::string bad_probes(65, '\0');
  bad_probes.back() = static_cast<char>(kMaxBloomProbes + 1);
  EXPECT_TRUE(BloomMayContain(bad_probes, "x"));
  bad_probes.back() = 0;
  EXPECT_TRUE(BloomMayContain(bad_probes, "x"));
}

TEST(BloomTest, NoFalseNegativesAndLowFalsePositiveRate) {
  constexpr int kKeys = 10000;
  std::string filter = Build(kKeys, 10);
  EXPECT_LE(filter.size(), size_t{kKeys * 10 / 8 + 65});
  for (int i = 0; i < kKeys; i++) ASSERT_TRUE(BloomMayContain(filter, Key(i))) << i;

  int false_positives = 0;
  constexpr int kProbes = 10000;
  for (int i = 0; i < kProbes; i++) false_positives += BloomMayContain(filter, Key(i + 1000000000));
  double rate = static_cast<double>(false_positives) / kProbes;
  std::printf("bloom: %d keys, 10 bits/key, false-positive rate %.2f%%\n", kKeys, rate * 100);
  EXPECT_LT(rate, 0.02);
}

// A key's probes all land in the one line BloomLine names.
TEST(BloomTest, EachKeyTouchesOneLine) {
  constexpr size_t kLines = 10;
  for (int i = 0; i < 100; i++) {
    const uint64_t h = BloomHash(Key(i));
    // One key at 5,120 bits per key: ten lines, only one of them touched.
    const std::string filter = BuildBloomFilterFromHashes({h}, kLines * 512);
    ASSERT_EQ(filter.size(), kLines * kBloomLineBytes + 1);
    int bits_set = 0;
    for (size_t line = 0; line < kLines; line++) {
      for (size_t b = 0; b < kBloomLineBytes; b++) {
        const int bits = __builtin_popcount(static_cast<unsigned char>(filter[line * 64 + b]));
        if (bits != 0) ASSERT_EQ(line, BloomLine(h, kLines)) << i;
        bits_set += bits;
      }
    }
    EXPECT_GE(bits_set, 1);
    EXPECT_LE(bits_set, kMaxBloomProbes);
    EXPECT_TRUE(BloomMayContain(filter, h));
  }
}

// Filters are on disk: the hash must never change.
TEST(BloomTest, HashIsStable) {
  EXPECT_EQ(BloomHash(""), 0x2ad0938b4c26d017ull);
  EXPECT_EQ(BloomHash("0000000000000042"), 0xcaffd6f236d690b2ull);
  EXPECT_EQ(BloomHash("abc"), 0x265ca2c92d6ec87dull);
}

TEST(BloomTest, VaryingSizesHaveNoFalseNegatives) {
  for (int n = 1; n <= 5000; n = n * 3 + 1) {
    std::string filter = Build(n, 10);
    for (int i = 0; i < n; i++) ASSERT_TRUE(BloomMayContain(filter, Key(i))) << n << " " << i;
  }
}

}  // namespace
}  // namespace lightning
