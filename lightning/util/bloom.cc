#include "lightning/util/bloom.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

namespace lightning {

namespace {

// Up to 8 bytes as a little-endian integer on any machine (a plain load on
// x86 and ARM; the hash is on disk, so byte order must not change it).
uint64_t LoadLittleEndian(const char* p, size_t n) {
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

}  // namespace

// Eight bytes per step (a key of 16 bytes costs two multiplies), then a final
// mix so that every output bit depends on every input bit.
uint64_t BloomHash(std::string_view key) {
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  for (; n >= 8; p += 8, n -= 8) {
    h = (h ^ LoadLittleEndian(p, 8)) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
  }
  const uint64_t w = n > 0 ? LoadLittleEndian(p, n) : 0;
  h = (h ^ w) * 0x94d049bb133111ebull;
  return h ^ (h >> 29);
}

int BloomProbes(int bits_per_key) {
  assert(bits_per_key > 0);
  return std::clamp(static_cast<int>(bits_per_key * 0.69), 1, kMaxBloomProbes);
}

std::string BuildBloomFilterFromHashes(const std::vector<uint64_t>& hashes, int bits_per_key) {
  const int num_probes = BloomProbes(bits_per_key);
  const size_t bits = hashes.size() * static_cast<size_t>(bits_per_key);
  const size_t num_lines =
      std::max<size_t>(1, (bits + 8 * kBloomLineBytes - 1) / (8 * kBloomLineBytes));
  std::string filter(num_lines * kBloomLineBytes, '\0');
  filter.push_back(static_cast<char>(num_probes));
  for (uint64_t h : hashes) {
    char* line = filter.data() + BloomLine(h, num_lines) * kBloomLineBytes;
    for (int i = 0; i < num_probes; i++) {
      const uint32_t bit = BloomBit(h, i);
      line[bit / 8] = static_cast<char>(line[bit / 8] | (1 << (bit % 8)));
    }
  }
  return filter;
}

std::string BuildBloomFilter(const std::vector<std::string_view>& keys, int bits_per_key) {
  std::vector<uint64_t> hashes;
  hashes.reserve(keys.size());
  for (std::string_view key : keys) hashes.push_back(BloomHash(key));
  return BuildBloomFilterFromHashes(hashes, bits_per_key);
}

namespace {

// The number of lines of a well-formed filter, else 0.
size_t NumLines(std::string_view filter) {
  if (filter.size() < kBloomLineBytes + 1 || (filter.size() - 1) % kBloomLineBytes != 0) return 0;
  return (filter.size() - 1) / kBloomLineBytes;
}

}  // namespace

void BloomPrefetch(std::string_view filter, uint64_t hash) {
  const size_t num_lines = NumLines(filter);
  if (num_lines > 0)
    __builtin_prefetch(filter.data() + BloomLine(hash, num_lines) * kBloomLineBytes);
}

bool BloomMayContain(std::string_view filter, uint64_t hash) {
  const size_t num_lines = NumLines(filter);
  if (num_lines == 0) return true;
  const int num_probes = static_cast<unsigned char>(filter.back());
  if (num_probes < 1 || num_probes > kMaxBloomProbes) return true;
  const char* line = filter.data() + BloomLine(hash, num_lines) * kBloomLineBytes;
  for (int i = 0; i < num_probes; i++) {
    const uint32_t bit = BloomBit(hash, i);
    if ((line[bit / 8] & (1 << (bit % 8))) == 0) return false;
  }
  return true;
}

}  // namespace lightning
