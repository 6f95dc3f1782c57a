// Bloom filter over a set of keys: a compact summary that answers "definitely
// absent" or "may be present", so a table lookup can skip reading a data block.
//
//   filter := bits:uint8[m/8] num_probes:uint8
//
// Each key is hashed once (Hash, seed kBloomHashSeed) and probed num_probes
// times by double hashing (h, h + delta, h + 2*delta, ...; delta is h rotated
// by 15 bits). No false negatives; about 1% false positives at 10 bits per key.
// A filter that is empty, or whose probe count is outside [1, kMaxBloomProbes],
// answers "may contain", so damage costs a block read, never a wrong answer.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lightning {

inline constexpr int kMaxBloomProbes = 30;
inline constexpr uint32_t kBloomHashSeed = 0xbc9f1d34u;

// The hash BuildBloomFilterFromHashes expects for each key.
uint32_t BloomHash(std::string_view key);

// REQUIRES: bits_per_key > 0.
std::string BuildBloomFilter(const std::vector<std::string_view>& keys, int bits_per_key);
// Same filter, from BloomHash values (lets a builder keep 4 bytes per key).
std::string BuildBloomFilterFromHashes(const std::vector<uint32_t>& hashes, int bits_per_key);

// False only if `key` was certainly not among the keys the filter was built from.
bool BloomMayContain(std::string_view filter, std::string_view key);

}  // namespace lightning
