#include "lightning/util/bloom.h"

#include <algorithm>
#include <cassert>

#include "lightning/util/hash.h"

namespace lightning {
namespace {

// Small filters have a high false-positive rate; never go below this.
constexpr size_t kMinBloomBits = 64;

uint32_t ProbeDelta(uint32_t h) { return (h >> 17) | (h << 15); }

}  // namespace

uint32_t BloomHash(std::string_view key) { return Hash(key, kBloomHashSeed); }

std::string BuildBloomFilterFromHashes(const std::vector<uint32_t>& hashes, int bits_per_key) {
  assert(bits_per_key > 0);
  // k = ln(2) * bits_per_key minimizes the false-positive rate.
  int num_probes = std::clamp(static_cast<int>(bits_per_key * 0.69), 1, kMaxBloomProbes);
  size_t bits = std::max(hashes.size() * static_cast<size_t>(bits_per_key), kMinBloomBits);
  size_t bytes = (bits + 7) / 8;
  bits = bytes * 8;

  std::string filter(bytes, '\0');
  filter.push_back(static_cast<char>(num_probes));
  for (uint32_t h : hashes) {
    const uint32_t delta = ProbeDelta(h);
    for (int i = 0; i < num_probes; i++) {
      size_t bit = h % bits;
      filter[bit / 8] |= static_cast<char>(1 << (bit % 8));
      h += delta;
    }
  }
  return filter;
}

std::string BuildBloomFilter(const std::vector<std::string_view>& keys, int bits_per_key) {
  std::vector<uint32_t> hashes;
  hashes.reserve(keys.size());
  for (std::string_view key : keys) hashes.push_back(BloomHash(key));
  return BuildBloomFilterFromHashes(hashes, bits_per_key);
}

bool BloomMayContain(std::string_view filter, std::string_view key) {
  if (filter.size() < 2) return true;
  const int num_probes = static_cast<unsigned char>(filter.back());
  if (num_probes < 1 || num_probes > kMaxBloomProbes) return true;
  const size_t bits = (filter.size() - 1) * 8;

  uint32_t h = BloomHash(key);
  const uint32_t delta = ProbeDelta(h);
  for (int i = 0; i < num_probes; i++) {
    size_t bit = h % bits;
    if ((filter[bit / 8] & (1 << (bit % 8))) == 0) return false;
    h += delta;
  }
  return true;
}

}  // namespace lightning
