// BlockCache: keeps recently used table blocks (and, for the B+Tree when its
// page file cannot be memory-mapped, pages) in memory, up to a byte budget.
//
// Values are keyed by (cache id, offset); each open table or page file takes
// a fresh id from NewId() so files never collide, and one id only ever holds
// values of one type (Lookup<T> returns what Insert was given). The cache is split into kShards
// shards, each an LRU list with its own mutex and 1/kShards of the capacity,
// so concurrent readers rarely contend. Evicting a block drops only the
// cache's reference: readers hold shared_ptrs and keep using it. A block
// charged more than a shard's capacity is never cached.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace lightning {

class Block;

class BlockCache {
 public:
  static constexpr int kShards = 16;

  explicit BlockCache(size_t capacity_bytes);

  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A fresh id, never returned before by this cache.
  uint64_t NewId() { return next_id_.fetch_add(1, std::memory_order_relaxed); }

  // The cached value, or nullptr. Counts a hit or a miss; a hit makes the
  // value the most recently used of its shard.
  template <class T = Block>
  std::shared_ptr<const T> Lookup(uint64_t id, uint64_t offset) {
    return std::static_pointer_cast<const T>(LookupErased(id, offset));
  }
  // Caches `value` (replacing any value with the same key), charging
  // charge_bytes, and evicts least recently used values to stay within budget.
  void Insert(uint64_t id, uint64_t offset, std::shared_ptr<const void> value, size_t charge_bytes);
  // Drops the value with this key, if cached.
  void Erase(uint64_t id, uint64_t offset);

  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  size_t usage_bytes() const;
  size_t capacity_bytes() const { return capacity_bytes_; }

 private:
  struct Key {
    uint64_t id, offset;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    Key key;
    std::shared_ptr<const void> value;
    size_t charge_bytes;
  };
  struct Shard {
    mutable std::mutex mu;
    size_t usage_bytes = 0;  // guarded by mu
    std::list<Entry> lru;    // guarded by mu; front = most recently used
    std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index;  // guarded by mu
  };

  Shard& ShardFor(const Key& key);
  std::shared_ptr<const void> LookupErased(uint64_t id, uint64_t offset);
  // REQUIRES: shard.mu held.
  static void EraseLocked(Shard& shard, const Key& key);

  const size_t capacity_bytes_;
  const size_t shard_capacity_bytes_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
  Shard shards_[kShards];
};

}  // namespace lightning
