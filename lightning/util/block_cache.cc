#include "lightning/util/block_cache.h"

namespace lightning {

BlockCache::BlockCache(size_t capacity_bytes)
    : capacity_bytes_(capacity_bytes), shard_capacity_bytes_(capacity_bytes / kShards) {}

size_t BlockCache::KeyHash::operator()(const Key& k) const {
  // splitmix64's finalizer: neighbouring offsets land in unrelated shards.
  uint64_t x = k.id * 0x9e3779b97f4a7c15ull ^ k.offset;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return static_cast<size_t>(x ^ (x >> 31));
}

BlockCache::Shard& BlockCache::ShardFor(const Key& key) {
  return shards_[(KeyHash()(key) >> 32) % kShards];
}

std::shared_ptr<const void> BlockCache::LookupErased(uint64_t id, uint64_t offset) {
  const Key key{id, offset};
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  return it->second->value;
}

void BlockCache::Insert(uint64_t id, uint64_t offset, std::shared_ptr<const void> value,
                        size_t charge_bytes) {
  if (charge_bytes > shard_capacity_bytes_) return;
  const Key key{id, offset};
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  EraseLocked(shard, key);
  shard.lru.push_front(Entry{key, std::move(value), charge_bytes});
  shard.index.emplace(key, shard.lru.begin());
  shard.usage_bytes += charge_bytes;
  while (shard.usage_bytes > shard_capacity_bytes_) {
    const Entry& victim = shard.lru.back();
    shard.usage_bytes -= victim.charge_bytes;
    shard.index.erase(victim.key);
    shard.lru.pop_back();
  }
}

void BlockCache::Erase(uint64_t id, uint64_t offset) {
  const Key key{id, offset};
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  EraseLocked(shard, key);
}

void BlockCache::EraseLocked(Shard& shard, const Key& key) {
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return;
  shard.usage_bytes -= it->second->charge_bytes;
  shard.lru.erase(it->second);
  shard.index.erase(it);
}

size_t BlockCache::usage_bytes() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    total += shard.usage_bytes;
  }
  return total;
}

}  // namespace lightning
