#include "lightning/table/block.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "lightning/lsm/dbformat.h"
#include "lightning/table/block_builder.h"
#include "lightning/util/random.h"

namespace lightning {
namespace {

uint64_t Seed() {
  const char* env = std::getenv("LIGHTNING_SEED");
  uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : 301;
  std::printf("LIGHTNING_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

std::string IKey(std::string_view user_key, SequenceNumber seq) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, kTypeValue);
  return k;
}

// Sorted internal keys with long shared prefixes, mapped to values.
std::map<std::string, std::string, bool (*)(const std::string&, const std::string&)> MakeEntries(
    int n) {
  std::map<std::string, std::string, bool (*)(const std::string&, const std::string&)> m(
      [](const std::string& a, const std::string& b) {
        return GetInternalKeyComparator()->Compare(a, b) < 0;
      });
  for (int i = 0; i < n; i++) {
    char user_key[32];
    std::snprintf(user_key, sizeof(user_key), "key%06d", i / 2);
    m[IKey(user_key, 100 - i % 2)] = "value" + std::to_string(i);
  }
  return m;
}

std::shared_ptr<const Block> BuildBlock(int n, int restart_interval) {
  BlockBuilder builder(restart_interval);
  for (const auto& [k, v] : MakeEntries(n)) builder.Add(k, v);
  std::shared_ptr<const Block> block;
  EXPECT_TRUE(Block::Parse(std::string(builder.Finish()), "t.lt", 7, &block).ok());
  return block;
}

std::unique_ptr<InternalIterator> Iter(const std::shared_ptr<const Block>& block) {
  return std::unique_ptr<InternalIterator>(block->NewIterator(block, GetInternalKeyComparator()));
}

TEST(BlockTest, EmptyBlock) {
  BlockBuilder builder(16);
  std::shared_ptr<const Block> block;
  ASSERT_TRUE(Block::Parse(std::string(builder.Finish()), "t.lt", 0, &block).ok());
  auto it = Iter(block);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  EXPECT_FALSE(it->Valid());
  it->Seek(IKey("a", 1));
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TEST(BlockTest, RoundTripBothDirections) {
  for (int interval : {1, 2, 16, 1000}) {
    auto entries = MakeEntries(500);
    auto block = BuildBlock(500, interval);
    auto it = Iter(block);
    auto expected = entries.begin();
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
      ASSERT_NE(expected, entries.end());
      ASSERT_EQ(it->key(), expected->first);
      ASSERT_EQ(it->value(), expected->second);
    }
    EXPECT_EQ(expected, entries.end());
    auto rexpected = entries.rbegin();
    for (it->SeekToLast(); it->Valid(); it->Prev(), ++rexpected) {
      ASSERT_NE(rexpected, entries.rend());
      ASSERT_EQ(it->key(), rexpected->first) << interval;
    }
    EXPECT_EQ(rexpected, entries.rend());
    EXPECT_TRUE(it->status().ok());
  }
}

TEST(BlockTest, SeekFindsFirstEntryAtOrAfterTarget) {
  auto entries = MakeEntries(300);
  auto block = BuildBlock(300, 4);
  auto it = Iter(block);
  // Exact keys.
  for (const auto& [k, v] : entries) {
    it->Seek(k);
    ASSERT_TRUE(it->Valid());
    ASSERT_EQ(it->key(), k);
  }
  // Between versions: seq 100 of key000010 sorts before seq 99, so seeking at
  // seq 150 lands on seq 100 and seeking at seq 50 lands on the next user key.
  it->Seek(IKey("key000010", 150));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), IKey("key000010", 100));
  it->Seek(IKey("key000010", 50));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), IKey("key000011", 100));
  it->Seek(IKey("", 1));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), entries.begin()->first);
  it->Seek(IKey("zzz", 1));
  EXPECT_FALSE(it->Valid());
  // Seek then step back.
  it->Seek(IKey("key000100", 100));
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), IKey("key000099", 99));
}

TEST(BlockTest, MalformedTrailersAreCorruption) {
  std::shared_ptr<const Block> block;
  EXPECT_TRUE(Block::Parse("", "t.lt", 0, &block).IsCorruption());
  EXPECT_TRUE(Block::Parse(std::string("\0\0\0", 3), "t.lt", 0, &block).IsCorruption());
  // Zero restarts; more restarts than fit.
  EXPECT_TRUE(Block::Parse(std::string(4, '\0'), "t.lt", 0, &block).IsCorruption());
  Status s = Block::Parse(std::string("\0\0\0\0\xff\0\0\0", 8), "t.lt", 42, &block);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("t.lt"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("42"), std::string::npos) << s.ToString();
}

// Walks every way through a block; must never read outside it.
void Exercise(const std::shared_ptr<const Block>& block, Random* rnd) {
  auto it = Iter(block);
  int steps = 0;
  for (it->SeekToFirst(); it->Valid() && steps < 10000; it->Next()) steps++;
  for (it->SeekToLast(); it->Valid() && steps < 20000; it->Prev()) steps++;
  for (int i = 0; i < 20; i++) {
    it->Seek(IKey("key" + std::to_string(rnd->Uniform(200)), rnd->Uniform(200)));
    if (it->Valid()) it->Prev();
    if (it->Valid()) it->Next();
  }
  if (!it->status().ok()) {
    EXPECT_TRUE(it->status().IsCorruption());
    EXPECT_NE(it->status().message().find("t.lt"), std::string::npos);
  }
}

TEST(BlockTest, RandomMutationsNeverCrash) {
  Random rnd(Seed());
  BlockBuilder builder(4);
  for (const auto& [k, v] : MakeEntries(100)) builder.Add(k, v);
  const std::string good(builder.Finish());
  int corrupt = 0;
  for (int trial = 0; trial < 3000; trial++) {
    std::string bad = good;
    for (int m = 1 + rnd.Uniform(4); m > 0; m--) {
      bad[rnd.Uniform(bad.size())] = static_cast<char>(rnd.Uniform(256));
    }
    if (rnd.OneIn(10)) bad.resize(rnd.Uniform(bad.size()));
    std::shared_ptr<const Block> block;
    Status s = Block::Parse(bad, "t.lt", 0, &block);
    if (!s.ok()) {
      corrupt++;
      continue;
    }
    Exercise(block, &rnd);
    corrupt += !Iter(block)->status().ok();
  }
  std::printf("%d of 3000 mutated blocks reported as Corruption\n", corrupt);
  EXPECT_GT(corrupt, 0);
}

}  // namespace
}  // namespace lightning
