// fuzz_data_block: libFuzzer target for Block (lightning/table/block.h), the
// parser and iterator of a table's data blocks (layout in block_builder.h).
//
// Input: the whole input is the uncompressed contents of one block, given to
// Block::Parse; the iterator uses the internal key order, as tables do. Seek
// targets are taken from the input too: its first byte picks how many, and
// they are cut from the block's own bytes (padded to an internal key's 8-byte
// tag, the shortest key the comparator may be given).
//
// What must hold, for any bytes:
//  - no crash, no sanitizer report; Parse and the iterator return OK or
//    Corruption, never anything else;
//  - differential check against a reference decoder written here from the
//    grammar alone: a forward walk returns exactly the entries the reference
//    decodes, and ends with Corruption exactly when the reference finds a
//    malformed entry;
//  - when the block is well formed (every entry decodes, every restart point
//    is the start of an entry with no shared prefix), a backward walk returns
//    the same entries in reverse with status OK;
//  - when, in addition, the keys are in order, Seek(k) lands on the first
//    entry >= k for every key in the block and for every target from the input.
//
// Thread safety: libFuzzer calls this from one thread.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightning/lsm/dbformat.h"
#include "lightning/status.h"
#include "lightning/table/block.h"
#include "lightning/util/coding.h"
#include "lightning/util/internal_iterator.h"

namespace {

using lightning::Block;
using lightning::InternalIterator;
using Entry = std::pair<std::string, std::string>;

// The block as the grammar in block_builder.h reads it, decoded independently
// of block.cc.
struct Reference {
  std::vector<Entry> entries;    // the decodable prefix, in block order
  bool malformed = false;        // an entry failed to decode
  bool restarts_aligned = true;  // every restart starts an entry with shared == 0
};

Reference DecodeReference(std::string_view block) {
  Reference ref;
  const uint32_t num_restarts = lightning::DecodeFixed32(block.data() + block.size() - 4);
  const size_t restarts_offset = block.size() - 4 * (size_t{num_restarts} + 1);
  std::set<uint32_t> restarts;
  for (uint32_t i = 0; i < num_restarts; i++) {
    restarts.insert(lightning::DecodeFixed32(block.data() + restarts_offset + 4 * i));
  }
  const char* const base = block.data();
  const char* const limit = base + restarts_offset;
  std::string key;
  std::set<uint32_t> clean_starts;  // entry offsets with shared == 0
  for (const char* p = base; p < limit;) {
    const uint32_t offset = static_cast<uint32_t>(p - base);
    uint32_t shared, non_shared, value_size;
    const char* q = lightning::DecodeVarint32(p, limit, &shared);
    if (q != nullptr) q = lightning::DecodeVarint32(q, limit, &non_shared);
    if (q != nullptr) q = lightning::DecodeVarint32(q, limit, &value_size);
    if (q == nullptr || uint64_t{non_shared} + value_size > static_cast<uint64_t>(limit - q) ||
        shared > key.size() || uint64_t{shared} + non_shared < lightning::kTagBytes) {
      ref.malformed = true;
      break;
    }
    if (shared == 0) clean_starts.insert(offset);
    key.resize(shared);
    key.append(q, non_shared);
    ref.entries.emplace_back(key, std::string(q + non_shared, value_size));
    p = q + non_shared + value_size;
  }
  for (uint32_t r : restarts) {
    if (clean_starts.count(r) == 0) ref.restarts_aligned = false;
  }
  return ref;
}

void CheckStatus(const lightning::Status& s) {
  if (!s.ok() && !s.IsCorruption()) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::shared_ptr<const Block> block;
  const lightning::Status parsed = Block::Parse(std::string(input), "fuzz.ldb", 0, &block);
  CheckStatus(parsed);
  if (!parsed.ok()) return 0;

  const lightning::Comparator* cmp = lightning::GetInternalKeyComparator();
  const Reference ref = DecodeReference(input);
  std::unique_ptr<InternalIterator> it(block->NewIterator(block, cmp));

  // Forward walk: exactly the reference's entries, then Corruption iff malformed.
  std::vector<Entry> forward;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    forward.emplace_back(it->key(), it->value());
    if (forward.size() > ref.entries.size()) abort();
  }
  CheckStatus(it->status());
  if (forward != ref.entries) abort();
  if (ref.malformed != !it->status().ok()) abort();

  const bool well_formed = !ref.malformed && ref.restarts_aligned;
  // Backward walk. Whatever the bytes it must stay in bounds; on a well-formed
  // block it is the forward walk reversed.
  std::unique_ptr<InternalIterator> back(block->NewIterator(block, cmp));
  std::vector<Entry> backward;
  for (back->SeekToLast(); back->Valid(); back->Prev()) {
    backward.emplace_back(back->key(), back->value());
    // Each Prev lands strictly earlier in the block, so a walk is finite.
    if (backward.size() > size) abort();
  }
  CheckStatus(back->status());
  if (well_formed) {
    if (!back->status().ok()) abort();
    if (std::vector<Entry>(backward.rbegin(), backward.rend()) != forward) abort();
  }

  bool sorted = well_formed;
  for (size_t i = 1; sorted && i < forward.size(); i++) {
    sorted = cmp->Compare(forward[i - 1].first, forward[i].first) <= 0;
  }
  // Seek targets: every key in the block, then slices of the input.
  std::vector<std::string> targets;
  for (const Entry& e : forward) targets.push_back(e.first);
  const size_t num_cut = size > 0 ? data[0] % 8 : 0;
  for (size_t i = 0; i < num_cut && size > 0; i++) {
    const size_t start = (data[i % size] * 131u + i) % size;
    const size_t len = std::min<size_t>(size - start, data[(i + 1) % size] % 24);
    std::string t(input.substr(start, len));
    if (t.size() < lightning::kTagBytes) t.append(lightning::kTagBytes - t.size(), '\0');
    targets.push_back(std::move(t));
  }
  for (const std::string& target : targets) {
    std::unique_ptr<InternalIterator> seek(block->NewIterator(block, cmp));
    seek->Seek(target);
    CheckStatus(seek->status());
    if (!sorted) continue;
    size_t expected = 0;
    while (expected < forward.size() && cmp->Compare(forward[expected].first, target) < 0) {
      expected++;
    }
    if (!seek->status().ok()) abort();
    if (expected == forward.size()) {
      if (seek->Valid()) abort();
    } else {
      if (!seek->Valid() || seek->key() != forward[expected].first ||
          seek->value() != forward[expected].second) {
        abort();
      }
      // Stepping on from a Seek continues the forward order.
      seek->Next();
      if (expected + 1 < forward.size() &&
          (!seek->Valid() || seek->key() != forward[expected + 1].first)) {
        abort();
      }
    }
  }
  return 0;
}
