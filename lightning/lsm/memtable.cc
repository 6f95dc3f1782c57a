#include "lightning/lsm/memtable.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <utility>

#include "lightning/db/write_batch_internal.h"
#include "lightning/util/bloom.h"
#include "lightning/util/coding.h"

namespace lightning {
namespace {

// The value that follows an entry's internal key.
std::string_view EntryValue(std::string_view internal_key) {
  return LengthPrefixedAt(internal_key.data() + internal_key.size());
}

// The filter's layout is a table filter's (util/bloom.h), in atomic words.
constexpr int kFilterProbes = kMaxBloomProbes;
constexpr size_t kFilterLineWords = kBloomLineBytes / 8;

}  // namespace

MemTable::MemTable(size_t budget_bytes)
    : table_(KeyComparator(), &arena_),
      filter_lines_(
          std::max<size_t>(1, budget_bytes / 6400)),  // 512 bits per 6,400 bytes: ~8 bits per 100
      filter_(std::make_unique<std::atomic<uint64_t>[]>(filter_lines_ * kFilterLineWords)) {}

std::atomic<uint64_t>* MemTable::FilterLine(uint64_t h) const {
  return &filter_[BloomLine(h, filter_lines_) * kFilterLineWords];
}

bool MemTable::MayContain(std::string_view user_key) const {
  const uint64_t h = BloomHash(user_key);
  const std::atomic<uint64_t>* line = FilterLine(h);
  for (int i = 0; i < kFilterProbes; i++) {
    const uint32_t bit = BloomBit(h, i);
    if ((line[bit / 64].load(std::memory_order_relaxed) & (uint64_t{1} << (bit % 64))) == 0) {
      return false;
    }
  }
  return true;
}

char* MemTable::Encode(SequenceNumber seq, ValueType type, std::string_view user_key,
                       std::string_view value) {
  assert(seq <= kMaxSequenceNumber && value.size() <= UINT32_MAX);
  size_t key_bytes = user_key.size() + kTagBytes;
  size_t entry_bytes =
      VarintLength(key_bytes) + key_bytes + VarintLength(value.size()) + value.size();
  char* entry = arena_.Allocate(entry_bytes);
  char* p = EncodeVarint32(entry, static_cast<uint32_t>(key_bytes));
  std::memcpy(p, user_key.data(), user_key.size());
  p += user_key.size();
  EncodeFixed64(p, PackTag(seq, type));
  p = EncodeVarint32(p + kTagBytes, static_cast<uint32_t>(value.size()));
  std::memcpy(p, value.data(), value.size());
  assert(p + value.size() == entry + entry_bytes);
  // The filter's bits before the entry is linked in (see memtable.h).
  const uint64_t h = BloomHash(user_key);
  std::atomic<uint64_t>* line = FilterLine(h);
  for (int i = 0; i < kFilterProbes; i++) {
    const uint32_t bit = BloomBit(h, i);
    // One writer at a time: a plain load and store, no locked instruction.
    std::atomic<uint64_t>& word = line[bit / 64];
    word.store(word.load(std::memory_order_relaxed) | (uint64_t{1} << (bit % 64)),
               std::memory_order_relaxed);
  }
  return entry;
}

void MemTable::Add(SequenceNumber seq, ValueType type, std::string_view user_key,
                   std::string_view value) {
  table_.Insert(Encode(seq, type, user_key, value));
}

// Encodes every operation of a batch into `entries` (room for the batch's
// count); Insert links them in only if the whole batch parsed.
class MemTable::Inserter : public WriteBatch::Handler {
 public:
  Inserter(MemTable* table, SequenceNumber seq, const char** entries, size_t capacity)
      : table_(table), seq_(seq), entries_(entries), capacity_(capacity) {}
  void Put(std::string_view key, std::string_view value) override {
    Keep(table_->Encode(seq_++, kTypeValue, key, value));
  }
  void Delete(std::string_view key) override {
    Keep(table_->Encode(seq_++, kTypeDeletion, key, ""));
  }
  size_t size() const { return size_; }

 private:
  void Keep(const char* entry) {
    if (size_ < capacity_) entries_[size_++] = entry;  // a well-formed batch always fits
  }
  MemTable* const table_;
  SequenceNumber seq_;
  const char** const entries_;
  const size_t capacity_;
  size_t size_ = 0;
};

Status MemTable::Insert(const WriteBatch& batch) {
  // Every record takes at least two bytes; a larger count is a malformed
  // batch (Iterate rejects it) and must not drive an allocation.
  const size_t count =
      std::min<size_t>(WriteBatchInternal::Count(&batch), WriteBatchInternal::ByteSize(&batch) / 2);
  const char* small[kSortedBatchEntries];
  std::vector<const char*> large;
  if (count > kSortedBatchEntries) large.resize(count);
  const char** entries = count > kSortedBatchEntries ? large.data() : small;
  Inserter inserter(this, WriteBatchInternal::Sequence(&batch), entries,
                    std::max(count, kSortedBatchEntries));
  Status s = batch.Iterate(&inserter);
  if (!s.ok()) return s;
  const size_t n = inserter.size();
  if (n >= kSortedBatchEntries) {
    // A big batch goes in sorted: each insert starts from the one before, a
    // short walk through nodes still in the CPU cache.
    std::sort(entries, entries + n,
              [cmp = KeyComparator()](const char* a, const char* b) { return cmp(a, b) < 0; });
    for (size_t i = 0; i < n; i++) table_.Insert(entries[i], Table::kMaxHeight);
  } else {
    for (size_t i = 0; i < n; i++) table_.Insert(entries[i]);
  }
  return s;
}

bool MemTable::Get(const LookupKey& lookup, std::string* value, Status* s) const {
  // A fresh memtable (after every switch, and while a read-mostly load runs)
  // is empty: its filter would cost a cache miss to say so.
  if (Empty() || !MayContain(lookup.user_key())) return false;
  Table::Iterator iter(&table_);
  iter.Seek(lookup.memtable_key().data());
  if (!iter.Valid()) return false;
  // The seek landed on the newest version at or below the lookup sequence,
  // or on a later user key.
  std::string_view internal_key = LengthPrefixedAt(iter.key());
  if (ExtractUserKey(internal_key) != lookup.user_key()) return false;
  if ((ExtractTag(internal_key) & 0xff) == kTypeDeletion) {
    *s = Status::NotFound("deleted");
  } else {
    value->assign(EntryValue(internal_key));
    *s = Status::OK();
  }
  return true;
}

bool MemTable::Empty() const {
  Table::Iterator iter(&table_);
  iter.SeekToFirst();
  return !iter.Valid();
}

// Holds a reference to the table so that its arena outlives the iterator.
class MemTable::Iterator final : public InternalIterator {
 public:
  explicit Iterator(std::shared_ptr<const MemTable> table)
      : table_(std::move(table)), iter_(&table_->table_) {}

  bool Valid() const override { return iter_.Valid(); }
  void SeekToFirst() override { iter_.SeekToFirst(); }
  void SeekToLast() override { iter_.SeekToLast(); }
  void Seek(std::string_view target) override {
    seek_key_.clear();
    PutLengthPrefixed(&seek_key_, target);
    iter_.Seek(seek_key_.data());
  }
  void Next() override { iter_.Next(); }
  void Prev() override { iter_.Prev(); }
  std::string_view key() const override { return LengthPrefixedAt(iter_.key()); }
  std::string_view value() const override { return EntryValue(key()); }
  Status status() const override { return Status::OK(); }

 private:
  std::shared_ptr<const MemTable> table_;
  Table::Iterator iter_;
  std::string seek_key_;  // the varint-prefixed form the skiplist compares
};

InternalIterator* MemTable::NewIterator() const { return new Iterator(shared_from_this()); }

}  // namespace lightning
