// Bloom filter over a set of keys: a compact summary that answers "definitely
// absent" or "may be present", so a lookup can skip a search that would find
// nothing. Blocked: all of a key's probes fall in one 64-byte line, so a
// lookup costs one cache miss and no division (a classic filter spreads its
// probes over the whole array: one miss each).
//
//   filter := line:uint8[64] * n num_probes:uint8        (n >= 1)
//
// Each key is hashed once to 64 bits (BloomHash). The line is
// BloomLine(hash, n); probe i sets bit BloomBit(hash, i) (bits 9i..9i+8 of the
// hash) of the line's 512, bit b being bit b%8 of the line's byte b/8. About
// 1% false positives at 10 bits per key, and never a false negative. A filter
// whose size is not 64n+1 with n >= 1, or whose probe count is outside
// [1, kMaxBloomProbes], answers "may contain": damage costs a read, never a
// wrong answer. The memtable keeps the same layout in atomic words.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lightning {

inline constexpr size_t kBloomLineBytes = 64;
inline constexpr int kMaxBloomProbes = 6;  // 9 hash bits each, from the low 54

// The filters' hash of a key: stored on disk, so it must never change.
uint64_t BloomHash(std::string_view key);

// The line (of `num_lines` >= 1) that holds a key's probes: a multiplicative
// rehash of all 64 bits, scaled to the range without a division.
inline size_t BloomLine(uint64_t hash, size_t num_lines) {
  return static_cast<size_t>((((hash * 0x9e3779b97f4a7c15ull) >> 32) * num_lines) >> 32);
}

// Probe i's bit within the line, in [0, 512).
inline uint32_t BloomBit(uint64_t hash, int i) {
  return static_cast<uint32_t>(hash >> (9 * i)) & 511;
}

// The probe count for `bits_per_key` > 0: ln(2) * bits_per_key, clamped.
int BloomProbes(int bits_per_key);

// REQUIRES: bits_per_key > 0.
std::string BuildBloomFilter(const std::vector<std::string_view>& keys, int bits_per_key);
// Same filter, from BloomHash values (lets a builder keep 8 bytes per key).
std::string BuildBloomFilterFromHashes(const std::vector<uint64_t>& hashes, int bits_per_key);

// False only if the key whose BloomHash is `hash` was certainly not among the
// keys the filter was built from.
bool BloomMayContain(std::string_view filter, uint64_t hash);
inline bool BloomMayContain(std::string_view filter, std::string_view key) {
  return BloomMayContain(filter, BloomHash(key));
}

// Asks the CPU for the line BloomMayContain(filter, hash) will read, so that
// its cache miss overlaps other work. Never reads; any filter is fine.
void BloomPrefetch(std::string_view filter, uint64_t hash);

}  // namespace lightning
