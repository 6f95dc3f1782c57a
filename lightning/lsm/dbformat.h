// Internal keys: how the LSM orders every version of every user key.
//
//   internal_key := user_key tag:fixed64
//   tag          := (sequence << 8) | type
//
// Internal keys sort by user key ascending (bytewise), then by sequence
// descending, then by type descending, so the newest version of a key comes
// first and a lookup for (key, snapshot sequence) seeks straight to the newest
// version visible at that snapshot. A deletion is a tombstone entry of type
// kTypeDeletion, never a magic value.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "lightning/util/coding.h"
#include "lightning/util/comparator.h"

namespace lightning {

using SequenceNumber = uint64_t;

// The top 8 bits of the tag hold the type, so sequences fit in 56 bits.
inline constexpr SequenceNumber kMaxSequenceNumber = (1ull << 56) - 1;
inline constexpr size_t kTagBytes = 8;

enum ValueType : unsigned char {
  kTypeDeletion = 0x0,
  kTypeValue = 0x1,
};
// Seeks use the highest type so that (key, seq, kValueTypeForSeek) sorts
// before every entry of `key` with that sequence.
inline constexpr ValueType kValueTypeForSeek = kTypeValue;

inline bool IsValidValueType(unsigned char t) { return t <= kTypeValue; }

inline uint64_t PackTag(SequenceNumber seq, ValueType t) { return (seq << 8) | t; }

inline void AppendInternalKey(std::string* dst, std::string_view user_key, SequenceNumber seq,
                              ValueType t) {
  dst->append(user_key.data(), user_key.size());
  PutFixed64(dst, PackTag(seq, t));
}

// REQUIRES: internal_key.size() >= kTagBytes (checked by ParseInternalKey for
// untrusted bytes).
inline std::string_view ExtractUserKey(std::string_view internal_key) {
  return internal_key.substr(0, internal_key.size() - kTagBytes);
}
inline uint64_t ExtractTag(std::string_view internal_key) {
  return DecodeFixed64(internal_key.data() + internal_key.size() - kTagBytes);
}

struct ParsedInternalKey {
  std::string_view user_key;
  SequenceNumber sequence = 0;
  ValueType type = kTypeValue;
};

// False if the bytes are not an internal key (too short, unknown type).
inline bool ParseInternalKey(std::string_view internal_key, ParsedInternalKey* result) {
  if (internal_key.size() < kTagBytes) return false;
  uint64_t tag = ExtractTag(internal_key);
  unsigned char type = tag & 0xff;
  if (!IsValidValueType(type)) return false;
  result->user_key = ExtractUserKey(internal_key);
  result->sequence = tag >> 8;
  result->type = static_cast<ValueType>(type);
  return true;
}

// Orders internal keys as described above: user key ascending, then tag
// (sequence, type) descending. Inline, for the memtable's hot loop.
[[gnu::always_inline]] inline int CompareInternalKeys(std::string_view a, std::string_view b) {
  int r = ExtractUserKey(a).compare(ExtractUserKey(b));
  if (r != 0) return r;
  uint64_t ta = ExtractTag(a), tb = ExtractTag(b);
  return ta > tb ? -1 : (ta < tb ? 1 : 0);
}

// The same order behind the Comparator interface. Thread-safe.
class InternalKeyComparator final : public Comparator {
 public:
  int Compare(std::string_view a, std::string_view b) const override {
    return CompareInternalKeys(a, b);
  }
};

inline constinit const InternalKeyComparator kInternalKeyComparator;
inline const InternalKeyComparator* GetInternalKeyComparator() { return &kInternalKeyComparator; }

// A key for looking up user_key as of `sequence`: memtable_key is the
// varint-prefixed form the memtable stores, internal_key() its tail. Keys of
// up to about 180 bytes live inline: a point read allocates nothing.
class LookupKey {
 public:
  LookupKey(std::string_view user_key, SequenceNumber sequence) {
    const size_t internal_bytes = user_key.size() + kTagBytes;
    const size_t needed = kMaxVarint32Bytes + internal_bytes;
    char* p =
        needed <= sizeof(inline_) ? inline_ : (heap_ = std::make_unique<char[]>(needed)).get();
    start_ = p;
    p = EncodeVarint32(p, static_cast<uint32_t>(internal_bytes));
    internal_start_ = p;
    if (!user_key.empty()) std::memcpy(p, user_key.data(), user_key.size());
    EncodeFixed64(p + user_key.size(), PackTag(sequence, kValueTypeForSeek));
    end_ = p + internal_bytes;
  }
  LookupKey(const LookupKey&) = delete;
  LookupKey& operator=(const LookupKey&) = delete;

  std::string_view memtable_key() const { return {start_, static_cast<size_t>(end_ - start_)}; }
  std::string_view internal_key() const {
    return {internal_start_, static_cast<size_t>(end_ - internal_start_)};
  }
  std::string_view user_key() const { return ExtractUserKey(internal_key()); }

 private:
  const char* start_;
  const char* internal_start_;
  const char* end_;
  std::unique_ptr<char[]> heap_;  // when the key does not fit inline_
  char inline_[200];
};

}  // namespace lightning
