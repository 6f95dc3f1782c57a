// fuzz_filter_block: libFuzzer target for the bloom filter reader,
// BloomMayContain (lightning/util/bloom.h), and its builder.
//
// Input: the first byte b splits the input: the next min(b, size - 1) bytes
// are a list of probe keys separated by '\n', and the rest is a filter block
// as a table stores it (64-byte lines then num_probes). Each key is probed.
//
// What must hold, for any bytes:
//  - no crash, no sanitizer report, never a read outside the filter;
//  - a filter whose size is not 64n+1 (n >= 1), or whose probe count is
//    outside [1, kMaxBloomProbes], answers "may contain" for every key
//    (damage costs a block read, never a wrong answer);
//  - no false negatives: a filter built from the probe keys (with a bits per
//    key taken from the input) contains every one of them, whether built from
//    the keys or from their BloomHash values, and both builds are identical.
//
// Thread safety: libFuzzer calls this from one thread.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/util/bloom.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t keys_bytes = std::min<size_t>(data[0], size - 1);
  std::string_view key_list = input.substr(1, keys_bytes);
  const std::string_view filter = input.substr(1 + keys_bytes);

  std::vector<std::string_view> keys;
  while (true) {
    const size_t nl = key_list.find('\n');
    keys.push_back(key_list.substr(0, nl));
    if (nl == std::string_view::npos) break;
    key_list.remove_prefix(nl + 1);
  }

  const bool degenerate = filter.size() < lightning::kBloomLineBytes + 1 ||
                          (filter.size() - 1) % lightning::kBloomLineBytes != 0 ||
                          static_cast<unsigned char>(filter.back()) < 1 ||
                          static_cast<unsigned char>(filter.back()) > lightning::kMaxBloomProbes;
  for (std::string_view key : keys) {
    const bool may = lightning::BloomMayContain(filter, key);
    if (degenerate && !may) abort();
  }

  // No false negatives in a filter built from the keys.
  const int bits_per_key = 1 + (filter.empty() ? 0 : static_cast<unsigned char>(filter[0]) % 24);
  const std::string built = lightning::BuildBloomFilter(keys, bits_per_key);
  std::vector<uint64_t> hashes;
  for (std::string_view key : keys) hashes.push_back(lightning::BloomHash(key));
  if (lightning::BuildBloomFilterFromHashes(hashes, bits_per_key) != built) abort();
  for (std::string_view key : keys) {
    if (!lightning::BloomMayContain(built, key)) abort();
  }
  return 0;
}
