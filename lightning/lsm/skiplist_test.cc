#include "lightning/lsm/skiplist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <set>
#include <thread>
#include <vector>

#include "lightning/util/random.h"

namespace lightning {
namespace {

using Key = uint64_t;

struct Compare {
  int operator()(Key a, Key b) const { return a < b ? -1 : (a > b ? 1 : 0); }
};

using List = SkipList<Key, Compare>;

uint64_t TestSeed() {
  const char* env = std::getenv("LIGHTNING_SEED");
  uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::time(nullptr);
  std::printf("LIGHTNING_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

// Every level is sound, and a forward scan yields exactly the model's keys.
void ExpectSameKeys(const List& list, const std::set<Key>& model) {
  EXPECT_TRUE(list.CheckLevels());
  List::Iterator iter(&list);
  iter.SeekToFirst();
  for (Key k : model) {
    ASSERT_TRUE(iter.Valid());
    ASSERT_EQ(iter.key(), k);
    iter.Next();
  }
  EXPECT_FALSE(iter.Valid());
}

TEST(SkipListTest, Empty) {
  Arena arena;
  List list(Compare(), &arena);
  EXPECT_FALSE(list.Contains(10));
  List::Iterator iter(&list);
  iter.SeekToFirst();
  EXPECT_FALSE(iter.Valid());
  iter.SeekToLast();
  EXPECT_FALSE(iter.Valid());
  iter.Seek(100);
  EXPECT_FALSE(iter.Valid());
}

TEST(SkipListTest, MatchesStdSet) {
  Random rnd(TestSeed());
  Arena arena;
  List list(Compare(), &arena);
  std::set<Key> model;
  for (int i = 0; i < 5000; i++) {
    Key key = rnd.Uniform(20000);
    if (model.insert(key).second) list.Insert(key);
  }
  for (Key k = 0; k < 20000; k++) ASSERT_EQ(list.Contains(k), model.count(k) == 1) << k;
  ExpectSameKeys(list, model);

  List::Iterator iter(&list);
  iter.SeekToLast();
  for (auto it = model.rbegin(); it != model.rend(); ++it) {
    ASSERT_TRUE(iter.Valid());
    ASSERT_EQ(iter.key(), *it);
    iter.Prev();
  }
  EXPECT_FALSE(iter.Valid());

  for (int i = 0; i < 1000; i++) {
    Key target = rnd.Uniform(20010);
    auto expected = model.lower_bound(target);
    iter.Seek(target);
    ASSERT_EQ(iter.Valid(), expected != model.end()) << target;
    if (iter.Valid()) {
      EXPECT_EQ(iter.key(), *expected);
    }
  }
}

// Inserts that start from the last one (ascending runs, runs in a gap just
// after it, sorted batches with any climb limit) interleaved with random keys
// and descending ones still leave every level sorted and complete: a full
// scan, every lookup and every Seek agree with std::set.
TEST(SkipListTest, InsertsFromTheLastInsertKeepTheListSorted) {
  Random rnd(TestSeed());
  Arena arena;
  List list(Compare(), &arena);
  std::set<Key> model;
  auto insert = [&](Key k, int climb) {
    if (model.insert(k).second) list.Insert(k, climb);
  };
  for (int round = 0; round < 200; round++) {
    const Key base = rnd.Uniform(1 << 20) * 16;
    switch (rnd.Uniform(4)) {
      case 0:  // an ascending run (a sequential load)
        for (Key k = base; k < base + 40; k += 1 + rnd.Uniform(3)) insert(k, 2);
        break;
      case 1: {  // a sorted batch, climbing as far as needed
        std::vector<Key> batch;
        for (int i = 0; i < 50; i++) batch.push_back(rnd.Uniform(1 << 24));
        std::sort(batch.begin(), batch.end());
        for (Key k : batch) insert(k, List::kMaxHeight);
        break;
      }
      case 2:  // descending: never after the last insert
        for (Key k = base + 30; k > base; k -= 1 + rnd.Uniform(3)) insert(k, 2);
        break;
      default:  // random keys with random climb limits
        for (int i = 0; i < 30; i++)
          insert(rnd.Uniform(1 << 24), static_cast<int>(rnd.Uniform(13)));
        break;
    }
  }
  ExpectSameKeys(list, model);
  List::Iterator iter(&list);
  for (int i = 0; i < 3000; i++) {
    const Key target = rnd.Uniform(1 << 24);
    ASSERT_EQ(list.Contains(target), model.count(target) == 1) << target;
    auto expected = model.lower_bound(target);
    iter.Seek(target);
    ASSERT_EQ(iter.Valid(), expected != model.end()) << target;
    if (iter.Valid()) ASSERT_EQ(iter.key(), *expected);
  }
}

// One writer inserts while readers scan. Each reader checks that a scan is
// strictly increasing, holds only keys that were inserted, and contains every
// key whose insertion had finished before the scan started.
TEST(SkipListTest, ConcurrentReadersSeeSortedSupersetOfEarlierInserts) {
  Random rnd(TestSeed());
  constexpr size_t kKeys = 50000;
  std::vector<Key> keys;
  std::set<Key> all;
  while (keys.size() < kKeys) {
    Key k = rnd.Next64() >> 1;
    if (all.insert(k).second) keys.push_back(k);
  }

  Arena arena;
  List list(Compare(), &arena);
  std::atomic<size_t> inserted{0};
  std::atomic<bool> failed{false};

  auto reader = [&] {
    while (inserted.load(std::memory_order_acquire) < kKeys && !failed) {
      size_t before = inserted.load(std::memory_order_acquire);
      std::vector<Key> expected(keys.begin(), keys.begin() + before);
      std::sort(expected.begin(), expected.end());
      std::vector<Key> seen;
      List::Iterator iter(&list);
      for (iter.SeekToFirst(); iter.Valid(); iter.Next()) {
        if ((!seen.empty() && seen.back() >= iter.key()) || all.count(iter.key()) == 0) {
          failed = true;
        }
        seen.push_back(iter.key());
      }
      if (!std::includes(seen.begin(), seen.end(), expected.begin(), expected.end())) {
        failed = true;
      }
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; i++) readers.emplace_back(reader);
  for (size_t i = 0; i < kKeys; i++) {
    list.Insert(keys[i]);
    inserted.store(i + 1, std::memory_order_release);
  }
  for (auto& t : readers) t.join();
  EXPECT_FALSE(failed);

  List::Iterator iter(&list);
  size_t n = 0;
  for (iter.SeekToFirst(); iter.Valid(); iter.Next()) n++;
  EXPECT_EQ(n, kKeys);
}

}  // namespace
}  // namespace lightning
