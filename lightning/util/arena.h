// Arena: bump allocation for the memtable, freed all at once.
//
// Allocations are never freed individually; the arena releases everything in
// its destructor. MemoryUsage() may be read from other threads (it is what
// decides when a memtable is full); Allocate must be called by one thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace lightning {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // REQUIRES: bytes > 0. The memory is uninitialized.
  char* Allocate(size_t bytes);
  // Aligned for any pointer-sized object (skiplist nodes hold atomic pointers).
  char* AllocateAligned(size_t bytes);

  size_t MemoryUsage() const { return memory_usage_.load(std::memory_order_relaxed); }

 private:
  // Small blocks keep MemoryUsage() close to what is used, which is what
  // decides when a (possibly small) memtable is full.
  static constexpr size_t kBlockBytes = 4096;

  char* AllocateFallback(size_t bytes);
  char* NewBlock(size_t bytes);

  char* alloc_ptr_ = nullptr;
  size_t alloc_bytes_remaining_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::atomic<size_t> memory_usage_{0};
};

}  // namespace lightning
