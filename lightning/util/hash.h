// Hash: a small, fast 32-bit non-cryptographic hash (Murmur-style mixing), used
// by bloom filters. The value is stored on disk (filters), so it must never
// change. Pure function; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lightning/util/coding.h"

namespace lightning {

inline uint32_t Hash(std::string_view data, uint32_t seed) {
  constexpr uint32_t kMul = 0xc6a4a793u;
  constexpr int kShift = 24;
  const char* p = data.data();
  const char* limit = p + data.size();
  uint32_t h = seed ^ (static_cast<uint32_t>(data.size()) * kMul);
  for (; limit - p >= 4; p += 4) {
    h += DecodeFixed32(p);
    h *= kMul;
    h ^= (h >> 16);
  }
  // Fold in the last 0-3 bytes.
  uint32_t tail = 0;
  for (int i = 0; p + i < limit; i++) tail |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  if (p < limit) {
    h += tail;
    h *= kMul;
    h ^= (h >> kShift);
  }
  return h;
}

}  // namespace lightning
