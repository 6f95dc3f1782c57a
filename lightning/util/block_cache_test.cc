#include "lightning/util/block_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "lightning/table/block.h"
#include "lightning/table/block_builder.h"

namespace lightning {
namespace {

std::shared_ptr<const Block> EmptyBlock() {
  BlockBuilder builder(16);
  std::shared_ptr<const Block> block;
  EXPECT_TRUE(Block::Parse(std::string(builder.Finish()), "c.lt", 0, &block).ok());
  return block;
}

// Offsets that land in one shard, so per-shard LRU order is observable.
std::vector<uint64_t> SameShardOffsets(BlockCache* cache, uint64_t id, int n) {
  auto block = EmptyBlock();
  std::vector<uint64_t> offsets;
  // Probe: an entry lands in the same shard as offset 0 iff inserting it
  // with a whole shard's charge evicts offset 0.
  const size_t shard_bytes = cache->capacity_bytes() / BlockCache::kShards;
  for (uint64_t off = 1; static_cast<int>(offsets.size()) < n; off++) {
    cache->Insert(id, 0, block, shard_bytes);
    cache->Insert(id, off, block, shard_bytes);
    if (cache->Lookup(id, 0) == nullptr) offsets.push_back(off);
  }
  return offsets;
}

TEST(BlockCacheTest, HitsAndMisses) {
  BlockCache cache(1 << 20);
  const uint64_t a = cache.NewId(), b = cache.NewId();
  EXPECT_NE(a, b);
  EXPECT_EQ(cache.Lookup(a, 0), nullptr);
  auto block = EmptyBlock();
  cache.Insert(a, 0, block, 100);
  EXPECT_EQ(cache.Lookup(a, 0), block);
  EXPECT_EQ(cache.Lookup(b, 0), nullptr);  // ids keep files apart
  EXPECT_EQ(cache.Lookup(a, 1), nullptr);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 3u);
  EXPECT_EQ(cache.usage_bytes(), 100u);
  cache.Insert(a, 0, block, 60);  // replacing re-charges
  EXPECT_EQ(cache.usage_bytes(), 60u);
}

TEST(BlockCacheTest, EvictsLeastRecentlyUsed) {
  BlockCache cache(BlockCache::kShards * 300);
  const uint64_t id = cache.NewId();
  std::vector<uint64_t> off = SameShardOffsets(&cache, id, 4);
  BlockCache fresh(BlockCache::kShards * 300);
  // Offsets keep their shard across caches: shard choice is a pure hash.
  auto block = EmptyBlock();
  fresh.Insert(id, off[0], block, 100);
  fresh.Insert(id, off[1], block, 100);
  fresh.Insert(id, off[2], block, 100);
  ASSERT_NE(fresh.Lookup(id, off[0]), nullptr);  // off[1] is now least recent
  fresh.Insert(id, off[3], block, 100);
  EXPECT_EQ(fresh.Lookup(id, off[1]), nullptr);
  EXPECT_NE(fresh.Lookup(id, off[0]), nullptr);
  EXPECT_NE(fresh.Lookup(id, off[2]), nullptr);
  EXPECT_NE(fresh.Lookup(id, off[3]), nullptr);
  EXPECT_EQ(fresh.usage_bytes(), 300u);
}

TEST(BlockCacheTest, CapacityRespectedAndEvictedBlocksStayUsable) {
  BlockCache cache(BlockCache::kShards * 1000);
  const uint64_t id = cache.NewId();
  std::shared_ptr<const Block> held = EmptyBlock();
  cache.Insert(id, 0, held, 100);
  for (uint64_t off = 1; off < 2000; off++) {
    cache.Insert(id, off, EmptyBlock(), 100);
    ASSERT_LE(cache.usage_bytes(), cache.capacity_bytes());
  }
  EXPECT_GT(cache.usage_bytes(), cache.capacity_bytes() / 2);
  EXPECT_EQ(held.use_count(), 1);      // evicted: only the reader holds it
  EXPECT_EQ(held->size(), 8u);         // one restart and the count
  cache.Insert(id, 5000, held, 1001);  // larger than a shard: not cached
  EXPECT_EQ(cache.Lookup(id, 5000), nullptr);
}

TEST(BlockCacheTest, ConcurrentUse) {
  BlockCache cache(64 << 10);
  const uint64_t id = cache.NewId();
  auto block = EmptyBlock();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < 20000; i++) {
        // A hot set that fits (so there are hits however the threads are
        // scheduled) and a cold sweep that evicts.
        uint64_t off = i % 8 == 0 ? 100 + (i * 7 + t) % 1000 : (i + t) % 50;
        if (auto found = cache.Lookup(id, off)) {
          EXPECT_EQ(found, block);
        } else {
          cache.Insert(id, off, block, 100);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(cache.hits() + cache.misses(), 80000u);
  EXPECT_GT(cache.hits(), 0u);
  EXPECT_LE(cache.usage_bytes(), cache.capacity_bytes());
}

}  // namespace
}  // namespace lightning
