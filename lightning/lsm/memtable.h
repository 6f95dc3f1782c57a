// MemTable: the newest writes, sorted in memory until they are flushed to a
// level-0 table.
//
// Every write is an entry (internal key, value) in a skiplist whose nodes and
// bytes live in an arena, so the memtable's memory is freed all at once when
// the last reference (the DB, a flush, an iterator) drops it:
//   entry := internal_key_len:varint32 internal_key value_len:varint32 value
// Entries are ordered by InternalKeyComparator: user key ascending, newest
// version first. A small blocked Bloom filter over the user keys (one 64-byte
// line per key, about 1% of the memtable's budget) lets a Get for a key the
// memtable does not hold (most Gets, once data lives in tables) skip the
// skiplist search and its cache misses. It never says "absent" for a key
// that was added.
//
// Thread safety: one writer at a time (Add, Insert), concurrent with any
// number of readers (Get, iterators, ApproximateMemoryUsage) without locks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/lsm/dbformat.h"
#include "lightning/lsm/skiplist.h"
#include "lightning/status.h"
#include "lightning/util/arena.h"
#include "lightning/util/internal_iterator.h"
#include "lightning/write_batch.h"

namespace lightning {

// The varint32-length-prefixed bytes at p (an arena entry's internal key, or
// the value after it). Entries are built by the memtable, so they are
// trusted: the limit only bounds the varint.
inline std::string_view LengthPrefixedAt(const char* p) {
  uint32_t len = 0;
  p = DecodeVarint32(p, p + kMaxVarint32Bytes, &len);
  return std::string_view(p, len);
}

class MemTable : public std::enable_shared_from_this<MemTable> {
 public:
  // `budget_bytes` (write_buffer_bytes) sizes the filter; any value works.
  explicit MemTable(size_t budget_bytes = 4 << 20);
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  // REQUIRES: (user_key, seq) is not in the table yet; one writer at a time.
  void Add(SequenceNumber seq, ValueType type, std::string_view user_key, std::string_view value);
  // Adds the batch's i-th operation with sequence Sequence(batch) + i.
  // Corruption (and nothing added) if the batch is malformed.
  Status Insert(const WriteBatch& batch);

  // Looks up the newest version of lookup.user_key() at or below its sequence.
  // Returns true if there is one: a value (*s = OK, *value set) or a tombstone
  // (*s = NotFound). Returns false if the table knows nothing of the key.
  bool Get(const LookupKey& lookup, std::string* value, Status* s) const;

  // Every entry: key() is the internal key, value() the value. The iterator
  // keeps the table alive. REQUIRES: the table is held by a std::shared_ptr.
  InternalIterator* NewIterator() const;

  // Bytes allocated for entries; safe to call from any thread.
  size_t ApproximateMemoryUsage() const { return arena_.MemoryUsage(); }
  bool Empty() const;

 private:
  class Iterator;

  // Orders arena entries (varint-prefixed internal keys) by internal key.
  // Inline in every search and sort of the memtable: its hottest code.
  struct KeyComparator {
    [[gnu::always_inline]] int operator()(const char* a, const char* b) const {
      return CompareInternalKeys(LengthPrefixedAt(a), LengthPrefixedAt(b));
    }
  };
  using Table = SkipList<const char*, KeyComparator>;

  // The filter line of a key's hash; probe i tests bit BloomBit(hash, i) of it.
  std::atomic<uint64_t>* FilterLine(uint64_t hash) const;
  bool MayContain(std::string_view user_key) const;
  // Writes the entry into the arena and its key into the filter; Add and
  // Insert then link it into the skiplist.
  char* Encode(SequenceNumber seq, ValueType type, std::string_view user_key,
               std::string_view value);
  class Inserter;
  // Batches with at least this many operations are inserted in key order.
  static constexpr size_t kSortedBatchEntries = 256;

  Arena arena_;
  Table table_;
  // The filter: lines of 8 words. Bits are set (relaxed) before the entry's
  // sequence is published (VersionSet::SetLastSequence, release), and a
  // reader loads that sequence (acquire) before it checks the filter, so a
  // reader that may see the entry sees its bits.
  const size_t filter_lines_;
  const std::unique_ptr<std::atomic<uint64_t>[]> filter_;
};

}  // namespace lightning
