#include "lightning/util/arena.h"

#include <cassert>
#include <cstdint>

namespace lightning {

char* Arena::Allocate(size_t bytes) {
  assert(bytes > 0);
  if (bytes <= alloc_bytes_remaining_) {
    char* result = alloc_ptr_;
    alloc_ptr_ += bytes;
    alloc_bytes_remaining_ -= bytes;
    return result;
  }
  return AllocateFallback(bytes);
}

char* Arena::AllocateAligned(size_t bytes) {
  constexpr size_t kAlign = alignof(std::max_align_t) > 8 ? alignof(std::max_align_t) : 8;
  size_t mod = reinterpret_cast<uintptr_t>(alloc_ptr_) & (kAlign - 1);
  size_t slop = mod == 0 ? 0 : kAlign - mod;
  if (bytes + slop <= alloc_bytes_remaining_) {
    char* result = alloc_ptr_ + slop;
    alloc_ptr_ += bytes + slop;
    alloc_bytes_remaining_ -= bytes + slop;
    return result;
  }
  return AllocateFallback(bytes);  // new blocks are aligned by operator new[]
}

char* Arena::AllocateFallback(size_t bytes) {
  // A large object gets its own block so the current block's tail is not wasted.
  if (bytes > kBlockBytes / 4) return NewBlock(bytes);
  alloc_ptr_ = NewBlock(kBlockBytes);
  alloc_bytes_remaining_ = kBlockBytes - bytes;
  char* result = alloc_ptr_;
  alloc_ptr_ += bytes;
  return result;
}

char* Arena::NewBlock(size_t bytes) {
  blocks_.push_back(std::make_unique_for_overwrite<char[]>(bytes));  // not zeroed
  memory_usage_.fetch_add(bytes + sizeof(char*), std::memory_order_relaxed);
  return blocks_.back().get();
}

}  // namespace lightning
